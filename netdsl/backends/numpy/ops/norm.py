"""Normalization and regularization on NumPy: batchnorm, lrn, dropout."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.backends.numpy.buffers import column_sum, scratch
from netdsl.backends.numpy.registry import Ctx, kernel, unary, unary_backward
from netdsl.ir.graph import Node
from netdsl.ops.elementwise import BATCHNORM, DROPOUT, LRN

Array = np.ndarray
Cache = dict[str, Any]


def dropout_forward(x: Array, rate: float, rng: np.random.Generator, training: bool
                    ) -> tuple[Array, Cache]:
    """Inverted dropout: zero with probability ``rate`` and scale by 1/(1-rate)."""
    if not training or rate <= 0:
        return x, {"mask": None}
    if rate >= 1:
        return np.zeros_like(x), {"mask": np.zeros_like(x)}
    keep = rng.random(x.shape, dtype=np.float32) >= rate
    mask = keep.astype(x.dtype) * (1.0 / (1.0 - rate))
    return x * mask, {"mask": mask}


def dropout_backward(dy: Array, cache: Cache) -> Array:
    """dy times the scaled keep mask (identity when dropout was inactive)."""
    mask = cache["mask"]
    return dy if mask is None else dy * mask


def batchnorm_forward(x: Array, gamma: Array, beta: Array, running_mean: Array,
                      running_var: Array, eps: float = 1e-5, momentum: float = 0.1,
                      training: bool = True) -> tuple[Array, Cache, Array, Array]:
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
    for k in range(1, lo + 1):
        s[..., k:] += a[..., : c - k]
    for k in range(1, hi + 1):
        s[..., : c - k] += a[..., k:]
    return s


def lrn_forward(x: Array, size: int, alpha: float = 1e-4, beta: float = 0.75,
                k: float = 1.0) -> tuple[Array, Cache]:
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


@kernel(BATCHNORM)
class BatchNorm:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        mean_key, var_key = f"{node.name}.running_mean", f"{node.name}.running_var"
        y, cache, mean, var = batchnorm_forward(
            xs[0], ctx.param(node, "weight"), ctx.param(node, "bias"), ctx.buffers[mean_key], ctx.buffers[var_key],
            node.attrs["eps"], node.attrs["momentum"], ctx.training)
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


@kernel(DROPOUT)
class Dropout:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return dropout_forward(xs[0], node.attrs["rate"], ctx.rng, ctx.training)

    backward = staticmethod(unary_backward(dropout_backward))
