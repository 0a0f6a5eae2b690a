"""From a data spec (built-in name or file path) to shaped, split arrays."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from netdsl.data import BUILTIN_NAMES, FILE_SUFFIXES, PORTIONS, Arrays, DataError, Dataset
from netdsl.data.builtin import Raw, load_builtin
from netdsl.data.files import load_csv, load_npz
from netdsl.data.tokens import check_token_ids
from netdsl.data.transform import (
    check_input_shape,
    fit_to_input,
    holds_values,
    labels_to_classes,
    labels_to_values,
    split_indices,
)

ALIASES = {"fashion-mnist": "fashion_mnist", "fashionmnist": "fashion_mnist", "cifar-10": "cifar10"}


def resolve_spec(spec: str) -> tuple[str, str]:
    """Classify a spec as ('builtin', name) or ('file', path); unknown names raise with a did-you-mean."""
    text = str(spec).strip()
    if text.lower().endswith(FILE_SUFFIXES):
        return "file", text
    key = text.lower()
    key = ALIASES.get(key, key)
    if key in BUILTIN_NAMES:
        return "builtin", key
    known = ", ".join(BUILTIN_NAMES)
    if Path(text).suffix or os.sep in text or "/" in text:
        raise DataError(
            f"unknown data file type '{text}': use a built-in set ({known}) or a path ending in .npz or .csv"
        )
    close = difflib.get_close_matches(key, [*BUILTIN_NAMES, *ALIASES], n=1, cutoff=0.6)
    hint = f"did you mean '{ALIASES.get(close[0], close[0])}'? " if close else ""
    raise DataError(f"unknown data set '{text}'; {hint}known: {known}, or a path ending in .npz or .csv")


def _load_raw(
    spec: str, data_dir: str | os.PathLike[str] | None, download: bool, progress: Callable[[str], None] | None
) -> tuple[str, Raw, str]:
    """Load a spec's raw arrays; returns the display name, the Raw data and what errors name (a file's path)."""
    kind, value = resolve_spec(spec)
    if kind == "builtin":
        return value, load_builtin(value, None if data_dir is None else Path(data_dir), download, progress), value
    reader = load_npz if value.lower().endswith(".npz") else load_csv
    x, y = reader(value)
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    return Path(value).name, Raw(x=x, y=y, scale=scale), value


TARGETS = ("labels", "values", "auto")


def _resolve_target(raw: Raw, name: str, target: str) -> tuple[str, list[str]]:
    """ "labels" or "values" for `target`; "auto" is values when some labels are not integers (with a notice)."""
    if target not in TARGETS:
        raise DataError(f"unknown target '{target}': use one of {', '.join(TARGETS)}")
    if target != "auto":
        return target, []
    if not holds_values(raw.y):
        return "labels", []
    return "values", [
        f"{name}: the labels are real numbers, not classes: training a regression (target = values); "
        "say target = values or target = labels in the train section to choose"
    ]


def _targets(y: np.ndarray, name: str, target: str) -> np.ndarray:
    """Class indices, or float32 values for a regression."""
    return labels_to_values(y, name) if target == "values" else labels_to_classes(y, name)


def _shape(
    x: np.ndarray, input_shape: tuple[int, ...], scale: float, name: str, tokens: int | None = None
) -> tuple[np.ndarray, list[str]]:
    """Fit samples to the input shape and scale pixels to [0, 1] (float32); token ids are checked, not scaled."""
    if tokens is not None:  # checked by _check_tokens, sample numbers as in the file
        return fit_to_input(x.astype(np.float32), input_shape, name)
    out, notices = fit_to_input(x, input_shape, name)
    if scale != 1.0 and name.lower().endswith(FILE_SUFFIXES):  # a built-in set is [0, 1] by definition
        notices.append(f"{name}: scaled {x.dtype} pixel values 0..{scale:g} to [0, 1]")
    if scale != 1.0:
        if np.shares_memory(out, x):
            out = out / np.float32(scale)
        else:
            np.divide(out, np.float32(scale), out=out)
    return out, notices


def _check_tokens(raw: Raw, name: str, tokens: int | None) -> None:
    """Every sample of a token input's data holds ids below the vocabulary (numbered as in the file)."""
    if tokens is None:
        return
    check_token_ids(raw.x, tokens, name)
    if raw.x_test is not None:
        check_token_ids(raw.x_test, tokens, f"{name} (test split)")


