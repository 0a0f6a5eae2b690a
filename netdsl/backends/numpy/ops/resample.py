"""upsample, deconv and zeropad on NumPy (NHWC): forward -> (y, cache), backward -> gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.backends.numpy.ops.conv import Conv
from netdsl.backends.numpy.registry import Ctx, kernel, unary_backward, weighted_backward
from netdsl.ir.graph import Node
from netdsl.ops.resample import DECONV, DWCONV, SHUFFLE, UPSAMPLE, ZEROPAD
from netdsl.reference import interpolation_matrix

Array = np.ndarray
Cache = dict[str, Any]
Pair = tuple[int, int]
Pads = tuple[int, int, int, int]


def upsample_nearest_forward(x: Array, scale: Pair) -> tuple[Array, Cache]:
    """Each pixel repeated scale times along H and W."""
    return x.repeat(scale[0], axis=1).repeat(scale[1], axis=2), {"scale": scale, "shape": x.shape}


def upsample_nearest_backward(dy: Array, cache: Cache) -> Array:
    """Each input pixel collects the gradients of its copies."""
    n, h, w, c = cache["shape"]
    sh, sw = cache["scale"]
    return dy.reshape(n, h, sh, w, sw, c).sum(axis=(2, 4))


def upsample_bilinear_forward(x: Array, scale: Pair) -> tuple[Array, Cache]:
    """Separable linear interpolation along H, then W."""
    rows = interpolation_matrix(x.shape[1], scale[0]).astype(x.dtype)
    cols = interpolation_matrix(x.shape[2], scale[1]).astype(x.dtype)
    y = np.einsum("ph,nhwc->npwc", rows, x, optimize=True)
    return np.einsum("qw,npwc->npqc", cols, y, optimize=True), {"rows": rows, "cols": cols}


def upsample_bilinear_backward(dy: Array, cache: Cache) -> Array:
    """The transposed interpolation."""
    d = np.einsum("qw,npqc->npwc", cache["cols"], dy, optimize=True)
    return np.einsum("ph,npwc->nhwc", cache["rows"], d, optimize=True)


def _taps(kernel: Pair, dilation: Pair, stride: Pair, in_hw: Pair):
    """(i, j, row slice, column slice) of the full output each kernel tap writes to."""
    (kh, kw), (dh, dw), (sh, sw), (h, w) = kernel, dilation, stride, in_hw
    for i in range(kh):
        for j in range(kw):
            yield i, j, slice(i * dh, i * dh + (h - 1) * sh + 1, sh), slice(j * dw, j * dw + (w - 1) * sw + 1, sw)


def deconv2d_forward(x: Array, w: Array, b: Array | None, stride: Pair, pads: Pads, output_padding: Pair,
                     dilation: Pair = (1, 1), groups: int = 1) -> tuple[Array, Cache]:
    """Transposed conv of NHWC x with a (C, filters/groups, kh, kw) weight: one matrix product gives every
    input pixel's weighted kernel, added into the full output at stride steps; then `pads` (top, left,
    bottom, right) are cropped and `output_padding` zero rows/columns appended at the bottom/right."""
    n, h, wd, c = x.shape
    _, fg, kh, kw = w.shape
    cg = c // groups
    full_h = (h - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0]
    full_w = (wd - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1]
    full = np.zeros((n, full_h, full_w, groups * fg), x.dtype)
    for g in range(groups):
        cols = x[..., g * cg:(g + 1) * cg].reshape(-1, cg) @ w[g * cg:(g + 1) * cg].reshape(cg, -1)
        cols = cols.reshape(n, h, wd, fg, kh, kw)
        for i, j, rows, columns in _taps((kh, kw), dilation, stride, (h, wd)):
            full[:, rows, columns, g * fg:(g + 1) * fg] += cols[..., i, j]
    top, left, bottom, right = pads
    y = full[:, top:full_h - bottom, left:full_w - right]
    if b is not None:
        y = y + b
    cache = {"x": x, "w": w, "stride": stride, "pads": pads, "full": (full_h, full_w), "dilation": dilation,
             "groups": groups, "has_bias": b is not None}
    return y, cache


def deconv2d_backward(dy: Array, cache: Cache, need_dx: bool = True) -> tuple[Array | None, Array, Array | None]:
    """(dx, dw, db): the full output's gradient gathered back per kernel tap (a strided conv)."""
    x, w, groups = cache["x"], cache["w"], cache["groups"]
    n, h, wd, c = x.shape
    _, fg, kh, kw = w.shape
    cg = c // groups
    top, left, _, _ = cache["pads"]
    dfull = np.zeros((n, *cache["full"], dy.shape[-1]), dy.dtype)
    dfull[:, top:top + dy.shape[1], left:left + dy.shape[2]] = dy
    dx = np.empty_like(x) if need_dx else None
    dw = np.empty_like(w)
    for g in range(groups):
        dcols = np.empty((n, h, wd, fg, kh, kw), dy.dtype)
        for i, j, rows, columns in _taps((kh, kw), cache["dilation"], cache["stride"], (h, wd)):
            dcols[..., i, j] = dfull[:, rows, columns, g * fg:(g + 1) * fg]
        dcols = dcols.reshape(n * h * wd, -1)
        wg = w[g * cg:(g + 1) * cg].reshape(cg, -1)
        dw[g * cg:(g + 1) * cg] = (x[..., g * cg:(g + 1) * cg].reshape(-1, cg).T @ dcols).reshape(cg, fg, kh, kw)
        if dx is not None:
            dx[..., g * cg:(g + 1) * cg] = (dcols @ wg.T).reshape(n, h, wd, cg)
    db = dy.reshape(-1, dy.shape[-1]).sum(axis=0) if cache["has_bias"] else None
    return dx, dw, db


