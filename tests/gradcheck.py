"""Finite differences for the section-9 kernels (float64, max-norm relative error below 1e-6)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from helpers import numeric_gradient

RTOL = 1e-6


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-12)
    return float(np.abs(a - b).max(initial=0.0) / scale)


def check(fwd: Callable[[], np.ndarray], dy: np.ndarray, wrt: np.ndarray, analytic: np.ndarray) -> None:
    """The analytic gradient of sum(fwd() * dy) with respect to `wrt` equals finite differences."""
    numeric = numeric_gradient(lambda: float((fwd() * dy).sum()), wrt)
    assert analytic.shape == wrt.shape
    assert rel_err(analytic, numeric) < RTOL, rel_err(analytic, numeric)


def nchw(a: np.ndarray) -> np.ndarray:
    return a.transpose(0, 3, 1, 2) if a.ndim == 4 else a


def nhwc(a: np.ndarray) -> np.ndarray:
    return a.transpose(0, 2, 3, 1) if a.ndim == 4 else a
