"""Normalizations on NumPy (channels last): batchnorm, lrn, layernorm, groupnorm and scale; forward -> (y, cache),
backward -> gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.backends.numpy.buffers import column_sum, scratch
from netdsl.backends.numpy.registry import Ctx, kernel, unary, unary_backward
from netdsl.ir.graph import Node
from netdsl.ops.normalization import BATCHNORM, GROUPNORM, LAYERNORM, LRN, SCALE

Array = np.ndarray
Cache = dict[str, Any]


def batchnorm_forward(
    x: Array,
    gamma: Array,
    beta: Array,
    running_mean: Array,
    running_var: Array,
    eps: float = 1e-5,
    momentum: float = 0.1,
    training: bool = True,
) -> tuple[Array, Cache, Array, Array]:
    """Batch norm over all axes but the last; returns (y, cache, new_mean, new_var).

    ``momentum`` follows PyTorch: ``running = (1 - momentum) * running + momentum * batch``
    (Keras momentum m corresponds to 1 - m); running_var uses the unbiased variance.
    In inference mode the running stats are used and returned unchanged.
    """
    c = x.shape[-1]
    x2 = x.reshape(-1, c)
    count = x2.shape[0]
    if training:
        mean = column_sum(x2) * (1.0 / count)
        xhat = x2 - mean
        sq = np.multiply(xhat, xhat, out=scratch("bn_sq", xhat.shape, xhat.dtype))
        var = column_sum(sq) * (1.0 / count)
        inv = 1 / np.sqrt(var + eps)
        unbiased = var * (count / max(count - 1, 1))
        new_mean = (1 - momentum) * running_mean + momentum * mean.astype(running_mean.dtype)
        new_var = (1 - momentum) * running_var + momentum * unbiased.astype(running_var.dtype)
    else:
        xhat = x2 - running_mean.astype(x.dtype)
        inv = (1 / np.sqrt(running_var + eps)).astype(x.dtype)
        new_mean, new_var = running_mean, running_var
    xhat *= inv
    y = np.multiply(xhat, gamma)
    y += beta
    cache = {"xhat": xhat, "inv": inv, "gamma": gamma, "training": training, "shape": x.shape}
    return y.reshape(x.shape), cache, new_mean, new_var


def batchnorm_backward(dy: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Gradients (dx, dgamma, dbeta); batch-statistics gradient in training mode."""
    xhat, inv, gamma = cache["xhat"], cache["inv"], cache["gamma"]
    dy2 = dy.reshape(xhat.shape)
    dbeta = column_sum(dy2)
    tmp = np.multiply(dy2, xhat, out=scratch("bn_sq", xhat.shape, xhat.dtype))
    dgamma = column_sum(tmp)
    scale = gamma * inv
    if cache["training"]:
        count = xhat.shape[0]
        dx = np.multiply(xhat, dgamma * (-1.0 / count))
        dx += dy2
        dx -= dbeta * (1.0 / count)
        dx *= scale
    else:
        dx = dy2 * scale
    return dx.reshape(cache["shape"]), dgamma, dbeta


def _channel_window_sum(a: Array, lo: int, hi: int) -> Array:
    """s[..., c] = sum of a[..., c'] for c' in [c - lo, c + hi] (clipped to range)."""
    c = a.shape[-1]
    s = a.copy()
    for k in range(1, min(lo, c - 1) + 1):  # a window wider than the channels reaches no further than they go
        s[..., k:] += a[..., : c - k]
    for k in range(1, min(hi, c - 1) + 1):
        s[..., : c - k] += a[..., k:]
    return s


