"""Activations on NumPy: relu, sigmoid, tanh, swish, leakyrelu, softmax, identity."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.backends.numpy.registry import Ctx, kernel, unary, unary_backward
from netdsl.ir.graph import Node
from netdsl.ops.elementwise import IDENTITY, LEAKYRELU, RELU, SIGMOID, SOFTMAX, SWISH, TANH

Array = np.ndarray
Cache = dict[str, Any]


def relu_forward(x: Array) -> tuple[Array, Cache]:
    """max(x, 0)."""
    y = np.maximum(x, 0)
    return y, {"y": y}


def relu_backward(dy: Array, cache: Cache) -> Array:
    """dy where the output was positive."""
    return dy * (cache["y"] > 0)


def sigmoid(x: Array) -> Array:
    """1 / (1 + exp(-x)), relative precision everywhere, 0 (not nan) below -88 in float32."""
    y = np.negative(x)
    with np.errstate(over="ignore"):
        np.exp(y, out=y)
    y += 1
    np.reciprocal(y, out=y)
    return y


def sigmoid_forward(x: Array) -> tuple[Array, Cache]:
    """1 / (1 + exp(-x))."""
    y = sigmoid(x)
    return y, {"y": y}


def sigmoid_backward(dy: Array, cache: Cache) -> Array:
    """dy * y * (1 - y)."""
    y = cache["y"]
    g = np.subtract(1, y)
    g *= y
    g *= dy
    return g


def tanh_forward(x: Array) -> tuple[Array, Cache]:
    """Hyperbolic tangent."""
    y = np.tanh(x)
    return y, {"y": y}


def tanh_backward(dy: Array, cache: Cache) -> Array:
    """dy * (1 - y^2)."""
    y = cache["y"]
    g = np.multiply(y, y)
    np.subtract(1, g, out=g)
    g *= dy
    return g


def swish_forward(x: Array) -> tuple[Array, Cache]:
    """x * sigmoid(x)."""
    s = sigmoid(x)
    y = x * s
    return y, {"s": s, "y": y}


def swish_backward(dy: Array, cache: Cache) -> Array:
    """dy * (s + y * (1 - s))."""
    s, y = cache["s"], cache["y"]
    g = np.subtract(1, s)
    g *= y
    g += s
    g *= dy
    return g


def leakyrelu_forward(x: Array, alpha: float = 0.01) -> tuple[Array, Cache]:
    """x for x > 0, alpha * x otherwise."""
    pos = x > 0
    slope = _leaky_slope(pos, float(alpha), x.dtype)
    return x * slope, {"slope": slope}


def _leaky_slope(pos: Array, alpha: float, dtype: np.dtype) -> Array:
    """1 where pos else alpha, computed without np.where (slow on random masks)."""
    slope = np.multiply(pos, 1.0 - alpha, dtype=dtype)
    slope += alpha
    return slope


def leakyrelu_backward(dy: Array, cache: Cache) -> Array:
    """dy for x > 0, alpha * dy otherwise."""
    return dy * cache["slope"]


def softmax_forward(x: Array) -> tuple[Array, Cache]:
    """Stable softmax over the last axis."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    y = e / e.sum(axis=-1, keepdims=True)
    return y, {"y": y}


def softmax_backward(dy: Array, cache: Cache) -> Array:
    """y * (dy - sum(dy * y)) over the last axis."""
    y = cache["y"]
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


@kernel(RELU)
class Relu:
    forward = staticmethod(unary(relu_forward))
    backward = staticmethod(unary_backward(relu_backward))


@kernel(SIGMOID)
class Sigmoid:
    forward = staticmethod(unary(sigmoid_forward))
    backward = staticmethod(unary_backward(sigmoid_backward))


@kernel(TANH)
class Tanh:
    forward = staticmethod(unary(tanh_forward))
    backward = staticmethod(unary_backward(tanh_backward))


@kernel(SWISH)
class Swish:
    forward = staticmethod(unary(swish_forward))
    backward = staticmethod(unary_backward(swish_backward))


@kernel(LEAKYRELU)
class LeakyRelu:
    forward = staticmethod(unary(leakyrelu_forward, "alpha"))
    backward = staticmethod(unary_backward(leakyrelu_backward))


@kernel(SOFTMAX)
class Softmax:
    forward = staticmethod(unary(softmax_forward))
    backward = staticmethod(unary_backward(softmax_backward))


@kernel(IDENTITY)
class Identity:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return xs[0], None

    @staticmethod
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        return [dy], {}