def _num_classes(raw: Raw, target: str, *labels: np.ndarray) -> int:
    """The class count: fixed for built-in sets, else the largest label + 1; 0 for real-valued targets."""
    if target == "values":
        return 0
    if raw.num_classes is not None:
        return raw.num_classes
    return int(max(int(y.max()) for y in labels if y.size)) + 1


def _empty_like(x: np.ndarray) -> np.ndarray:
    """A float32 array with 0 samples and x's per-sample shape."""
    return np.zeros((0, *x.shape[1:]), dtype=np.float32)


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
    """Load, split (test split or seeded val_split) and shape a data set for a network input (`tokens`: the
    vocabulary of a token input, whose ids are checked instead of scaled)."""
    input_shape = check_input_shape(input_shape)
    name, raw, where = _load_raw(spec, data_dir, download, progress)
    _check_tokens(raw, name, tokens)
    target, found = _resolve_target(raw, name, target)
    y_all = _targets(raw.y, where, target)
    if raw.x_test is not None and raw.y_test is not None:
        x_tr, y_tr, x_va_raw, y_va = raw.x, y_all, raw.x_test, _targets(raw.y_test, where, target)
    else:
        train, val = split_indices(len(raw.x), val_split, seed, name)
        x_tr, y_tr, x_va_raw, y_va = raw.x[train], y_all[train], raw.x[val], y_all[val]
    x_train, notices = _shape(x_tr, input_shape, raw.scale, name, tokens)
    x_val = _shape(x_va_raw, input_shape, raw.scale, name, tokens)[0] if len(x_va_raw) else _empty_like(x_train)
    return Dataset(
        x_train=x_train,
        y_train=y_tr,
        x_val=x_val,
        y_val=y_va,
        num_classes=_num_classes(raw, target, y_tr, y_va),
        name=name,
        notices=found + notices,
        target=target,
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
    tokens: int | None = None,
    portion: str = "val",
    target: str = "labels",
) -> Arrays:
    """One portion of a set (see PORTIONS); "val" is a set's test split, else the seeded validation split."""
    input_shape = check_input_shape(input_shape)
    name, raw, where = _load_raw(spec, data_dir, download, progress)
    _check_tokens(raw, name, tokens)
    target, found = _resolve_target(raw, name, target)
    x_raw, y, y_all = _portion(raw, where, portion, val_split, seed, target)
    x, notices = _shape(x_raw, input_shape, raw.scale, name, tokens)
    return Arrays(
        x=x, y=y, num_classes=_num_classes(raw, target, y_all, y), name=name, notices=found + notices, target=target
    )


def _portion(
    raw: Raw, name: str, portion: str, val_split: float, seed: int, target: str = "labels"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw samples and labels of "val" (the test split, else the seeded validation split; all when
    val_split=0), "train" (what training fits on) or "all"; plus every label, for the class count."""
    if portion not in PORTIONS:
        raise DataError(f"unknown portion '{portion}': use one of {', '.join(PORTIONS)}")
    y_all = _targets(raw.y, name, target)
    if portion == "test" and (raw.x_test is None or raw.y_test is None):
        raise DataError(
            f"{name} has no official test split (mnist, fashion_mnist and cifar10 have one); "
            "use --split val for its held-out validation samples"
        )
    if raw.x_test is not None and raw.y_test is not None:
        y_test = _targets(raw.y_test, name, target)
        parts = {"val": (raw.x_test, y_test), "test": (raw.x_test, y_test), "train": (raw.x, y_all)}
        if portion == "all":
            return np.concatenate([raw.x, raw.x_test]), np.concatenate([y_all, y_test]), y_all
        return (*parts[portion], y_all)
    if portion == "all" or (portion == "val" and val_split <= 0):
        return raw.x, y_all, y_all
    train, val = split_indices(len(raw.x), val_split, seed, name)
    chosen = val if portion == "val" else train
    return raw.x[chosen], y_all[chosen], y_all
