"""References of the section-9 activations, PyTorch's formulas (torch.nn.functional)."""

from __future__ import annotations

import math

import numpy as np

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SOFTPLUS_THRESHOLD = 20.0  # torch's softplus is the identity above it


def erf(x: np.ndarray) -> np.ndarray:
    """The error function to full precision, elementwise (NumPy has none)."""
    return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)


def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """x * Phi(x), or its tanh approximation."""
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)
        return 0.5 * x * (1.0 + np.tanh(inner))
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def relu6(x: np.ndarray) -> np.ndarray:
    """min(max(x, 0), 6)."""
    return np.clip(x, 0.0, 6.0)


def hardsigmoid(x: np.ndarray) -> np.ndarray:
    """relu6(x + 3) / 6."""
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


def hardswish(x: np.ndarray) -> np.ndarray:
    """x * relu6(x + 3) / 6."""
    return x * (np.clip(x + 3.0, 0.0, 6.0) / 6.0)


def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """x above 0, alpha * (exp(x) - 1) below."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def selu(x: np.ndarray) -> np.ndarray:
    """scale * elu(x, alpha) with the self-normalizing constants."""
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)); x itself above 20."""
    return np.where(x > SOFTPLUS_THRESHOLD, x, np.log1p(np.exp(np.minimum(x, SOFTPLUS_THRESHOLD))))


def mish(x: np.ndarray) -> np.ndarray:
    """x * tanh(softplus(x))."""
    soft = np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0))))
    return x * np.tanh(soft)


def prelu(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """x above 0, weight[c] * x below, one slope per channel (axis 1)."""
    slope = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    return np.where(x > 0, x, slope * x)
