"""Data augmentation of training batches in NumPy: vectorized over the batch, seeded, checkpointable.

    augmenter = Augmenter(config.augment, seed=0)
    xb = augmenter(xb)                      # (n, C, H, W) float32; a new array, xb is not changed
    state = augmenter.state                 # goes into the checkpoint; `augmenter.state = state` restores it

Every transform draws its random numbers for the whole batch at once, in a fixed order, from one
generator, so the same state gives the same batch bit for bit. Out-of-image pixels become 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from netdsl.train.config import Transform
from netdsl.train.declarations import CROP, CUTOUT, FLIP, ROTATE, SHIFT, AugmentationDef

# augmentation name -> (images, its arguments, generator) -> augmented images
Apply = Callable[[np.ndarray, tuple, np.random.Generator], np.ndarray]
IMPLEMENTATIONS: dict[str, Apply] = {}


def implements(declaration: AugmentationDef) -> Callable[[Apply], Apply]:
    """Register the NumPy implementation of a declared augmentation."""

    def register(function: Apply) -> Apply:
        IMPLEMENTATIONS[declaration.name] = function
        return function

    return register


STREAM = 0xA6  # the augmentation's own stream of the run's seed: shuffling and dropout draw elsewhere


class Augmenter:
    """Applies a train section's `augment` transforms, in order, to batches of images."""

    def __init__(self, transforms: tuple[Transform, ...], seed: int = 0):
        self.transforms = tuple(transforms)
        self.rng = np.random.default_rng((seed, STREAM))

    @property
    def state(self) -> dict[str, Any]:
        return dict(self.rng.bit_generator.state)

    @state.setter
    def state(self, value: dict[str, Any]) -> None:
        self.rng.bit_generator.state = value

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The augmented batch: images (n, C, H, W), or square vectors (n, S*S) seen as 1xSxS images."""
        images = as_images(x)
        for transform in self.transforms:
            images = apply(transform, images, self.rng)
        return images.reshape(x.shape)


def as_images(x: np.ndarray) -> np.ndarray:
    """(n, C, H, W) as it is; (n, N) with N a square as (n, 1, S, S); anything else is refused."""
    if x.ndim == 4:
        return x
    side = math.isqrt(x.shape[1]) if x.ndim == 2 else 0
    if x.ndim == 2 and side * side == x.shape[1]:
        return x.reshape(len(x), 1, side, side)
    raise ValueError(f"augmentation needs images (C, H, W) or square vectors, not samples of shape {x.shape[1:]}")


def image_input(shape: tuple[int, ...]) -> bool:
    """Whether a network input shape can be augmented (an image, or a vector of a square length)."""
    return len(shape) == 3 or (len(shape) == 1 and math.isqrt(shape[0]) ** 2 == shape[0])


def apply(transform: Transform, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One transform over the batch."""
    if transform.name not in IMPLEMENTATIONS:
        raise ValueError(f"unknown augmentation {transform.name!r}")
    return IMPLEMENTATIONS[transform.name](x, transform.args, rng)


@implements(FLIP)
def _flip(x: np.ndarray, args: tuple, rng: np.random.Generator) -> np.ndarray:
    return flip(x, rng)


@implements(SHIFT)
def _shift(x: np.ndarray, args: tuple, rng: np.random.Generator) -> np.ndarray:
    dy, dx = args
    return translate(x, pixels(dy, x.shape[2]), pixels(dx, x.shape[3]), rng)


@implements(CROP)
def _crop(x: np.ndarray, args: tuple, rng: np.random.Generator) -> np.ndarray:
    return translate(x, int(args[0]), int(args[0]), rng)


@implements(ROTATE)
def _rotate(x: np.ndarray, args: tuple, rng: np.random.Generator) -> np.ndarray:
    return rotate(x, args[0], rng)


@implements(CUTOUT)
def _cutout(x: np.ndarray, args: tuple, rng: np.random.Generator) -> np.ndarray:
    return cutout(x, int(args[0]), rng)


