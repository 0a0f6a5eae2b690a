"""Deterministic weight initialisation (seeded ``numpy.random.Generator`` in).

Weight layouts: conv OIHW ``(O, C // groups, kh, kw)``, fc ``(units, in)``.
Biases start at zero; batch norm at gamma 1, beta 0, mean 0, var 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Array = np.ndarray
Shape = Sequence[int]


def compute_fans(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of an OIHW conv weight, an (units, in) fc weight or a vector.

    Conv: fan_in = C/groups * kh * kw, fan_out = O * kh * kw (PyTorch/Keras rule).
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def he_normal(shape: Shape, fan_in: int, rng: np.random.Generator, dtype: np.dtype | type = np.float32) -> Array:
    """Normal(0, sqrt(2 / fan_in)) samples (Kaiming normal, ReLU gain)."""
    std = math.sqrt(2.0 / fan_in)
    return (rng.standard_normal(tuple(shape)) * std).astype(dtype)


def glorot_uniform(
    shape: Shape, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype | type = np.float32
) -> Array:
    """Uniform(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Xavier uniform)."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, tuple(shape)).astype(dtype)


def zeros(shape: Shape, dtype: np.dtype | type = np.float32) -> Array:
    """All-zero array (biases, beta, running mean)."""
    return np.zeros(tuple(shape), dtype)


def ones(shape: Shape, dtype: np.dtype | type = np.float32) -> Array:
    """All-one array (gamma, running variance)."""
    return np.ones(tuple(shape), dtype)


INITIALIZERS = ("he_normal", "glorot_uniform")


def init_weight(
    shape: Shape, rng: np.random.Generator, scheme: str = "glorot_uniform", dtype: np.dtype | type = np.float32
) -> Array:
    """Initialise a conv/fc weight with the named scheme, fans from its layout."""
    fan_in, fan_out = compute_fans(shape)
    if scheme == "he_normal":
        return he_normal(shape, fan_in, rng, dtype)
    if scheme == "glorot_uniform":
        return glorot_uniform(shape, fan_in, fan_out, rng, dtype)
    raise ValueError(f"unknown initializer {scheme!r}; valid: {', '.join(INITIALIZERS)}")


def init_tensor(
    shape: Shape, how: str, scale: float, rng: np.random.Generator, dtype: np.dtype | type = np.float32
) -> Array:
    """One tensor of netdsl.ir.init's plan: he_normal, glorot_uniform, zeros or ones, times scale."""
    if how == "zeros":
        return zeros(shape, dtype)
    if how == "ones":
        value = ones(shape, dtype)
    else:
        value = init_weight(shape, rng, how, dtype)
    if scale != 1.0:
        value *= scale
    return value
