"""Pooling on NHWC arrays: max and average windows, global max and average."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from netdsl.backends.numpy.registry import Ctx, kernel, unary, unary_backward
from netdsl.backends.numpy.window import crop, kernel_taps, lift_sequence, out_hw_of, pad_nhwc, plane_pads, tap
from netdsl.ir.graph import Node
from netdsl.ops.pool import AVGPOOL, GLOBALAVGPOOL, GLOBALMAXPOOL, MAXPOOL

Array = np.ndarray
Pair = tuple[int, int]
Pads = tuple[int, int, int, int]
Cache = dict[str, Any]


def maxpool2d_forward(x: Array, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair = (1, 1)) -> tuple[Array, Cache]:
    """Max pooling over NHWC windows; padding never wins."""
    out_hw = out_hw_of(x, kernel, stride, pads, dilation)
    xp = pad_nhwc(x, pads, -np.inf)
    views = [xp[tap(xp, i, j, out_hw, stride, dilation)] for i, j in kernel_taps(kernel)]
    y = np.maximum(views[0], views[1]) if len(views) > 1 else views[0].copy()
    for v in views[2:]:
        np.maximum(y, v, out=y)
    cache = {
        "xp": xp,
        "y": y,
        "x_shape": x.shape,
        "kernel": kernel,
        "stride": stride,
        "pads": pads,
        "dilation": dilation,
        "out_hw": out_hw,
    }
    return y, cache


def _disjoint(kernel: Pair, stride: Pair, dilation: Pair) -> bool:
    """True when no input element belongs to two windows."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))


def maxpool2d_backward(dy: Array, cache: Cache) -> Array:
    """Route dy to the first maximum (row-major within the window) of each window."""
    xp, y, stride, dilation = cache["xp"], cache["y"], cache["stride"], cache["dilation"]
    kernel, out_hw, taps = cache["kernel"], cache["out_hw"], kernel_taps(cache["kernel"])
    disjoint = _disjoint(kernel, stride, dilation)
    tiles = zip(stride, kernel, out_hw, xp.shape[1:3])  # windows tile the whole input?
    covered = dilation == (1, 1) and all(s == k and o * s == n for s, k, o, n in tiles)
    dxp = (np.empty if covered else np.zeros)(xp.shape, dy.dtype)
    free = np.ones(y.shape, bool)
    hit = np.empty(y.shape, bool)
    for n, (i, j) in enumerate(taps):
        idx = tap(xp, i, j, out_hw, stride, dilation)
        np.equal(xp[idx], y, out=hit)
        if n:
            np.logical_and(hit, free, out=hit)
        if n + 1 < len(taps):
            np.logical_xor(free, hit, out=free)  # hit is a subset of free
        if disjoint:
            np.multiply(dy, hit, out=dxp[idx])
        else:
            dxp[idx] += dy * hit
    return crop(dxp, cache["pads"], cache["x_shape"])


def _window_counts(size: int, k: int, s: int, p0: int, out: int, d: int) -> Array:
    """Number of non-pad elements in each window along one axis."""
    start = np.arange(out) * s - p0
    taps = start[:, None] + d * np.arange(k)[None, :]
    return ((taps >= 0) & (taps < size)).sum(axis=1)


def avgpool2d_forward(x: Array, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair = (1, 1)) -> tuple[Array, Cache]:
    """Average pooling that divides by the number of real (non-pad) elements."""
    out_hw = out_hw_of(x, kernel, stride, pads, dilation)
    xp = pad_nhwc(x, pads, 0.0, tag="avgpool_pad")
    taps = kernel_taps(kernel)
    y = xp[tap(xp, *taps[0], out_hw, stride, dilation)].copy()
    for i, j in taps[1:]:
        y += xp[tap(xp, i, j, out_hw, stride, dilation)]
    ch = _window_counts(x.shape[1], kernel[0], stride[0], pads[0], out_hw[0], dilation[0])
    cw = _window_counts(x.shape[2], kernel[1], stride[1], pads[1], out_hw[1], dilation[1])
    count = np.maximum(ch[:, None] * cw[None, :], 1)  # all-pad (dilated) windows give 0
    inv = (1.0 / count).astype(x.dtype)[None, :, :, None]
    y *= inv
    cache = {
        "inv": inv,
        "xp_shape": xp.shape,
        "x_shape": x.shape,
        "kernel": kernel,
        "stride": stride,
        "pads": pads,
        "dilation": dilation,
        "out_hw": out_hw,
    }
    return y, cache


def avgpool2d_backward(dy: Array, cache: Cache) -> Array:
    """Spread dy / count uniformly over each window."""
    stride, dilation, out_hw = cache["stride"], cache["dilation"], cache["out_hw"]
    g = dy * cache["inv"]
    dxp = np.zeros(cache["xp_shape"], dy.dtype)
    for i, j in kernel_taps(cache["kernel"]):
        dxp[tap(dxp, i, j, out_hw, stride, dilation)] += g
    return crop(dxp, cache["pads"], cache["x_shape"])


