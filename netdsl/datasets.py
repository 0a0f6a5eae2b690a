"""The data sets `netdsl train` uses, as NumPy arrays, for the Python API.

    import netdsl

    model = netdsl.load("examples/lenet5.net")
    x, y = netdsl.datasets.load("digits", split="train", shape=model.input_shape)   # (1617, 1, 32, 32), (1617,)
    x_val, y_val = netdsl.datasets.load("digits", split="val", shape=model.input_shape)
    model.fit(x, y, validation_data=(x_val, y_val))

The arrays are exactly what `netdsl train` trains and validates on: float32 samples in [0, 1], N x C x H x W
(or N x features), shaped to `shape` as `train` shapes them (bilinear resize, channels, flattening), and
int64 class indices (float32 values with target="values"). Without `shape`, a set keeps its own sample shape.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from netdsl.data import BUILTIN_NAMES, DataError

if TYPE_CHECKING:
    import numpy as np

# each built-in set's own sample shape (C x H x W)
NATIVE_SHAPES: dict[str, tuple[int, ...]] = {
    "digits": (1, 8, 8),
    "mnist": (1, 28, 28),
    "fashion_mnist": (1, 28, 28),
    "cifar10": (3, 32, 32),
}
SPLITS = ("train", "val", "test", "all")  # the portions load() returns

__all__ = ["BUILTIN_NAMES", "DataError", "NATIVE_SHAPES", "SPLITS", "load"]


def load(
    name: str,
    split: str = "train",
    shape: tuple[int, ...] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    val_split: float = 0.1,
    seed: int = 0,
    download: bool = True,
    target: str = "labels",
) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a built-in set (digits, mnist, fashion_mnist, cifar10) or a .npz/.csv file.

    split: "train" (what `netdsl train` fits on), "val" (what it validates on: a set's test split, else the
    seeded `val_split` share), "test" (mnist, fashion_mnist and cifar10) or "all". shape: a network's
    input shape, e.g. `model.input_shape`; None keeps the set's own. val_split and seed choose the split as
    a train section's do. target: "labels" (class indices), "values" (real numbers: regression) or "auto".
    Raises DataError (one line) for an unknown set, a missing file or data that cannot take the shape."""
    from netdsl.data import load_arrays
    from netdsl.data.pipeline import resolve_spec

    if split not in SPLITS:
        raise DataError(f"unknown split '{split}': use one of {', '.join(SPLITS)}")
    if shape is None:
        shape = _own_shape(name, resolve_spec(name))
    arrays = load_arrays(
        name,
        tuple(shape),
        data_dir=data_dir,
        val_split=val_split,
        seed=seed,
        download=download,
        portion=split,
        target=target,
    )
    return arrays.x, arrays.y


def _own_shape(name: str, resolved: tuple[str, str]) -> tuple[int, ...]:
    """A set's own sample shape: the built-in sets' as published; a file's as stored (gray images get C = 1)."""
    kind, value = resolved
    if kind == "builtin":
        return NATIVE_SHAPES[value]
    from netdsl.data.files import load_csv, load_npz

    x, _ = (load_npz if value.lower().endswith(".npz") else load_csv)(value)
    sample = tuple(int(n) for n in x.shape[1:])
    if len(sample) == 2:
        return (1, *sample)
    if len(sample) == 3 and sample[2] in (1, 3) and sample[0] not in (1, 3):
        return (sample[2], sample[0], sample[1])  # stored H x W x C: netdsl's arrays are C x H x W
    return sample
