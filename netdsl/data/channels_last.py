"""Channels-last inputs: a network declared `input(H, W, C, layout=hwc)` takes its samples in that
order from the user (predict, run, Model.predict) and turns them to C x H x W, the order inside."""

from __future__ import annotations

from typing import Any

CHANNELS_LAST = "hwc"


def channels_last(shape: tuple[int, ...]) -> tuple[int, ...]:
    """(C, H, W) as (H, W, C); other shapes as they are."""
    return (*shape[1:], shape[0]) if len(shape) == 3 else tuple(shape)


def to_channels_first(x: Any, shape: tuple[int, ...], layout: str) -> Any:
    """x (one sample or a batch) as C x H x W when the network declares layout=hwc and x is H x W x C;
    anything else as it is (a channels-first array stays accepted, other shapes are left to the checks)."""
    if layout != CHANNELS_LAST or len(shape) != 3 or getattr(x, "ndim", 0) not in (3, 4):
        return x
    if tuple(x.shape[-3:]) != channels_last(shape):
        return x
    import numpy as np

    axes = (2, 0, 1) if x.ndim == 3 else (0, 3, 1, 2)
    return np.ascontiguousarray(np.transpose(x, axes))
