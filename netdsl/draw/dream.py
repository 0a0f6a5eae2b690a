"""`netdsl dream`: what a filter sees (seed 001, sections 3 and 4.1).

Feature visualization: gradient ascent on the input, from faint noise, to the input that most excites one
filter of a layer (its unit at the centre of the map; one unit of a vector layer), kept natural by the usual
regularizers:
L2 decay of the input, a small blur every few steps, and a random jitter (roll) before every step.
Deep Dream: gradient ascent on a real image of the squared activations of a whole layer, first through
coarse pixel blocks (octaves), then finer ones, so large patterns grow before the fine detail.
The network's input size is fixed, so an octave smooths the gradient over f x f blocks instead of resizing
the image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import numpy as np

MAX_FILTERS = 64  # a grid draws at most this many filters


@dataclass(frozen=True)
class Ascent:
    """The settings of one gradient ascent."""

    steps: int = 120
    rate: float = 0.05  # each step moves the input by rate x (gradient / its mean magnitude)
    decay: float = 0.01  # L2 decay: the input shrinks by this fraction every step
    blur_every: int = 4  # a 3x3 binomial blur every this many steps (0: never)
    jitter: int = 1  # pixels the input rolls by at most, at random, before each step
    seed: int = 0


class DreamError(ValueError):
    """A layer or filter dream cannot use: one line."""


def blur(x: np.ndarray) -> np.ndarray:
    """A 3x3 binomial blur ([1, 2, 1] / 4 on each spatial axis) of N x C x H x W, edges repeated."""
    for axis in (2, 3):
        padded = np.concatenate([np.take(x, [0], axis), x, np.take(x, [-1], axis)], axis)
        size = x.shape[axis]
        x = (
            np.take(padded, range(size), axis)
            + 2 * np.take(padded, range(1, size + 1), axis)
            + np.take(padded, range(2, size + 2), axis)
        ) / 4
    return x


def block_mean(x: np.ndarray, factor: int) -> np.ndarray:
    """x (N x C x H x W) averaged over factor x factor pixel blocks, each block filled with its mean."""
    if factor == 1:
        return x
    n, c, h, w = x.shape
    bh, bw = -(-h // factor), -(-w // factor)
    padded = np.pad(x, ((0, 0), (0, 0), (0, bh * factor - h), (0, bw * factor - w)), mode="edge")
    means = padded.reshape(n, c, bh, factor, bw, factor).mean(axis=(3, 5))
    return np.repeat(np.repeat(means, factor, axis=2), factor, axis=3)[:, :, :h, :w]


def filter_objective(index: int) -> Callable[[np.ndarray], np.ndarray]:
    """The gradient of filter `index`'s response at the centre of its map (or of unit `index` of a vector
    layer): the centre unit sees one receptive field, so even a linear first layer draws its pattern there."""

    def dout(activation: np.ndarray) -> np.ndarray:
        grad = np.zeros_like(activation)
        centre = tuple(size // 2 for size in activation.shape[2:])
        grad[(slice(None), index, *centre)] = 1.0
        return grad

    return dout


def dream_objective(activation: np.ndarray) -> np.ndarray:
    """The gradient of half the squared activations of the whole layer (Deep Dream)."""
    return activation


def ascend(model, x: np.ndarray, layer: str, dout, settings: Ascent, factor: int = 1) -> np.ndarray:
    """`settings.steps` steps of regularized gradient ascent on x (1 x C x H x W) of sum(dout(A) * A)."""
    rng = np.random.default_rng(settings.seed)
    x = x.astype(np.float64).copy()
    for step in range(settings.steps):
        dy, dx = rng.integers(-settings.jitter, settings.jitter + 1, size=2) if settings.jitter else (0, 0)
        grad, _ = model.executor.input_gradient(np.roll(x, (dy, dx), axis=(2, 3)), dout, layer)
        grad = block_mean(np.roll(np.asarray(grad, np.float64), (-dy, -dx), axis=(2, 3)), factor)
        x += settings.rate * grad / (np.abs(grad).mean() + 1e-12)
        x *= 1 - settings.decay
        if settings.blur_every and (step + 1) % settings.blur_every == 0:
            x = blur(x)
    return x


def channels_of(model, layer: str) -> int:
    """The number of filters (channels, or units of a vector layer) of `layer`."""
    return model.graph[layer].shape[0]


def check_image_network(model) -> None:
    if model.tokens is not None or len(model.input_shape) != 3:
        kind = "token ids" if model.tokens is not None else f"inputs of shape {tuple(model.input_shape)}"
        raise DreamError(f"dream draws inputs of image networks (C x H x W); {model.name} takes {kind}")


def visualize_filter(model, layer: str, index: int, settings: Ascent = Ascent()) -> np.ndarray:
    """The input (C x H x W) that most excites filter `index` of `layer`, from faint seeded noise."""
    check_image_network(model)
    count = channels_of(model, layer)
    if not 0 <= index < count:
        raise DreamError(f"layer {layer} has {count} filters (0 to {count - 1}); there is no filter {index}")
    noise = np.random.default_rng(settings.seed + index).normal(0.0, 0.05, (1, *model.input_shape))
    return ascend(model, noise, layer, filter_objective(index), settings)[0]


DREAM = Ascent(steps=10, rate=0.02, decay=0.0, blur_every=0)  # per octave


def deep_dream(model, layer: str, image: np.ndarray, octaves: int = 3, settings: Ascent = DREAM) -> np.ndarray:
    """Deep Dream: `image` (1 x C x H x W) with the activations of `layer` amplified, coarse octaves first."""
    check_image_network(model)
    low, high = float(image.min()), float(image.max())
    x = image.astype(np.float64)
    for octave in reversed(range(octaves)):
        x = np.clip(ascend(model, x, layer, dream_objective, settings, factor=2**octave), low, high)
    return x[0]


# ---- drawing ----


def displayable(image: np.ndarray) -> np.ndarray:
    """C x H x W scaled to [0, 1] (a robust range: the 1st to 99th percentile), as H x W or H x W x 3."""
    lo, hi = np.percentile(image, [1, 99])
    scaled = np.clip((image - lo) / (hi - lo + 1e-12), 0, 1)
    return scaled[0] if scaled.shape[0] != 3 else scaled.transpose(1, 2, 0)


def save_grid(images: list[np.ndarray], labels: list[str], title: str, handle: IO[bytes], fmt: str = "png") -> None:
    """The images (C x H x W) in a grid of at most 8 columns, each scaled to its own range and labelled."""
    from netdsl.draw.raster import pyplot

    plt = pyplot()
    columns = min(8, len(images))
    rows = -(-len(images) // columns)
    cell = 1.4 if columns > 1 else 3.5
    fig = plt.figure(figsize=(0.3 + cell * columns, 0.6 + cell * 1.12 * rows), dpi=100)
    for i, (image, label) in enumerate(zip(images, labels)):
        ax = fig.add_subplot(rows, columns, i + 1)
        shown = displayable(image)
        ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(label, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.savefig(handle, format=fmt, metadata={"Software": "netdsl"} if fmt == "png" else None)
    plt.close(fig)
