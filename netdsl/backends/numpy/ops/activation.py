"""Activations on NumPy (channels last): relu, sigmoid, tanh, swish, leakyrelu, softmax, identity and the
section-9 ones; forward -> (y, cache), backward(dy, cache) -> dx."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from netdsl.backends.numpy.registry import Ctx, kernel, unary, unary_backward
from netdsl.ir.graph import Node
from netdsl.ops.activation import (
    ELU,
    GELU,
    HARDSIGMOID,
    HARDSWISH,
    IDENTITY,
    LEAKYRELU,
    MISH,
    PRELU,
    RELU,
    RELU6,
    SELU,
    SIGMOID,
    SOFTMAX,
    SOFTPLUS,
    SWISH,
    TANH,
)

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


# ---- the section-9 activations ----

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SOFTPLUS_THRESHOLD = 20.0
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_ERF = np.frompyfunc(math.erf, 1, 1)


def _erf(x: Array) -> Array:
    return _ERF(x).astype(x.dtype)


def gelu_forward(x: Array, approximate: str = "none") -> tuple[Array, Cache]:
    """x * Phi(x) (erf, to full precision), or the tanh approximation."""
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
        return 0.5 * x * (1.0 + t), {"x": x, "t": t}
    cdf = 0.5 * (1.0 + _erf(x * (1.0 / math.sqrt(2.0))))
    return x * cdf, {"x": x, "cdf": cdf}


def gelu_backward(dy: Array, cache: Cache) -> Array:
    """dy * (Phi(x) + x * phi(x)), or the derivative of the tanh form."""
    x = cache["x"]
    if "t" in cache:
        t = cache["t"]
        inner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
        return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner)
    pdf = np.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
    return dy * (cache["cdf"] + x * pdf)


def relu6_forward(x: Array) -> tuple[Array, Cache]:
    return np.clip(x, 0.0, 6.0), {"x": x}


def relu6_backward(dy: Array, cache: Cache) -> Array:
    """dy where 0 < x < 6."""
    x = cache["x"]
    return dy * ((x > 0) & (x < 6))


def hardsigmoid_forward(x: Array) -> tuple[Array, Cache]:
    return np.clip(x + 3.0, 0.0, 6.0) * (1.0 / 6.0), {"x": x}


def hardsigmoid_backward(dy: Array, cache: Cache) -> Array:
    """dy / 6 where -3 < x < 3."""
    x = cache["x"]
    return dy * (((x > -3) & (x < 3)) * (1.0 / 6.0)).astype(dy.dtype)


def hardswish_forward(x: Array) -> tuple[Array, Cache]:
    return x * (np.clip(x + 3.0, 0.0, 6.0) * (1.0 / 6.0)), {"x": x}


def hardswish_backward(dy: Array, cache: Cache) -> Array:
    """0 below -3, (2x + 3) / 6 up to 3, 1 above (PyTorch's hardswish_backward)."""
    x = cache["x"]
    return dy * np.where(x < -3, 0.0, np.where(x <= 3, (2.0 * x + 3.0) * (1.0 / 6.0), 1.0)).astype(dy.dtype)


def elu_forward(x: Array, alpha: float = 1.0) -> tuple[Array, Cache]:
    y = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))
    return y, {"x": x, "y": y, "alpha": alpha}


def elu_backward(dy: Array, cache: Cache) -> Array:
    """dy above 0, dy * (y + alpha) = dy * alpha * exp(x) below."""
    return dy * np.where(cache["x"] > 0, 1.0, cache["y"] + cache["alpha"]).astype(dy.dtype)


def selu_forward(x: Array) -> tuple[Array, Cache]:
    neg = SELU_ALPHA * np.expm1(np.minimum(x, 0.0))
    return SELU_SCALE * np.where(x > 0, x, neg), {"x": x, "neg": neg}


def selu_backward(dy: Array, cache: Cache) -> Array:
    """scale * dy above 0, scale * alpha * exp(x) * dy below."""
    return dy * (SELU_SCALE * np.where(cache["x"] > 0, 1.0, cache["neg"] + SELU_ALPHA)).astype(dy.dtype)


def _softplus(x: Array) -> Array:
    return np.where(x > SOFTPLUS_THRESHOLD, x, np.log1p(np.exp(np.minimum(x, SOFTPLUS_THRESHOLD))))


def _sigmoid(x: Array) -> Array:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def softplus_forward(x: Array) -> tuple[Array, Cache]:
    return _softplus(x), {"x": x}


def softplus_backward(dy: Array, cache: Cache) -> Array:
    """dy * sigmoid(x); dy above the threshold, where softplus is x itself."""
    x = cache["x"]
    return dy * np.where(x > SOFTPLUS_THRESHOLD, 1.0, _sigmoid(x)).astype(dy.dtype)


def mish_forward(x: Array) -> tuple[Array, Cache]:
    t = np.tanh(_softplus(x))
    return x * t, {"x": x, "t": t}


def mish_backward(dy: Array, cache: Cache) -> Array:
    """dy * (tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x))."""
    x, t = cache["x"], cache["t"]
    return dy * (t + x * (1.0 - t * t) * _sigmoid(x))


def prelu_forward(x: Array, weight: Array) -> tuple[Array, Cache]:
    """x above 0, weight[c] * x below; the channel is the last axis."""
    negative = x <= 0
    return np.where(negative, x * weight, x), {"x": x, "weight": weight, "negative": negative}


def prelu_backward(dy: Array, cache: Cache) -> tuple[Array, Array]:
    """(dx, dweight): dweight sums dy * x over the negative inputs of each channel."""
    x, weight, negative = cache["x"], cache["weight"], cache["negative"]
    dx = np.where(negative, dy * weight, dy)
    dweight = (dy * x * negative).reshape(-1, x.shape[-1]).sum(axis=0)
    return dx, dweight


# ---- registrations ----


def _unary_kernel(op, forward, backward, *attr_names: str) -> None:
    kernel(op)(
        type(
            op.name,
            (),
            {"forward": staticmethod(unary(forward, *attr_names)), "backward": staticmethod(unary_backward(backward))},
        )
    )


_unary_kernel(GELU, gelu_forward, gelu_backward, "approximate")
_unary_kernel(RELU6, relu6_forward, relu6_backward)
_unary_kernel(HARDSIGMOID, hardsigmoid_forward, hardsigmoid_backward)
_unary_kernel(HARDSWISH, hardswish_forward, hardswish_backward)
_unary_kernel(ELU, elu_forward, elu_backward, "alpha")
_unary_kernel(SELU, selu_forward, selu_backward)
_unary_kernel(SOFTPLUS, softplus_forward, softplus_backward)
_unary_kernel(MISH, mish_forward, mish_backward)


@kernel(PRELU)
class PRelu:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return prelu_forward(xs[0], ctx.param(node, "weight"))

    @staticmethod
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        dx, dweight = prelu_backward(dy, cache)
        return [dx], {"weight": dweight}
