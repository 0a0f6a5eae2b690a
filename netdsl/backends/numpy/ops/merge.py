"""Merges on NumPy: add, concat and mul (numpy broadcasting for a C x 1 x 1 branch)."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.backends.numpy.registry import kernel, many, many_backward
from netdsl.ops.merge import ADD, CONCAT, MUL

Array = np.ndarray
Cache = dict[str, Any]


def add_forward(*xs: Array) -> tuple[Array, Cache]:
    """Elementwise sum of inputs (numpy broadcasting allowed)."""
    y = xs[0] + xs[1] if len(xs) > 1 else xs[0].copy()
    for x in xs[2:]:
        if np.broadcast_shapes(y.shape, x.shape) == y.shape:
            y += x
        else:
            y = y + x
    return y, {"shapes": [x.shape for x in xs]}


def unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum a gradient over the axes that were broadcast to reach g.shape."""
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + k for k, s in enumerate(shape) if s == 1 and g.shape[lead + k] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def add_backward(dy: Array, cache: Cache) -> list[Array]:
    """Gradient for each addend; they never share memory with each other."""
    out = []
    for k, shape in enumerate(cache["shapes"]):
        g = unbroadcast(dy, shape)
        out.append(g if (k == 0 or g is not dy) else dy.copy())
    return out


def concat_forward(*xs: Array) -> tuple[Array, Cache]:
    """Concatenate along the last (channel) axis."""
    return np.concatenate(xs, axis=-1), {"sizes": [x.shape[-1] for x in xs]}


def concat_backward(dy: Array, cache: Cache) -> list[Array]:
    """Split dy along the last axis into contiguous per-input gradients."""
    edges = np.cumsum(cache["sizes"])[:-1]
    return [np.ascontiguousarray(p) for p in np.split(dy, edges, axis=-1)]


def mul_forward(*xs: Array) -> tuple[Array, Cache]:
    """Elementwise product of the inputs (numpy broadcasting allowed)."""
    y = xs[0] * xs[1] if len(xs) > 1 else xs[0].copy()
    for x in xs[2:]:
        y = y * x
    return y, {"xs": xs}


def mul_backward(dy: Array, cache: Cache) -> list[Array]:
    """d/dx_k = dy times the product of the other inputs, summed over the axes x_k was broadcast along."""
    xs = cache["xs"]
    out = []
    for k, x in enumerate(xs):
        g = dy
        for j, other in enumerate(xs):
            if j != k:
                g = g * other
        out.append(unbroadcast(g, x.shape))
    return out


@kernel(ADD)
class Add:
    forward = staticmethod(many(add_forward))
    backward = staticmethod(many_backward(add_backward))


@kernel(CONCAT)
class Concat:
    forward = staticmethod(many(concat_forward))
    backward = staticmethod(many_backward(concat_backward))


@kernel(MUL)
class Mul:
    forward = staticmethod(many(mul_forward))
    backward = staticmethod(many_backward(mul_backward))