def pixels(amount: int | float, size: int) -> int:
    """A shift given as a fraction of the size (float < 1) or in pixels (int), in pixels."""
    return round(amount * size) if isinstance(amount, float) else int(amount)


def flip(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mirror each image left-right with probability 1/2."""
    chosen = rng.random(len(x)) < 0.5
    out = x.copy()
    out[chosen] = x[chosen, :, :, ::-1]
    return out


def translate(x: np.ndarray, max_dy: int, max_dx: int, rng: np.random.Generator) -> np.ndarray:
    """Shift each image by whole pixels drawn from [-max, max] per axis, filling with zeros.

    The same as padding by max with zeros and cropping back at a random place (crop(pad))."""
    n, _, h, w = x.shape
    dy = np.asarray(rng.integers(-max_dy, max_dy + 1, size=n))
    dx = np.asarray(rng.integers(-max_dx, max_dx + 1, size=n))
    out = np.zeros_like(x)
    for i, (sy, sx) in enumerate(zip(dy.tolist(), dx.tolist())):
        # out[y, x] = x[y - sy, x - sx]: the overlap only, so a shift of 100,000 costs no 100,000-pixel border
        if abs(sy) < h and abs(sx) < w:
            out[i, :, max(sy, 0) : h + min(sy, 0), max(sx, 0) : w + min(sx, 0)] = x[
                i, :, max(-sy, 0) : h - max(sy, 0), max(-sx, 0) : w - max(sx, 0)
            ]
    return out


def rotate(x: np.ndarray, degrees: float, rng: np.random.Generator) -> np.ndarray:
    """Rotate each image about its centre by an angle drawn from [-degrees, degrees], bilinear, zeros outside."""
    n, channels, h, w = x.shape
    angles = np.deg2rad(rng.uniform(-degrees, degrees, size=n))
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    # Each output pixel samples the input at its position rotated back by the angle.
    src_y = cos * (rows - cy) - sin * (cols - cx) + cy
    src_x = sin * (rows - cy) + cos * (cols - cx) + cx
    return bilinear(x, src_y, src_x).astype(x.dtype, copy=False)


def bilinear(x: np.ndarray, src_y: np.ndarray, src_x: np.ndarray) -> np.ndarray:
    """Sample images (n, C, H, W) at per-sample float positions (n, H', W'); zeros outside the image."""
    n, channels, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))).reshape(n, channels, -1)
    src_y = np.clip(src_y, -1, h)  # the zero border takes every position outside
    src_x = np.clip(src_x, -1, w)
    y0, x0 = np.floor(src_y), np.floor(src_x)
    wy, wx = (src_y - y0).astype(x.dtype), (src_x - x0).astype(x.dtype)
    y0 = np.minimum(y0.astype(np.intp) + 1, h + 1)  # + 1: into the padded image
    x0 = np.minimum(x0.astype(np.intp) + 1, w + 1)
    y1, x1 = np.minimum(y0 + 1, h + 1), np.minimum(x0 + 1, w + 1)
    stride = w + 2
    out = np.zeros((n, channels) + src_y.shape[1:], dtype=x.dtype)
    for ys, xs, weight in (
        (y0, x0, (1 - wy) * (1 - wx)),
        (y0, x1, (1 - wy) * wx),
        (y1, x0, wy * (1 - wx)),
        (y1, x1, wy * wx),
    ):
        index = (ys * stride + xs).reshape(n, 1, -1)
        corner = np.take_along_axis(padded, index, axis=2).reshape(out.shape)
        out += corner * weight[:, None]
    return out


def cutout(x: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Zero a size x size square at a random centre of each image (it may hang over the edge)."""
    n, _, h, w = x.shape
    top = np.asarray(rng.integers(0, h, size=n)) - size // 2
    left = np.asarray(rng.integers(0, w, size=n)) - size // 2
    rows, cols = np.arange(h), np.arange(w)
    in_rows = (rows >= top[:, None]) & (rows < top[:, None] + size)
    in_cols = (cols >= left[:, None]) & (cols < left[:, None] + size)
    keep = ~(in_rows[:, :, None] & in_cols[:, None, :])
    return x * keep[:, None].astype(x.dtype)
