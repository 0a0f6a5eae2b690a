"""Image polarity for `predict`: light strokes on a dark background (MNIST's digits) or the opposite.

A black-on-white photo of a digit fed to a net trained on white-on-black digits is predicted
confidently wrong; `predict` says so, and `--invert` feeds 1 - x instead.
"""

from __future__ import annotations

from typing import Any

# Built-in sets drawn light on a dark (0) background; natural images (cifar10) have no polarity.
DARK_BACKGROUND_SETS = ("digits", "mnist", "fashion_mnist")
LIGHT = 0.5  # a background brighter than this (values in [0, 1]) is light


def background(sample: Any) -> float:
    """The median of a C x H x W sample's border pixels: its background brightness."""
    import numpy as np

    border = np.concatenate([sample[..., 0, :], sample[..., -1, :], sample[..., :, 0], sample[..., :, -1]], axis=-1)
    return float(np.median(border))


def polarity_notice(x: Any, source: str, data: str) -> str | None:
    """A line when the gray images in x have a light background but the training set `data` a dark one."""
    if data not in DARK_BACKGROUND_SETS or x.ndim != 4 or x.shape[1] != 1 or min(x.shape[2:]) < 2:
        return None
    light = sum(background(sample) > LIGHT for sample in x)
    if not light:
        return None
    which = "it is" if len(x) == 1 else f"{light} of its {len(x)} samples are"
    return (
        f"{source}: {which} dark on a light background, but {data} is light on dark; "
        "if the prediction looks wrong, try --invert"
    )


def invert(x: Any) -> Any:
    """1 - x: light on dark becomes dark on light (values in [0, 1])."""
    return 1.0 - x
