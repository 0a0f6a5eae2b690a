"""References of layernorm (over the channels at each position), groupnorm and layer scale."""

from __future__ import annotations

import numpy as np


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def layernorm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Normalize over axis 1 (the channels) at each position; biased variance (ConvNeXt's LayerNorm2d)."""
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * _per_channel(weight, x.ndim) + _per_channel(bias, x.ndim)


def groupnorm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, groups: int, eps: float = 1e-5) -> np.ndarray:
    """Normalize each group of C / groups channels over those channels and all positions."""
    grouped = x.reshape(len(x), groups, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    var = ((grouped - mean) ** 2).mean(axis=2, keepdims=True)
    y = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    return y * _per_channel(weight, x.ndim) + _per_channel(bias, x.ndim)


def scale(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """x times a learned factor per channel (layer scale)."""
    return x * _per_channel(weight, x.ndim)
