"""NumPy forward/backward kernels for the netdsl training backend.

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

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

Array = np.ndarray
Pair = tuple[int, int]
Pads = tuple[int, int, int, int]
Cache = dict[str, Any]

# ---------------------------------------------------------------------------
# scratch buffers
# ---------------------------------------------------------------------------

_SCRATCH: dict[tuple[str, str], Array] = {}
_ONES: dict[tuple[int, str], Array] = {}
_POOL: dict[tuple[tuple[int, ...], str], list[Array]] = {}
_POOL_DEPTH = 32  # free column buffers kept per shape (one per pending conv)


def _scratch(tag: str, shape: tuple[int, ...], dtype: np.dtype) -> Array:
    """Reusable uninitialised buffer, one per tag (grown to the largest request).

    The result must not escape the calling kernel and two buffers with the same tag
    must never be alive at the same time.
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    buf = _SCRATCH.get((tag, dtype.str))
    if buf is None or buf.size < size:
        buf = _SCRATCH[(tag, dtype.str)] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


def _pool_take(shape: tuple[int, ...], dtype: np.dtype) -> Array:
    """Take an uninitialised buffer from the pool (or allocate a fresh one)."""
    free = _POOL.get((tuple(shape), np.dtype(dtype).str))
    return free.pop() if free else np.empty(shape, dtype)


def _pool_give(buf: Array) -> None:
    """Return a buffer obtained from ``_pool_take`` for later reuse."""
    free = _POOL.setdefault((buf.shape, buf.dtype.str), [])
    if len(free) < _POOL_DEPTH:
        free.append(buf)


def _column_sum(a2: Array) -> Array:
    """Sum over the rows of a 2-D array as a BLAS GEMV (much faster than axis-0 sum)."""
    key = (a2.shape[0], a2.dtype.str)
    ones = _ONES.get(key)
    if ones is None:
        ones = _ONES[key] = np.ones(a2.shape[0], a2.dtype)
    return ones @ a2


def clear_buffers() -> None:
    """Drop every cached scratch buffer (frees memory; results are unaffected)."""
    _SCRATCH.clear()
    _ONES.clear()
    _POOL.clear()


# ---------------------------------------------------------------------------
# geometry helpers
# ---------------------------------------------------------------------------


def conv_output_size(size: int, k: int, s: int, p0: int, p1: int, d: int = 1) -> int:
    """Output length of a convolution/pooling window along one axis."""
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def _out_hw(x: Array, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair) -> Pair:
    """Output (Ho, Wo) for an NHWC input."""
    ho = conv_output_size(x.shape[1], kernel[0], stride[0], pads[0], pads[2], dilation[0])
    wo = conv_output_size(x.shape[2], kernel[1], stride[1], pads[1], pads[3], dilation[1])
    if ho <= 0 or wo <= 0:
        raise ValueError(f"window {kernel} does not fit input {x.shape[1:3]} with pads {pads}")
    return ho, wo


def _pad_nhwc(x: Array, pads: Pads, value: float = 0.0, tag: str = "") -> Array:
    """Pad H and W of an NHWC array (returns ``x`` itself when pads are zero)."""
    top, left, bottom, right = pads
    if not any(pads):
        return x
    n, h, w, c = x.shape
    shape = (n, h + top + bottom, w + left + right, c)
    out = _scratch(tag, shape, x.dtype) if tag else np.empty(shape, x.dtype)
    out[:, :top] = value
    out[:, top + h :] = value
    out[:, top : top + h, :left] = value
    out[:, top : top + h, left + w :] = value
    out[:, top : top + h, left : left + w] = x
    return out


def _tap(xp: Array, i: int, j: int, out_hw: Pair, stride: Pair, dilation: Pair) -> slice:
    """Index selecting the (N, Ho, Wo, C) inputs seen by kernel offset (i, j)."""
    ho, wo = out_hw
    r0, c0 = i * dilation[0], j * dilation[1]
    return (
        slice(None),
        slice(r0, r0 + stride[0] * (ho - 1) + 1, stride[0]),
        slice(c0, c0 + stride[1] * (wo - 1) + 1, stride[1]),
    )


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


