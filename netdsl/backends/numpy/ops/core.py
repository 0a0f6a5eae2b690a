"""fc, flatten and dropout on NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.backends.numpy.registry import Ctx, kernel, unary, unary_backward, weighted_backward
from netdsl.ir.graph import Node
from netdsl.ops.core import DROPOUT, FC, FLATTEN

Array = np.ndarray
Cache = dict[str, Any]


def fc_forward(x: Array, w: Array, b: Array | None) -> tuple[Array, Cache]:
    """Dense layer y = x @ w.T + b with w in (units, in) layout."""
    y = np.matmul(x, w.T)
    if b is not None:
        y += b
    return y, {"x": x, "w": w, "has_b": b is not None}


def fc_backward(dy: Array, cache: Cache, need_dx: bool = True) -> tuple[Array | None, Array, Array | None]:
    """Gradients (dx, dw, db) of the dense layer."""
    x, w = cache["x"], cache["w"]
    dw = np.matmul(dy.T, x)
    db = dy.sum(axis=0) if cache["has_b"] else None
    dx = np.matmul(dy, w) if need_dx else None
    return dx, dw, db


def flatten_forward(x: Array) -> tuple[Array, Cache]:
    """NHWC -> (N, C*H*W) in NCHW (C-major) order, matching ONNX Flatten on NCHW."""
    if x.ndim == 2:
        return x, {"shape": x.shape}
    perm = (0, x.ndim - 1) + tuple(range(1, x.ndim - 1))
    y = np.ascontiguousarray(x.transpose(perm)).reshape(x.shape[0], -1)
    return y, {"shape": x.shape}


def flatten_backward(dy: Array, cache: Cache) -> Array:
    """Undo flatten_forward: (N, C*H*W) -> NHWC."""
    shape = cache["shape"]
    if len(shape) == 2:
        return dy
    nchw = (shape[0], shape[-1]) + tuple(shape[1:-1])
    perm = (0,) + tuple(range(2, len(shape))) + (1,)
    return np.ascontiguousarray(dy.reshape(nchw).transpose(perm))


def dropout_forward(x: Array, rate: float, rng: np.random.Generator, training: bool) -> tuple[Array, Cache]:
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


@kernel(FC)
class Fc:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return fc_forward(xs[0], ctx.param(node, "weight"), ctx.param(node, "bias"))

    backward = staticmethod(weighted_backward(fc_backward))


@kernel(FLATTEN)
class Flatten:
    forward = staticmethod(unary(flatten_forward))
    backward = staticmethod(unary_backward(flatten_backward))


@kernel(DROPOUT)
class Dropout:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return dropout_forward(xs[0], node.attrs["rate"], ctx.rng, ctx.training)

    backward = staticmethod(unary_backward(dropout_backward))
