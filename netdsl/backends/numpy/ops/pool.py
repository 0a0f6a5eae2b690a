"""Pooling on NHWC arrays: max and average windows, global max and average."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.backends.numpy.registry import kernel, unary, unary_backward, window
from netdsl.backends.numpy.window import crop, kernel_taps, out_hw_of, pad_nhwc, tap
from netdsl.ops.pool import AVGPOOL, GLOBALAVGPOOL, GLOBALMAXPOOL, MAXPOOL

Array = np.ndarray
Pair = tuple[int, int]
Pads = tuple[int, int, int, int]
Cache = dict[str, Any]


def maxpool2d_forward(x: Array, kernel: Pair, stride: Pair, pads: Pads,
                      dilation: Pair = (1, 1)) -> tuple[Array, Cache]:
    """Max pooling over NHWC windows; padding never wins."""
    out_hw = out_hw_of(x, kernel, stride, pads, dilation)
    xp = pad_nhwc(x, pads, -np.inf)
    views = [xp[tap(xp, i, j, out_hw, stride, dilation)] for i, j in kernel_taps(kernel)]
    y = np.maximum(views[0], views[1]) if len(views) > 1 else views[0].copy()
    for v in views[2:]:
        np.maximum(y, v, out=y)
    cache = {"xp": xp, "y": y, "x_shape": x.shape, "kernel": kernel, "stride": stride,
             "pads": pads, "dilation": dilation, "out_hw": out_hw}
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


def avgpool2d_forward(x: Array, kernel: Pair, stride: Pair, pads: Pads,
                      dilation: Pair = (1, 1)) -> tuple[Array, Cache]:
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
    cache = {"inv": inv, "xp_shape": xp.shape, "x_shape": x.shape, "kernel": kernel,
             "stride": stride, "pads": pads, "dilation": dilation, "out_hw": out_hw}
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
    """Mean over H and W: (N, H, W, C) -> (N, 1, 1, C)."""
    return x.mean(axis=(1, 2), keepdims=True), {"shape": x.shape}


def global_avgpool_backward(dy: Array, cache: Cache) -> Array:
    """Spread dy evenly over H*W."""
    h, w = cache["shape"][1:3]
    g = dy * (1.0 / (h * w))
    return np.ascontiguousarray(np.broadcast_to(g, cache["shape"]))


def global_maxpool_forward(x: Array) -> tuple[Array, Cache]:
    """Max over H and W: (N, H, W, C) -> (N, 1, 1, C)."""
    n, h, w, c = x.shape
    arg = x.reshape(n, h * w, c).argmax(axis=1)
    y = np.take_along_axis(x.reshape(n, h * w, c), arg[:, None, :], axis=1)
    return y.reshape(n, 1, 1, c), {"shape": x.shape, "arg": arg}


def global_maxpool_backward(dy: Array, cache: Cache) -> Array:
    """Route dy to the first maximum of each channel."""
    n, h, w, c = cache["shape"]
    dx = np.zeros((n, h * w, c), dy.dtype)
    np.put_along_axis(dx, cache["arg"][:, None, :], dy.reshape(n, 1, c), axis=1)
    return dx.reshape(n, h, w, c)


@kernel(MAXPOOL)
class MaxPool:
    forward = staticmethod(window(maxpool2d_forward))
    backward = staticmethod(unary_backward(maxpool2d_backward))


@kernel(AVGPOOL)
class AvgPool:
    forward = staticmethod(window(avgpool2d_forward))
    backward = staticmethod(unary_backward(avgpool2d_backward))


@kernel(GLOBALAVGPOOL)
class GlobalAvgPool:
    forward = staticmethod(unary(global_avgpool_forward))
    backward = staticmethod(unary_backward(global_avgpool_backward))


@kernel(GLOBALMAXPOOL)
class GlobalMaxPool:
    forward = staticmethod(unary(global_maxpool_forward))
    backward = staticmethod(unary_backward(global_maxpool_backward))