def lrn_forward(x: Array, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> tuple[Array, Cache]:
    """ONNX LRN across channels: y = x / (k + alpha/size * square_sum) ** beta."""
    lo, hi = (size - 1) // 2, size - 1 - (size - 1) // 2
    den = k + (alpha / size) * _channel_window_sum(x * x, lo, hi)
    scale = den ** (-beta)
    y = x * scale
    return y, {"x": x, "den": den, "scale": scale, "size": size, "alpha": alpha, "beta": beta}


def lrn_backward(dy: Array, cache: Cache) -> Array:
    """Gradient of LRN including the cross-channel normaliser term."""
    x, den, scale, size = cache["x"], cache["den"], cache["scale"], cache["size"]
    alpha, beta = cache["alpha"], cache["beta"]
    lo, hi = (size - 1) // 2, size - 1 - (size - 1) // 2
    t = dy * x * scale / den
    # element i is in the window of output j iff j - lo <= i <= j + hi, i.e. j in [i-hi, i+lo]
    back = _channel_window_sum(t, hi, lo)
    return dy * scale - (2.0 * alpha * beta / size) * x * back


def _normalize(x: Array, axes: tuple[int, ...], eps: float) -> tuple[Array, Array]:
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    inv = 1.0 / np.sqrt((centered * centered).mean(axis=axes, keepdims=True) + eps)
    return centered * inv, inv


def _normalize_backward(dxhat: Array, xhat: Array, inv: Array, axes: tuple[int, ...]) -> Array:
    """The gradient through (x - mean) / std taken over `axes`."""
    mean_d = dxhat.mean(axis=axes, keepdims=True)
    mean_dx = (dxhat * xhat).mean(axis=axes, keepdims=True)
    return inv * (dxhat - mean_d - xhat * mean_dx)


def _per_channel_sum(a: Array) -> Array:
    return a.reshape(-1, a.shape[-1]).sum(axis=0)


def layernorm_forward(x: Array, weight: Array, bias: Array, eps: float = 1e-5) -> tuple[Array, Cache]:
    """Normalize over the channels (the last axis) at each position, then scale and shift."""
    xhat, inv = _normalize(x, (-1,), eps)
    return xhat * weight + bias, {"xhat": xhat, "inv": inv, "weight": weight}


def layernorm_backward(dy: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """(dx, dweight, dbias)."""
    xhat = cache["xhat"]
    dx = _normalize_backward(dy * cache["weight"], xhat, cache["inv"], (-1,))
    return dx, _per_channel_sum(dy * xhat), _per_channel_sum(dy)


def _grouped(a: Array, groups: int) -> Array:
    """(N, positions, groups, C / groups)."""
    return a.reshape(len(a), -1, groups, a.shape[-1] // groups)


def groupnorm_forward(x: Array, weight: Array, bias: Array, groups: int, eps: float = 1e-5) -> tuple[Array, Cache]:
    """Normalize each group of channels over those channels and every position, then scale and shift."""
    xhat, inv = _normalize(_grouped(x, groups), (1, 3), eps)
    xhat = xhat.reshape(x.shape)
    return xhat * weight + bias, {"xhat": xhat, "inv": inv, "weight": weight, "groups": groups}


def groupnorm_backward(dy: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """(dx, dweight, dbias)."""
    xhat, groups = cache["xhat"], cache["groups"]
    dxhat = _grouped(dy * cache["weight"], groups)
    dx = _normalize_backward(dxhat, _grouped(xhat, groups), cache["inv"], (1, 3)).reshape(dy.shape)
    return dx, _per_channel_sum(dy * xhat), _per_channel_sum(dy)


def scale_forward(x: Array, weight: Array) -> tuple[Array, Cache]:
    """x times a learned factor per channel."""
    return x * weight, {"x": x, "weight": weight}


def scale_backward(dy: Array, cache: Cache) -> tuple[Array, Array]:
    """(dx, dweight)."""
    return dy * cache["weight"], _per_channel_sum(dy * cache["x"])


# ---- registrations ----


@kernel(BATCHNORM)
class BatchNorm:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        mean_key, var_key = f"{node.name}.running_mean", f"{node.name}.running_var"
        y, cache, mean, var = batchnorm_forward(
            xs[0],
            ctx.param(node, "weight"),
            ctx.param(node, "bias"),
            ctx.buffers[mean_key],
            ctx.buffers[var_key],
            node.attrs["eps"],
            node.attrs["momentum"],
            ctx.training,
        )
        if ctx.training:
            ctx.buffers[mean_key], ctx.buffers[var_key] = mean, var
        return y, cache

    @staticmethod
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        dx, dgamma, dbeta = batchnorm_backward(dy, cache)
        return [dx], {"weight": dgamma, "bias": dbeta}


@kernel(LRN)
class Lrn:
    forward = staticmethod(unary(lrn_forward, "size", "alpha", "beta", "k"))
    backward = staticmethod(unary_backward(lrn_backward))


@kernel(LAYERNORM)
class LayerNorm:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return layernorm_forward(xs[0], ctx.param(node, "weight"), ctx.param(node, "bias"), node.attrs["eps"])

    @staticmethod
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        dx, dweight, dbias = layernorm_backward(dy, cache)
        return [dx], {"weight": dweight, "bias": dbias}


@kernel(GROUPNORM)
class GroupNorm:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        a = node.attrs
        return groupnorm_forward(xs[0], ctx.param(node, "weight"), ctx.param(node, "bias"), a["groups"], a["eps"])

    @staticmethod
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        dx, dweight, dbias = groupnorm_backward(dy, cache)
        return [dx], {"weight": dweight, "bias": dbias}


@kernel(SCALE)
class Scale:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return scale_forward(xs[0], ctx.param(node, "weight"))

    @staticmethod
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        dx, dweight = scale_backward(dy, cache)
        return [dx], {"weight": dweight}