def _im2col(xp: Array, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair,
              groups: int, layout: str, pooled: bool, alias_ok: bool = False) -> Array:
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
    cols = _pool_take(shape, xp.dtype) if pooled else _scratch("conv_rows", shape, xp.dtype)
    np.copyto(cols, view)
    return cols


def _tap_matrix(cols: Array, i: int, layout: str, dilation: int, stride: int, ho: int
                ) -> Array:
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
    out = _scratch("conv_dy", v.shape, d.dtype)
    np.copyto(out, v)
    return out.reshape(groups, -1, og)


def _padded_rows(tag: str, g: int, rows: int, m: int, dtype: np.dtype) -> Array:
    """(g, rows, m) scratch view whose row stride avoids power-of-two cache aliasing.

    Transposing a (rows, m) matrix whose row stride is a multiple of 4 KiB is 5-10x
    slower (cache-set conflicts); a leading dimension of 16 + 64k elements avoids it,
    and BLAS writes with a padded leading dimension at no cost.
    """
    ld = m + (16 - m) % 64
    return _scratch(tag, (g, rows, ld), dtype)[:, :, :m]


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


def _conv_core(xp: Array, w: Array, stride: Pair, dilation: Pair, groups: int,
               out_hw: Pair, layout: str, pooled: bool, alias_ok: bool) -> tuple[Array, Array]:
    """Convolution of an already padded input; returns (NHWC y without bias, cols).

    One GEMM per column matrix (kh of them for the "row" layout, accumulated), either
    cols (M, K) @ W^T (K, Og) or, see ``_transposed_gemm``, W (Og, K) @ cols^T (K, M).
    """
    cols = _im2col(xp, w.shape[2:], stride, dilation, out_hw, groups, layout, pooled,
                     alias_ok)
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