def zeropad_forward(x: Array, pads: Pads) -> tuple[Array, Cache]:
    """Zeros around H and W: pads are (top, left, bottom, right)."""
    top, left, bottom, right = pads
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0))), {"pads": pads, "shape": x.shape}


def zeropad_backward(dy: Array, cache: Cache) -> Array:
    top, left, _, _ = cache["pads"]
    _, h, w, _ = cache["shape"]
    return dy[:, top:top + h, left:left + w]


def shuffle_forward(x: Array, groups: int) -> tuple[Array, Cache]:
    """Channels (groups, C/groups) -> (C/groups, groups), on the last (channel) axis of NHWC."""
    n, h, w, c = x.shape
    y = x.reshape(n, h, w, groups, c // groups).swapaxes(3, 4).reshape(n, h, w, c)
    return y, {"groups": groups}


def shuffle_backward(dy: Array, cache: Cache) -> Array:
    """The inverse permutation: a shuffle with C/groups groups."""
    return shuffle_forward(dy, dy.shape[3] // cache["groups"])[0]


# ---- registrations ----


@kernel(UPSAMPLE)
class Upsample:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        a = node.attrs
        if a["mode"] == "nearest":
            y, cache = upsample_nearest_forward(xs[0], a["scale"])
        else:
            y, cache = upsample_bilinear_forward(xs[0], a["scale"])
        return y, (a["mode"], cache)

    @staticmethod
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        mode, inner = cache
        backward = upsample_nearest_backward if mode == "nearest" else upsample_bilinear_backward
        return [backward(dy, inner)], {}


@kernel(DECONV)
class Deconv:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        a = node.attrs
        return deconv2d_forward(xs[0], ctx.param(node, "weight"), ctx.param(node, "bias"), a["stride"], a["pads"],
                                a["output_padding"], a["dilation"], a["groups"])

    backward = staticmethod(weighted_backward(deconv2d_backward))


@kernel(DWCONV)
class DwConv:
    """A conv with one group per channel: the conv kernel, with the filters and groups dwconv derived."""

    forward = Conv.forward
    backward = Conv.backward


@kernel(ZEROPAD)
class ZeroPad:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return zeropad_forward(xs[0], node.attrs["pads"])

    backward = staticmethod(unary_backward(zeropad_backward))


@kernel(SHUFFLE)
class Shuffle:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return shuffle_forward(xs[0], node.attrs["groups"])

    backward = staticmethod(unary_backward(shuffle_backward))
