"""Data sets for `netdsl train` / `evaluate`: built-in sets, user .npz/.csv files, shaping and splits.

Importing this package is cheap (stdlib only); numpy and the readers load on first use.

    ds = load_dataset("digits", (1, 28, 28))   # Dataset: x_train, y_train, x_val, y_val, ...
    for line in ds.notices:
        print(line)                             # e.g. "digits: resized 8x8 -> 28x28 to fit input(1, 28, 28)"
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

BUILTIN_NAMES: tuple[str, ...] = ("digits", "mnist", "fashion_mnist", "cifar10", "waves", "spectrograms", "sentences")
FILE_SUFFIXES: tuple[str, ...] = (".npz", ".csv")
PORTIONS: tuple[str, ...] = ("val", "train", "all", "test")  # what load_arrays can return


class DataError(Exception):
    """A data problem; the message is the one line to show the user."""


@dataclass
class Dataset:
    """Training and validation arrays shaped for the network, plus what was done to them."""

    x_train: np.ndarray  # float32, (n, C, H, W) or (n, N)
    y_train: np.ndarray  # int64 class indices, (n,)
    x_val: np.ndarray  # float32, may hold 0 samples
    y_val: np.ndarray  # int64, may hold 0 samples
    num_classes: int  # 0 for real-valued targets
    name: str
    notices: list[str] = field(default_factory=list)
    target: str = "labels"  # labels: y holds class indices; values: y holds float32 targets (regression)


@dataclass
class Arrays:
    """One portion (the validation/test part) of a data set, shaped for the network."""

    x: np.ndarray
    y: np.ndarray
    num_classes: int
    name: str
    notices: list[str] = field(default_factory=list)
    target: str = "labels"  # as Dataset's


def load_dataset(
    spec: str,
    input_shape: tuple[int, ...],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    val_split: float = 0.1,
    seed: int = 0,
    download: bool = True,
    progress: Callable[[str], None] | None = None,
    target: str = "labels",
    tokens: int | None = None,
) -> Dataset:
    """Load a built-in set or a .npz/.csv file, shaped to input_shape and split into train/validation.
    target: "labels" (class indices), "values" (real numbers: regression) or "auto" (values when some
    labels are not integers, with a notice). `tokens`: the vocabulary of a token input (ids checked below it,
    not scaled)."""
    from netdsl.data.pipeline import load_dataset as _load

    return _load(
        spec,
        input_shape,
        data_dir=data_dir,
        val_split=val_split,
        seed=seed,
        download=download,
        progress=progress,
        target=target,
        tokens=tokens,
    )


def load_arrays(
    spec: str,
    input_shape: tuple[int, ...],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    val_split: float = 0.1,
    seed: int = 0,
    download: bool = True,
    progress: Callable[[str], None] | None = None,
    portion: str = "val",
    target: str = "labels",
    tokens: int | None = None,
) -> Arrays:
    """One portion, shaped: "val" (the test split, else the seeded validation split; all when val_split=0),
    "train" (the samples training fits on), "all", or "test" (only a set with an official test split)."""
    from netdsl.data.pipeline import load_arrays as _load

    return _load(
        spec,
        input_shape,
        data_dir=data_dir,
        val_split=val_split,
        seed=seed,
        download=download,
        progress=progress,
        portion=portion,
        target=target,
        tokens=tokens,
    )


def fit_to_input(x: np.ndarray, input_shape: tuple[int, ...], name: str = "data") -> tuple[np.ndarray, list[str]]:
    """Shape raw samples (n, ...) to float32 (n, *input_shape); returns the array and notice lines."""
    from netdsl.data.transform import fit_to_input as _fit

    return _fit(x, input_shape, name)


def default_data_dir() -> str:
    """The cache root: $NETDSL_DATA_DIR, else $XDG_CACHE_HOME/netdsl, else ~/.cache/netdsl."""
    explicit = os.environ.get("NETDSL_DATA_DIR")
    if explicit:
        return os.path.expanduser(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "netdsl")


__all__ = [
    "BUILTIN_NAMES",
    "FILE_SUFFIXES",
    "PORTIONS",
    "Arrays",
    "DataError",
    "Dataset",
    "default_data_dir",
    "fit_to_input",
    "load_arrays",
    "load_dataset",
]
