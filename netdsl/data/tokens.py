"""Token ids as data: `input(L, tokens=V)` takes integers 0..V-1, checked before a batch reaches a network."""

from __future__ import annotations

import numpy as np

from netdsl.data import DataError


def check_token_ids(x: np.ndarray, vocabulary: int, what: str) -> np.ndarray:
    """x when every value is an integer id below `vocabulary`; else DataError naming the first sample and value
    that is not (x as float32, which holds every id below 2**24 exactly)."""
    values = np.asarray(x)
    if values.dtype.kind not in "iuf" or values.ndim < 2:
        raise DataError(
            f"{what}: token ids must be an (n, L) array of integers, received a {values.dtype} array "
            f"of shape {values.shape}"
        )
    flat = values.reshape(len(values), -1)
    bad = (flat < 0) | (flat >= vocabulary)
    if values.dtype.kind == "f":
        bad |= ~np.isfinite(flat) | (np.floor(flat) != flat)
    if bad.any():
        sample, position = (int(i) for i in np.argwhere(bad)[0])
        raise DataError(
            f"{what}: sample {sample} has token id {float(flat[sample, position]):g} at position "
            f"{position}, outside the vocabulary 0..{vocabulary - 1} of input(..., tokens={vocabulary})"
        )
    if vocabulary > 2**24:
        raise DataError(f"{what}: a vocabulary of {vocabulary:,} ids is larger than float32 holds exactly (2**24)")
    return values.astype(np.float32)
