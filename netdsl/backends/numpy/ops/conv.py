"""conv, dwconv and deconv on NumPy: conv is im2col + BLAS GEMMs on NHWC data, forward and backward.

Layout contract
---------------
* Activations are NHWC ``(N, H, W, C)`` for images and ``(N, K)`` for vectors.
* Conv weights are OIHW ``(O, C // groups, kh, kw)``, fc weights ``(units, in)``.
* ``pads=(top, left, bottom, right)``, ``stride=(sh, sw)``, ``dilation=(dh, dw)``,
  ``kernel=(kh, kw)``; every padding is explicit (possibly asymmetric).

Every op ``xxx`` is a pair ``xxx_forward(...) -> (y, cache)`` and
``xxx_backward(dy, cache) -> dx`` (or a tuple/list with parameter gradients);
``batchnorm_forward`` also returns the new running statistics.  Caches are opaque.
Kernels keep the input dtype (float32 stays float32) and return fresh gradient
arrays (``add_backward``'s first gradient may be ``dy`` itself), so callers may
accumulate out of place.

Speed: convolutions are im2col + BLAS GEMMs on NHWC data (one GEMM per kernel row
for wide inputs), the input gradient is a transposed convolution (stride 1) or a
GEMM + per-tap strided add (stride > 1).  Column matrices live in module-level
buffers reused across calls (a forward's buffer returns to the pool in its
backward); ``clear_buffers()`` frees them.  Because of these shared buffers the
kernels are not thread-safe: run one kernel at a time per process.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from netdsl.backends.numpy.buffers import column_sum, pool_give, pool_take, scratch
from netdsl.backends.numpy.registry import Ctx, kernel, weighted_backward
from netdsl.backends.numpy.window import lift_sequence, out_hw_of, pad_nhwc, plane_pads
from netdsl.ir.graph import Node
from netdsl.ops.conv import CONV, DECONV, DWCONV

Array = np.ndarray
Pair = tuple[int, int]
Pads = tuple[int, int, int, int]
Cache = dict[str, Any]


CONV_LAYOUT = "auto"  # or force "pixel", "tap" or "row" (the tests run all three)
TAP_MAJOR_MAX_CHANNELS = 3  # tap-major columns for C/groups up to this (first layers)
ROW_TAP_MIN = 128  # one GEMM per kernel row once kw * C/groups reaches this


def _conv_layout(kernel: Pair, cg: int) -> str:
    """Column layout for a conv: "tap" (K, M), "pixel" (M, K) or "row" (kh GEMMs)."""
    kh, kw = kernel
    if CONV_LAYOUT != "auto":
        return "pixel" if CONV_LAYOUT == "row" and kh == 1 else CONV_LAYOUT
    if cg <= TAP_MAJOR_MAX_CHANNELS:
        return "tap"
    return "row" if kh > 1 and kw * cg >= ROW_TAP_MIN else "pixel"


def _im2col(
    xp: Array,
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    out_hw: Pair,
    groups: int,
    layout: str,
    pooled: bool,
    alias_ok: bool = False,
) -> Array:
    """im2col buffer of a padded NHWC input for the given layout (see ``_tap_matrix``).

    pixel: full im2col (G, N, Ho, Wo, kh, kw, Cg); a 1x1/stride-1 ungrouped conv
    returns a view of ``xp`` itself when ``alias_ok``.
    tap: full im2col transposed, (G, kh, kw, Cg, N, Ho, Wo) (cheap to gather for small C).
    row: (G, sh, Q, N, Wo, kw, Cg) with
    ``[g, p, q, n, wo, j, c] = xp[n, q*sh + p, wo*sw + j*dw, g*Cg + c]``; kernel row i
    then reads the contiguous rows q in [i*dh // sh, i*dh // sh + Ho) of phase
    ``i*dh % sh``, ordered (ho, n, wo).  ``xp`` needs at least Q*sh rows.
    """
    n, _, _, c = xp.shape
    kh, kw = kernel
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dilation
    cg = c // groups
    sn, sy, sx, sc = xp.strides
    if layout == "pixel":
        direct = kh == kw == 1 and stride == (1, 1) and groups == 1
        if direct and alias_ok and xp.flags.c_contiguous:
            return xp.reshape(1, n, ho, wo, 1, 1, c)
        shape = (groups, n, ho, wo, kh, kw, cg)
        strides = (cg * sc, sn, sh * sy, sw * sx, dh * sy, dw * sx, sc)
    elif layout == "tap":
        shape = (groups, kh, kw, cg, n, ho, wo)
        strides = (cg * sc, dh * sy, dw * sx, sc, sn, sh * sy, sw * sx)
    else:
        q = (kh - 1) * dh // sh + ho
        shape = (groups, sh, q, n, wo, kw, cg)
        strides = (cg * sc, sy, sh * sy, sn, sw * sx, dw * sx, sc)
    view = as_strided(xp, shape, strides, writeable=False)
    cols = pool_take(shape, xp.dtype) if pooled else scratch("conv_rows", shape, xp.dtype)
    np.copyto(cols, view)
    return cols


def _tap_matrix(cols: Array, i: int, layout: str, dilation: int, stride: int, ho: int) -> Array:
    """(G, M, K) column matrix of GEMM number i (a possibly transposed view of ``cols``)."""
    g = cols.shape[0]
    if layout == "pixel":
        return cols.reshape(g, int(np.prod(cols.shape[1:4])), -1)
    if layout == "tap":
        return cols.reshape(g, int(np.prod(cols.shape[1:4])), -1).transpose(0, 2, 1)
    q0, phase = divmod(i * dilation, stride)
    return cols[:, phase, q0 : q0 + ho].reshape(g, -1, cols.shape[-2] * cols.shape[-1])


def _n_gemms(layout: str, kh: int) -> int:
    """GEMMs per conv for a layout."""
    return kh if layout == "row" else 1


def _tap_weights(w: Array, groups: int, taps: int = 1) -> Array:
    """OIHW weight -> (G, taps, Og, K) matrices, K ordered like ``_tap_matrix`` columns."""
    o, cg, kh, kw = w.shape
    og = o // groups
    wg = w.reshape(groups, og, cg, kh, kw)
    if taps == 1:
        wg = np.ascontiguousarray(wg.transpose(0, 1, 3, 4, 2))  # (G, Og, kh, kw, Cg)
        return wg.reshape(groups, 1, og, kh * kw * cg)
    wg = np.ascontiguousarray(wg.transpose(0, 3, 1, 4, 2))  # (G, kh, Og, kw, Cg)
    return wg.reshape(groups, kh, og, kw * cg)


def _rows_to_nhwc(y: Array, n: int, out_hw: Pair, hnw: bool, transposed: bool) -> Array:
    """GEMM output (G, M, Og), or (G, Og, M) if ``transposed``, -> NHWC.

    M is ordered (ho, n, wo) when ``hnw`` else (n, ho, wo).
    """
    g = y.shape[0]
    og = y.shape[1] if transposed else y.shape[2]
    ho, wo = out_hw
    if g == 1 and not hnw and not transposed:
        return y.reshape(n, ho, wo, og)
    dims = (ho, n, wo) if hnw else (n, ho, wo)
    if transposed:
        v = y.reshape(g, og, *dims)
        v = v.transpose(3, 2, 4, 0, 1) if hnw else v.transpose(2, 3, 4, 0, 1)
    else:
        v = y.reshape(g, *dims, og)
        v = v.transpose(2, 1, 3, 0, 4) if hnw else v.transpose(1, 2, 3, 0, 4)
    out = np.empty((n, ho, wo, g, og), y.dtype)
    np.copyto(out, v)
    return out.reshape(n, ho, wo, g * og)


def _nhwc_to_rows(d: Array, groups: int, hnw: bool = False) -> Array:
    """NHWC gradient -> (G, M, Og) matrices, M ordered (ho, n, wo) if ``hnw``."""
    n, ho, wo, o = d.shape
    og = o // groups
    if not hnw:
        d2 = d.reshape(n * ho * wo, o)
        return d2.reshape(1, -1, o) if groups == 1 else _split_groups(d2, groups)
    v = d.reshape(n, ho, wo, groups, og).transpose(3, 1, 0, 2, 4)
    out = scratch("conv_dy", v.shape, d.dtype)
    np.copyto(out, v)
    return out.reshape(groups, -1, og)


def _padded_rows(tag: str, g: int, rows: int, m: int, dtype: np.dtype) -> Array:
    """(g, rows, m) scratch view whose row stride avoids power-of-two cache aliasing.

    Transposing a (rows, m) matrix whose row stride is a multiple of 4 KiB is 5-10x
    slower (cache-set conflicts); a leading dimension of 16 + 64k elements avoids it,
    and BLAS writes with a padded leading dimension at no cost.
    """
    ld = m + (16 - m) % 64
    return scratch(tag, (g, rows, ld), dtype)[:, :, :m]


def _split_groups(a2: Array, groups: int) -> Array:
    """View an (M, G*P) matrix as (G, M, P)."""
    m, gp = a2.shape
    return a2.reshape(m, groups, gp // groups).transpose(1, 0, 2)


TRANSPOSED_MAX_OUT = 32  # W @ cols^T (transposed output) for narrow outputs ...
TRANSPOSED_MIN_K = 128  # ... of deep GEMMs: OpenBLAS runs it ~15 % faster there


def _transposed_gemm(w: Array, groups: int, layout: str) -> bool:
    """Whether the conv GEMMs should produce the transposed (Og, M) output."""
    k = w.shape[1] * w.shape[3] * (1 if layout == "row" else w.shape[2])
    return w.shape[0] // groups <= TRANSPOSED_MAX_OUT and k >= TRANSPOSED_MIN_K


def _conv_core(
    xp: Array,
    w: Array,
    stride: Pair,
    dilation: Pair,
    groups: int,
    out_hw: Pair,
    layout: str,
    pooled: bool,
    alias_ok: bool,
) -> tuple[Array, Array]:
    """Convolution of an already padded input; returns (NHWC y without bias, cols).

    One GEMM per column matrix (kh of them for the "row" layout, accumulated), either
    cols (M, K) @ W^T (K, Og) or, see ``_transposed_gemm``, W (Og, K) @ cols^T (K, M).
    """
    cols = _im2col(xp, w.shape[2:], stride, dilation, out_hw, groups, layout, pooled, alias_ok)
    taps = _n_gemms(layout, w.shape[2])
    wt = _tap_weights(w, groups, taps)
    args = (layout, dilation[0], stride[0], out_hw[0])
    trans = _transposed_gemm(w, groups, layout)
    g, og, m = groups, w.shape[0] // groups, xp.shape[0] * out_hw[0] * out_hw[1]
    y = _padded_rows("conv_yt", g, og, m, xp.dtype) if trans else None
    tmp = None
    for i in range(taps):
        a = _tap_matrix(cols, i, *args)
        out = y if i == 0 else tmp
        if trans:  # (G, Og, K) @ (G, K, M)
            part = np.matmul(wt[:, i], a.transpose(0, 2, 1), out=out)
        else:  # (G, M, K) @ (G, K, Og)
            part = np.matmul(a, wt[:, i].transpose(0, 2, 1), out=out)
        if i == 0:
            y = part
            tmp = np.empty(y.shape, y.dtype) if taps > 1 else None
        else:
            y += part
    return _rows_to_nhwc(y, xp.shape[0], out_hw, layout == "row", trans), cols


def _padded_input(x: Array, pads: Pads, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair, layout: str) -> Array:
    """Zero-padded input with enough bottom rows for ``_im2col``."""
    kh = kernel[0]
    need = ((kh - 1) * dilation[0] // stride[0] + out_hw[0]) * stride[0] if layout == "row" else 0
    extra = max(0, need - (x.shape[1] + pads[0] + pads[2]))
    full = (pads[0], pads[1], pads[2] + extra, pads[3])
    return pad_nhwc(x, full, 0.0, tag="conv_pad")


def conv2d_forward(
    x: Array, w: Array, b: Array | None, stride: Pair, pads: Pads, dilation: Pair, groups: int, keep_cols: bool = True
) -> tuple[Array, Cache]:
    """2-D convolution of NHWC ``x`` with OIHW ``w`` (zero padding); returns (y, cache).

    ``keep_cols=False`` (inference) builds the columns in a scratch buffer instead of keeping
    them for the backward pass, which then rebuilds them if it runs.
    """
    c = x.shape[3]
    o, cg, kh, kw = w.shape
    if c != cg * groups or o % groups:
        raise ValueError(f"conv: input channels {c}, weight {w.shape}, groups {groups}")
    stride, dilation, pads = tuple(stride), tuple(dilation), tuple(pads)  # type: ignore[assignment]  # lists in
    out_hw = out_hw_of(x, (kh, kw), stride, pads, dilation)
    layout = _conv_layout((kh, kw), cg)
    xp = _padded_input(x, pads, (kh, kw), stride, dilation, out_hw, layout)
    y, cols = _conv_core(xp, w, stride, dilation, groups, out_hw, layout, pooled=keep_cols, alias_ok=xp is x)
    if b is not None:
        y += b
    cache = {
        "x": x,
        "w": w,
        "has_b": b is not None,
        "cols": cols if keep_cols else None,
        "stride": stride,
        "pads": pads,
        "dilation": dilation,
        "groups": groups,
        "out_hw": out_hw,
        "layout": layout,
    }
    return y, cache


def _conv_cols(cache: Cache) -> Array:
    """Column buffer of the forward input (rebuilt if already released)."""
    cols = cache["cols"]
    if cols is None:
        x, kernel, layout = cache["x"], cache["w"].shape[2:], cache["layout"]
        args = (kernel, cache["stride"], cache["dilation"], cache["out_hw"])
        xp = _padded_input(x, cache["pads"], *args, layout)
        cols = _im2col(xp, *args, cache["groups"], layout, pooled=False)
    return cols


def _conv_dw(dy: Array, cache: Cache) -> Array:
    """Weight gradient dy^T @ cols, one GEMM per column matrix."""
    w, groups, layout = cache["w"], cache["groups"], cache["layout"]
    o, cg, kh, kw = w.shape
    (sh, _), (dh, _), ho = cache["stride"], cache["dilation"], cache["out_hw"][0]
    og = o // groups
    cols = _conv_cols(cache)
    dyr = _nhwc_to_rows(dy, groups, layout == "row")
    taps = _n_gemms(layout, kh)
    dwt = np.empty((groups, taps, og, kh * kw * cg // taps), dy.dtype)
    for i in range(taps):  # (G, K, M) @ (G, M, Og), stored as (G, Og, K)
        a = _tap_matrix(cols, i, layout, dh, sh, ho)
        np.matmul(a.transpose(0, 2, 1), dyr, out=dwt[:, i].transpose(0, 2, 1))
    if cols is cache["cols"] and cols.base is None:
        pool_give(cols)
    cache["cols"] = None
    if taps == 1:  # (G, Og, kh, kw, Cg)
        dw = dwt.reshape(groups, og, kh, kw, cg).transpose(0, 1, 4, 2, 3)
    else:  # (G, kh, Og, kw, Cg)
        dw = dwt.reshape(groups, kh, og, kw, cg).transpose(0, 2, 4, 1, 3)
    return np.ascontiguousarray(dw).reshape(o, cg, kh, kw)


def _conv_dx_transposed(dy: Array, cache: Cache) -> Array:
    """Input gradient as a stride-1 convolution of zero-inserted dy with rotated w."""
    x, w, groups = cache["x"], cache["w"], cache["groups"]
    n, h, wd, _ = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = cache["stride"], cache["dilation"]
    top, left = cache["pads"][0], cache["pads"][1]
    hz, wz = h + dh * (kh - 1), wd + dw * (kw - 1)
    zp = scratch("conv_dz", (n, hz, wz, o), dy.dtype)
    # output row oh lands at zp row oh*sh + f with f = dh*(kh-1) - top (may be < 0)
    fr, fc = dh * (kh - 1) - top, dw * (kw - 1) - left
    oh0, ow0 = max(0, (-fr + sh - 1) // sh), max(0, (-fc + sw - 1) // sw)
    oh1 = min(dy.shape[1], (hz - 1 - fr) // sh + 1)
    ow1 = min(dy.shape[2], (wz - 1 - fc) // sw + 1)
    zp.fill(0)
    if oh1 > oh0 and ow1 > ow0:
        zp[:, oh0 * sh + fr : (oh1 - 1) * sh + fr + 1 : sh, ow0 * sw + fc : (ow1 - 1) * sw + fc + 1 : sw] = dy[
            :, oh0:oh1, ow0:ow1
        ]
    og = o // groups
    wr = w.reshape(groups, og, cg, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    wr = wr.reshape(groups * cg, og, kh, kw)
    layout = _conv_layout((kh, kw), og)
    dx, _ = _conv_core(zp, wr, (1, 1), (dh, dw), groups, (h, wd), layout, pooled=False, alias_ok=True)
    return dx


def _conv_dx_col2im(dy: Array, cache: Cache) -> Array:
    """Input gradient as dcols = dy @ W^T followed by one strided add per kernel tap."""
    x, w, groups = cache["x"], cache["w"], cache["groups"]
    n, h, wd, c = x.shape
    o, cg, kh, kw = w.shape
    ho, wo = cache["out_hw"]
    (sh, sw), (dh, dw) = cache["stride"], cache["dilation"]
    top, left = cache["pads"][0], cache["pads"][1]
    wm = _tap_weights(w, groups)[:, 0]  # (G, Og, K)
    dcols = np.matmul(_nhwc_to_rows(dy, groups), wm)
    dcols = dcols.reshape(groups, n, ho, wo, kh, kw, cg)
    dx = np.zeros((n, h, wd, groups, cg), dy.dtype)
    for i in range(kh):
        r = i * dh - top  # input row = oh*sh + r
        a0, a1 = max(0, (-r + sh - 1) // sh), min(ho, (h - 1 - r) // sh + 1)
        for j in range(kw):
            q = j * dw - left
            b0, b1 = max(0, (-q + sw - 1) // sw), min(wo, (wd - 1 - q) // sw + 1)
            if a1 <= a0 or b1 <= b0:
                continue
            src = dcols[:, :, a0:a1, b0:b1, i, j, :].transpose(1, 2, 3, 0, 4)
            dx[:, a0 * sh + r : (a1 - 1) * sh + r + 1 : sh, b0 * sw + q : (b1 - 1) * sw + q + 1 : sw] += src
    return dx.reshape(n, h, wd, c)


CONV_DX_METHOD = "auto"  # or "transposed" / "col2im" (tests force each one)
TRANSPOSED_MIN_CHANNELS = 16  # below this C/groups the transposed GEMM is too narrow


def conv2d_backward(dy: Array, cache: Cache, need_dx: bool = True) -> tuple[Array | None, Array, Array | None]:
    """Gradients (dx, dw, db) of conv2d; dx is None when ``need_dx`` is False."""
    db = column_sum(dy.reshape(-1, dy.shape[-1])) if cache["has_b"] else None
    dw = _conv_dw(dy, cache)
    dx = None
    if need_dx:
        method = CONV_DX_METHOD
        if method == "auto":
            wide = cache["w"].shape[1] >= TRANSPOSED_MIN_CHANNELS
            method = "transposed" if cache["stride"] == (1, 1) and wide else "col2im"
        transposed = method == "transposed"
        dx = _conv_dx_transposed(dy, cache) if transposed else _conv_dx_col2im(dy, cache)
    return dx, dw, db


def conv3d_forward(
    x: Array,
    w: Array,
    b: Array | None,
    stride: tuple,
    pads: tuple,
    dilation: tuple,
    groups: int,
    keep_cols: bool = True,
) -> tuple[Array, Cache]:
    """3-D convolution of NDHWC ``x`` with an (O, C/groups, kd, kh, kw) weight, pads (front, top, left, back,
    bottom, right): one 2-D convolution per depth tap over the strided depth slices it reads, summed."""
    n, d, h, wd, c = x.shape
    kd = w.shape[2]
    sd, dd = stride[0], dilation[0]
    depth = (d + pads[0] + pads[3] - dd * (kd - 1) - 1) // sd + 1
    xp = np.pad(x, ((0, 0), (pads[0], pads[3]), (0, 0), (0, 0), (0, 0))) if pads[0] or pads[3] else x
    y, taps = None, []
    for i in range(kd):
        planes = np.ascontiguousarray(xp[:, i * dd : i * dd + sd * (depth - 1) + 1 : sd]).reshape(n * depth, h, wd, c)
        part, cache = conv2d_forward(
            planes, w[:, :, i], None, stride[1:], plane_pads(pads), dilation[1:], groups, keep_cols
        )
        taps.append(cache)
        y = part if y is None else np.add(y, part, out=y)
    if b is not None:
        y += b
    out = y.reshape(n, depth, *y.shape[1:])
    return out, {
        "rank": 3,
        "taps": taps,
        "xp_shape": xp.shape,
        "x_shape": x.shape,
        "pads": pads,
        "stride": stride,
        "dilation": dilation,
        "has_b": b is not None,
    }


def conv3d_backward(dy: Array, cache: Cache, need_dx: bool = True) -> tuple[Array | None, Array, Array | None]:
    """(dx, dw, db) of conv3d_forward: each depth tap's 2-D gradients, the input's added back at its slices."""
    n, depth = dy.shape[:2]
    planes = np.ascontiguousarray(dy).reshape(n * depth, *dy.shape[2:])
    (sd, dd), (d0, d1) = (cache["stride"][0], cache["dilation"][0]), (cache["pads"][0], cache["pads"][3])
    dxp = np.zeros(cache["xp_shape"], dy.dtype) if need_dx else None
    dws = []
    for i, tap_cache in enumerate(cache["taps"]):
        dx_i, dw_i, _ = conv2d_backward(planes, tap_cache, need_dx)
        dws.append(dw_i)
        if dxp is not None:
            dxp[:, i * dd : i * dd + sd * (depth - 1) + 1 : sd] += dx_i.reshape(n, depth, *dx_i.shape[1:])
    dx = None if dxp is None else np.ascontiguousarray(dxp[:, d0 : dxp.shape[1] - d1])
    db = dy.reshape(-1, dy.shape[-1]).sum(axis=0) if cache["has_b"] else None
    return dx, np.stack(dws, axis=2), db


def conv_forward(
    x: Array,
    w: Array,
    b: Array | None,
    stride: tuple,
    pads: tuple,
    dilation: tuple,
    groups: int,
    keep_cols: bool = True,
) -> tuple[Array, Cache]:
    """Convolution of a channels-last sequence (N, L, C), image or volume: the rank comes from ``x``. A sequence
    is a 1 x L image (the tuned 2-D kernel, no copy); a volume is a sum of 2-D convolutions."""
    if x.ndim == 4:
        return conv2d_forward(x, w, b, stride, pads, dilation, groups, keep_cols)
    if x.ndim == 5:
        return conv3d_forward(x, w, b, stride, pads, dilation, groups, keep_cols)
    kernel, stride2, pads2, dilation2 = lift_sequence(w.shape[2:], stride, pads, dilation)
    y, cache = conv2d_forward(x[:, None], w[:, :, None], b, stride2, pads2, dilation2, groups, keep_cols)
    return y[:, 0], {"rank": 1, "image": cache}


def conv_backward(dy: Array, cache: Cache, need_dx: bool = True) -> tuple[Array | None, Array, Array | None]:
    """Gradients (dx, dw, db) of conv_forward, of whichever rank it ran."""
    rank = cache.get("rank", 2)
    if rank == 2:
        return conv2d_backward(dy, cache, need_dx)
    if rank == 3:
        return conv3d_backward(dy, cache, need_dx)
    dx, dw, db = conv2d_backward(dy[:, None], cache["image"], need_dx)
    return (None if dx is None else dx[:, 0]), dw[:, :, 0], db


@kernel(CONV)
class Conv:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        a = node.attrs
        return conv_forward(
            xs[0],
            ctx.param(node, "weight"),
            ctx.param(node, "bias"),
            a["stride"],
            a["pads"],
            a["dilation"],
            a["groups"],
            keep_cols=ctx.training,
        )

    backward = staticmethod(weighted_backward(conv_backward))


# ---- deconv and dwconv ----


def _taps(kernel: Sequence[int], dilation: Sequence[int], stride: Sequence[int], sizes: Sequence[int]):
    """(tap index, slices of the full output) for each kernel tap, in row-major order, of any rank."""
    for index in itertools.product(*(range(k) for k in kernel)):
        yield (
            index,
            tuple(slice(i * d, i * d + (n - 1) * s + 1, s) for i, d, s, n in zip(index, dilation, stride, sizes)),
        )


def deconv2d_forward(
    x: Array,
    w: Array,
    b: Array | None,
    stride: tuple,
    pads: tuple,
    output_padding: tuple,
    dilation: tuple | None = None,
    groups: int = 1,
) -> tuple[Array, Cache]:
    """Transposed conv of channels-last x (N, *sizes, C) with a (C, filters/groups, *kernel) weight, of any rank:
    one matrix product gives every input position's weighted kernel, added into the full output at stride
    steps; then `pads` (begins of each axis, then ends) are cropped and `output_padding` zeros appended at the
    end of each axis."""
    n, *sizes, c = x.shape
    rank = len(sizes)
    _, fg, *kernel = w.shape
    dilation = dilation or (1,) * rank
    cg = c // groups
    full_sizes = tuple(
        (i - 1) * s + d * (k - 1) + 1 + p for i, s, d, k, p in zip(sizes, stride, dilation, kernel, output_padding)
    )
    full = np.zeros((n, *full_sizes, groups * fg), x.dtype)
    for g in range(groups):
        cols = x[..., g * cg : (g + 1) * cg].reshape(-1, cg) @ w[g * cg : (g + 1) * cg].reshape(cg, -1)
        cols = cols.reshape(n, *sizes, fg, *kernel)
        for index, where in _taps(kernel, dilation, stride, sizes):
            full[(slice(None), *where, slice(g * fg, (g + 1) * fg))] += cols[(Ellipsis, *index)]
    crop = tuple(slice(b, f - e) for b, e, f in zip(pads[:rank], pads[rank:], full_sizes))
    y = full[(slice(None), *crop)]
    if b is not None:
        y = y + b
    cache = {
        "x": x,
        "w": w,
        "stride": stride,
        "pads": pads,
        "full": full_sizes,
        "dilation": dilation,
        "groups": groups,
        "has_bias": b is not None,
    }
    return y, cache


def deconv2d_backward(dy: Array, cache: Cache, need_dx: bool = True) -> tuple[Array | None, Array, Array | None]:
    """(dx, dw, db): the full output's gradient gathered back per kernel tap (a strided conv)."""
    x, w, groups = cache["x"], cache["w"], cache["groups"]
    n, *sizes, c = x.shape
    _, fg, *kernel = w.shape
    cg = c // groups
    begins = cache["pads"][: len(sizes)]
    dfull = np.zeros((n, *cache["full"], dy.shape[-1]), dy.dtype)
    dfull[(slice(None), *(slice(b, b + o) for b, o in zip(begins, dy.shape[1:-1])))] = dy
    dx = np.empty_like(x) if need_dx else None
    dw = np.empty_like(w)
    rows = n * math.prod(sizes)
    for g in range(groups):
        dcols = np.empty((n, *sizes, fg, *kernel), dy.dtype)
        for index, where in _taps(kernel, cache["dilation"], cache["stride"], sizes):
            dcols[(Ellipsis, *index)] = dfull[(slice(None), *where, slice(g * fg, (g + 1) * fg))]
        dcols = dcols.reshape(rows, -1)
        wg = w[g * cg : (g + 1) * cg].reshape(cg, -1)
        dw[g * cg : (g + 1) * cg] = (x[..., g * cg : (g + 1) * cg].reshape(-1, cg).T @ dcols).reshape(cg, fg, *kernel)
        if dx is not None:
            dx[..., g * cg : (g + 1) * cg] = (dcols @ wg.T).reshape(n, *sizes, cg)
    db = dy.reshape(-1, dy.shape[-1]).sum(axis=0) if cache["has_bias"] else None
    return dx, dw, db


@kernel(DECONV)
class Deconv:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        a = node.attrs
        return deconv2d_forward(
            xs[0],
            ctx.param(node, "weight"),
            ctx.param(node, "bias"),
            a["stride"],
            a["pads"],
            a["output_padding"],
            a["dilation"],
            a["groups"],
        )

    backward = staticmethod(weighted_backward(deconv2d_backward))


@kernel(DWCONV)
class DwConv:
    """A conv with one group per channel: the conv kernel, with the filters and groups dwconv derived."""

    forward = Conv.forward
    backward = Conv.backward