def _padded_input(x: Array, pads: Pads, kernel: Pair, stride: Pair, dilation: Pair,
                  out_hw: Pair, layout: str) -> Array:
    """Zero-padded input with enough bottom rows for ``_im2col``."""
    kh = kernel[0]
    need = ((kh - 1) * dilation[0] // stride[0] + out_hw[0]) * stride[0] if layout == "row" else 0
    extra = max(0, need - (x.shape[1] + pads[0] + pads[2]))
    full = (pads[0], pads[1], pads[2] + extra, pads[3])
    return _pad_nhwc(x, full, 0.0, tag="conv_pad")


def conv2d_forward(x: Array, w: Array, b: Array | None, stride: Pair, pads: Pads,
                   dilation: Pair, groups: int, keep_cols: bool = True) -> tuple[Array, Cache]:
    """2-D convolution of NHWC ``x`` with OIHW ``w`` (zero padding); returns (y, cache).

    ``keep_cols=False`` (inference) builds the columns in a scratch buffer instead of keeping
    them for the backward pass, which then rebuilds them if it runs.
    """
    c = x.shape[3]
    o, cg, kh, kw = w.shape
    if c != cg * groups or o % groups:
        raise ValueError(f"conv: input channels {c}, weight {w.shape}, groups {groups}")
    stride, dilation, pads = tuple(stride), tuple(dilation), tuple(pads)
    out_hw = _out_hw(x, (kh, kw), stride, pads, dilation)
    layout = _conv_layout((kh, kw), cg)
    xp = _padded_input(x, pads, (kh, kw), stride, dilation, out_hw, layout)
    y, cols = _conv_core(xp, w, stride, dilation, groups, out_hw, layout, pooled=keep_cols,
                         alias_ok=xp is x)
    if b is not None:
        y += b
    cache = {"x": x, "w": w, "has_b": b is not None, "cols": cols if keep_cols else None, "stride": stride,
             "pads": pads, "dilation": dilation, "groups": groups, "out_hw": out_hw,
             "layout": layout}
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
        _pool_give(cols)
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
    zp = _scratch("conv_dz", (n, hz, wz, o), dy.dtype)
    # output row oh lands at zp row oh*sh + f with f = dh*(kh-1) - top (may be < 0)
    fr, fc = dh * (kh - 1) - top, dw * (kw - 1) - left
    oh0, ow0 = max(0, (-fr + sh - 1) // sh), max(0, (-fc + sw - 1) // sw)
    oh1 = min(dy.shape[1], (hz - 1 - fr) // sh + 1)
    ow1 = min(dy.shape[2], (wz - 1 - fc) // sw + 1)
    zp.fill(0)
    if oh1 > oh0 and ow1 > ow0:
        zp[:, oh0 * sh + fr : (oh1 - 1) * sh + fr + 1 : sh,
           ow0 * sw + fc : (ow1 - 1) * sw + fc + 1 : sw] = dy[:, oh0:oh1, ow0:ow1]
    og = o // groups
    wr = w.reshape(groups, og, cg, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    wr = wr.reshape(groups * cg, og, kh, kw)
    layout = _conv_layout((kh, kw), og)
    dx, _ = _conv_core(zp, wr, (1, 1), (dh, dw), groups, (h, wd), layout, pooled=False,
                       alias_ok=True)
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
            dx[:, a0 * sh + r : (a1 - 1) * sh + r + 1 : sh,
               b0 * sw + q : (b1 - 1) * sw + q + 1 : sw] += src
    return dx.reshape(n, h, wd, c)


CONV_DX_METHOD = "auto"  # or "transposed" / "col2im" (tests force each one)
TRANSPOSED_MIN_CHANNELS = 16  # below this C/groups the transposed GEMM is too narrow


def conv2d_backward(dy: Array, cache: Cache, need_dx: bool = True
                    ) -> tuple[Array | None, Array, Array | None]:
    """Gradients (dx, dw, db) of conv2d; dx is None when ``need_dx`` is False."""
    db = _column_sum(dy.reshape(-1, dy.shape[-1])) if cache["has_b"] else None
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


# ---------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------


def _taps(kernel: Pair) -> list[Pair]:
    """Kernel offsets in row-major order."""
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


def maxpool2d_forward(x: Array, kernel: Pair, stride: Pair, pads: Pads,
                      dilation: Pair = (1, 1)) -> tuple[Array, Cache]:
    """Max pooling over NHWC windows; padding never wins."""
    out_hw = _out_hw(x, kernel, stride, pads, dilation)
    xp = _pad_nhwc(x, pads, -np.inf)
    views = [xp[_tap(xp, i, j, out_hw, stride, dilation)] for i, j in _taps(kernel)]
    y = np.maximum(views[0], views[1]) if len(views) > 1 else views[0].copy()
    for v in views[2:]:
        np.maximum(y, v, out=y)
    cache = {"xp": xp, "y": y, "x_shape": x.shape, "kernel": kernel, "stride": stride,
             "pads": pads, "dilation": dilation, "out_hw": out_hw}
    return y, cache


def _crop(dxp: Array, pads: Pads, shape: tuple[int, ...]) -> Array:
    """Remove the H/W padding of a padded NHWC gradient."""
    if not any(pads):
        return dxp
    return np.ascontiguousarray(dxp[:, pads[0] : pads[0] + shape[1], pads[1] : pads[1] + shape[2]])


def _disjoint(kernel: Pair, stride: Pair, dilation: Pair) -> bool:
    """True when no input element belongs to two windows."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))


def maxpool2d_backward(dy: Array, cache: Cache) -> Array:
    """Route dy to the first maximum (row-major within the window) of each window."""
    xp, y, stride, dilation = cache["xp"], cache["y"], cache["stride"], cache["dilation"]
    kernel, out_hw, taps = cache["kernel"], cache["out_hw"], _taps(cache["kernel"])
    disjoint = _disjoint(kernel, stride, dilation)
    tiles = zip(stride, kernel, out_hw, xp.shape[1:3])  # windows tile the whole input?
    covered = dilation == (1, 1) and all(s == k and o * s == n for s, k, o, n in tiles)
    dxp = (np.empty if covered else np.zeros)(xp.shape, dy.dtype)
    free = np.ones(y.shape, bool)
    hit = np.empty(y.shape, bool)
    for n, (i, j) in enumerate(taps):
        idx = _tap(xp, i, j, out_hw, stride, dilation)
        np.equal(xp[idx], y, out=hit)
        if n:
            np.logical_and(hit, free, out=hit)
        if n + 1 < len(taps):
            np.logical_xor(free, hit, out=free)  # hit is a subset of free
        if disjoint:
            np.multiply(dy, hit, out=dxp[idx])
        else:
            dxp[idx] += dy * hit
    return _crop(dxp, cache["pads"], cache["x_shape"])


def _window_counts(size: int, k: int, s: int, p0: int, out: int, d: int) -> Array:
    """Number of non-pad elements in each window along one axis."""
    start = np.arange(out) * s - p0
    taps = start[:, None] + d * np.arange(k)[None, :]
    return ((taps >= 0) & (taps < size)).sum(axis=1)


def avgpool2d_forward(x: Array, kernel: Pair, stride: Pair, pads: Pads,
                      dilation: Pair = (1, 1)) -> tuple[Array, Cache]:
    """Average pooling that divides by the number of real (non-pad) elements."""
    out_hw = _out_hw(x, kernel, stride, pads, dilation)
    xp = _pad_nhwc(x, pads, 0.0, tag="avgpool_pad")
    taps = _taps(kernel)
    y = xp[_tap(xp, *taps[0], out_hw, stride, dilation)].copy()
    for i, j in taps[1:]:
        y += xp[_tap(xp, i, j, out_hw, stride, dilation)]
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
    for i, j in _taps(cache["kernel"]):
        dxp[_tap(dxp, i, j, out_hw, stride, dilation)] += g
    return _crop(dxp, cache["pads"], cache["x_shape"])


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


# ---------------------------------------------------------------------------
# dense, reshape, merges
# ---------------------------------------------------------------------------


def fc_forward(x: Array, w: Array, b: Array | None) -> tuple[Array, Cache]:
    """Dense layer y = x @ w.T + b with w in (units, in) layout."""
    y = np.matmul(x, w.T)
    if b is not None:
        y += b
    return y, {"x": x, "w": w, "has_b": b is not None}


def fc_backward(dy: Array, cache: Cache, need_dx: bool = True
                ) -> tuple[Array | None, Array, Array | None]:
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


def add_forward(*xs: Array) -> tuple[Array, Cache]:
    """Elementwise sum of inputs (numpy broadcasting allowed)."""
    y = xs[0] + xs[1] if len(xs) > 1 else xs[0].copy()
    for x in xs[2:]:
        if np.broadcast_shapes(y.shape, x.shape) == y.shape:
            y += x
        else:
            y = y + x
    return y, {"shapes": [x.shape for x in xs]}


def _unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum a gradient over the axes that were broadcast to reach g.shape."""
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + k for k, s in enumerate(shape) if s == 1 and g.shape[lead + k] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def add_backward(dy: Array, cache: Cache) -> list[Array]:
    """Gradient for each addend; they never share memory with each other."""
    out = []
    for k, shape in enumerate(cache["shapes"]):
        g = _unbroadcast(dy, shape)
        out.append(g if (k == 0 or g is not dy) else dy.copy())
    return out


def concat_forward(*xs: Array) -> tuple[Array, Cache]:
    """Concatenate along the last (channel) axis."""
    return np.concatenate(xs, axis=-1), {"sizes": [x.shape[-1] for x in xs]}


def concat_backward(dy: Array, cache: Cache) -> list[Array]:
    """Split dy along the last axis into contiguous per-input gradients."""
    edges = np.cumsum(cache["sizes"])[:-1]
    return [np.ascontiguousarray(p) for p in np.split(dy, edges, axis=-1)]


# ---------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# regularisation and normalisation
# ---------------------------------------------------------------------------


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
        mean = _column_sum(x2) * (1.0 / count)
        xhat = x2 - mean
        sq = np.multiply(xhat, xhat, out=_scratch("bn_sq", xhat.shape, xhat.dtype))
        var = _column_sum(sq) * (1.0 / count)
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
    dbeta = _column_sum(dy2)
    tmp = np.multiply(dy2, xhat, out=_scratch("bn_sq", xhat.shape, xhat.dtype))
    dgamma = _column_sum(tmp)
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