def global_avgpool_forward(x: Array) -> tuple[Array, Cache]:
    """Mean over every spatial axis: (N, *sizes, C) -> (N, 1, ..., 1, C)."""
    return x.mean(axis=tuple(range(1, x.ndim - 1)), keepdims=True), {"shape": x.shape}


def global_avgpool_backward(dy: Array, cache: Cache) -> Array:
    """Spread dy evenly over the positions."""
    g = dy * (1.0 / math.prod(cache["shape"][1:-1]))
    return np.ascontiguousarray(np.broadcast_to(g, cache["shape"]))


def global_maxpool_forward(x: Array) -> tuple[Array, Cache]:
    """Max over every spatial axis: (N, *sizes, C) -> (N, 1, ..., 1, C)."""
    n, c = x.shape[0], x.shape[-1]
    flat = x.reshape(n, -1, c)
    arg = flat.argmax(axis=1)
    y = np.take_along_axis(flat, arg[:, None, :], axis=1)
    return y.reshape(n, *(1,) * (x.ndim - 2), c), {"shape": x.shape, "arg": arg}


def global_maxpool_backward(dy: Array, cache: Cache) -> Array:
    """Route dy to the first maximum of each channel."""
    shape = cache["shape"]
    n, c = shape[0], shape[-1]
    dx = np.zeros((n, math.prod(shape[1:-1]), c), dy.dtype)
    np.put_along_axis(dx, cache["arg"][:, None, :], dy.reshape(n, 1, c), axis=1)
    return dx.reshape(shape)


# ---- sequences and volumes: through the image kernels ----


def pool_forward(image_forward: Callable, x: Array, kernel: tuple, stride: tuple, pads: tuple) -> tuple[Array, Cache]:
    """A max or average pool of any rank from its 2-D kernel. A sequence is a 1 x L image; a volume pools
    each depth plane over H x W, then the depth axis (a (kd, 1) window over (D, Ho*Wo)): max and average
    (over the real, non-pad elements) are separable, so this is the 3-D pool exactly."""
    if x.ndim == 4:
        return image_forward(x, kernel, stride, pads)
    if x.ndim == 3:
        kernel2, stride2, pads2, _ = lift_sequence(kernel, stride, pads)
        y, cache = image_forward(x[:, None], kernel2, stride2, pads2)
        return y[:, 0], {"rank": 1, "image": cache}
    n, d, h, w, c = x.shape
    planes, plane_cache = image_forward(x.reshape(n * d, h, w, c), kernel[1:], stride[1:], plane_pads(pads))
    ho, wo = planes.shape[1:3]
    y, depth_cache = image_forward(
        planes.reshape(n, d, ho * wo, c), (kernel[0], 1), (stride[0], 1), (pads[0], 0, pads[3], 0)
    )
    return y.reshape(n, y.shape[1], ho, wo, c), {
        "rank": 3,
        "planes": plane_cache,
        "depth": depth_cache,
        "sizes": (n, d, ho, wo, c),
    }


def pool_backward(image_backward: Callable, dy: Array, cache: Cache) -> Array:
    """The gradient of pool_forward, of whichever rank it ran."""
    rank = cache.get("rank", 2)
    if rank == 2:
        return image_backward(dy, cache)
    if rank == 1:
        return image_backward(dy[:, None], cache["image"])[:, 0]
    n, d, ho, wo, c = cache["sizes"]
    d_planes = image_backward(dy.reshape(n, dy.shape[1], ho * wo, c), cache["depth"])
    dx = image_backward(np.ascontiguousarray(d_planes).reshape(n * d, ho, wo, c), cache["planes"])
    return dx.reshape(n, d, *dx.shape[1:])


def _pool(image_forward: Callable, image_backward: Callable) -> tuple[Callable, Callable]:
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        a = node.attrs
        return pool_forward(image_forward, xs[0], a["kernel"], a["stride"], a["pads"])

    def backward(node: Node, dy: Array, cache, need_dx: bool):
        return [pool_backward(image_backward, dy, cache)], {}

    return forward, backward


@kernel(MAXPOOL)
class MaxPool:
    forward, backward = (staticmethod(f) for f in _pool(maxpool2d_forward, maxpool2d_backward))


@kernel(AVGPOOL)
class AvgPool:
    forward, backward = (staticmethod(f) for f in _pool(avgpool2d_forward, avgpool2d_backward))


@kernel(GLOBALAVGPOOL)
class GlobalAvgPool:
    forward = staticmethod(unary(global_avgpool_forward))
    backward = staticmethod(unary_backward(global_avgpool_backward))


@kernel(GLOBALMAXPOOL)
class GlobalMaxPool:
    forward = staticmethod(unary(global_maxpool_forward))
    backward = staticmethod(unary_backward(global_maxpool_backward))
