"""layernorm, groupnorm and scale on NumPy (channels last): forward -> (y, cache), backward -> gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.backends.numpy.registry import Ctx, kernel
from netdsl.ir.graph import Node
from netdsl.ops.normalization import GROUPNORM, LAYERNORM, SCALE

Array = np.ndarray
Cache = dict[str, Any]


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


def groupnorm_forward(x: Array, weight: Array, bias: Array, groups: int, eps: float = 1e-5
                      ) -> tuple[Array, Cache]:
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
