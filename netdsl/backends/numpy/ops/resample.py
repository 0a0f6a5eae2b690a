"""upsample and zeropad on NumPy (NHWC): forward -> (y, cache), backward -> gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.backends.numpy.registry import Ctx, kernel, unary_backward
from netdsl.ir.graph import Node
from netdsl.ops.resample import UPSAMPLE, ZEROPAD
from netdsl.reference import interpolation_matrix

Array = np.ndarray
Cache = dict[str, Any]
Pair = tuple[int, int]
Pads = tuple[int, int, int, int]


def upsample_nearest_forward(x: Array, scale: tuple) -> tuple[Array, Cache]:
    """Each position repeated scale times along each spatial axis (L; H and W; D, H and W)."""
    y = x
    for axis, s in enumerate(scale, start=1):
        y = y.repeat(s, axis=axis)
    return y, {"scale": scale, "shape": x.shape}


def upsample_nearest_backward(dy: Array, cache: Cache) -> Array:
    """Each input position collects the gradients of its copies."""
    n, *sizes, c = cache["shape"]
    split = [d for i, s in zip(sizes, cache["scale"]) for d in (i, s)]
    return dy.reshape(n, *split, c).sum(axis=tuple(range(2, 2 * len(sizes) + 1, 2)))


def _along(matrix: Array, a: Array, axis: int) -> Array:
    """``matrix`` (P, I) applied along ``axis`` of a (size I there -> size P)."""
    return np.moveaxis(np.tensordot(matrix, a, axes=([1], [axis])), 0, axis)


def upsample_bilinear_forward(x: Array, scale: tuple) -> tuple[Array, Cache]:
    """Separable linear interpolation along each spatial axis (linear, bilinear, trilinear)."""
    if x.ndim == 4:  # images: the einsum path (measured)
        rows = interpolation_matrix(x.shape[1], scale[0]).astype(x.dtype)
        cols = interpolation_matrix(x.shape[2], scale[1]).astype(x.dtype)
        y = np.einsum("ph,nhwc->npwc", rows, x, optimize=True)
        return np.einsum("qw,npwc->npqc", cols, y, optimize=True), {"rows": rows, "cols": cols}
    matrices = [interpolation_matrix(i, s).astype(x.dtype) for i, s in zip(x.shape[1:-1], scale)]
    y = x
    for axis, matrix in enumerate(matrices, start=1):
        y = _along(matrix, y, axis)
    return np.ascontiguousarray(y), {"matrices": matrices}


def upsample_bilinear_backward(dy: Array, cache: Cache) -> Array:
    """The transposed interpolation."""
    if "matrices" in cache:
        d = dy
        for axis, matrix in enumerate(cache["matrices"], start=1):
            d = _along(matrix.T, d, axis)
        return np.ascontiguousarray(d)
    d = np.einsum("qw,npqc->npwc", cache["cols"], dy, optimize=True)
    return np.einsum("ph,npwc->nhwc", cache["rows"], d, optimize=True)


def zeropad_forward(x: Array, pads: tuple) -> tuple[Array, Cache]:
    """Zeros around each spatial axis: pads are the begins of each axis, then the ends ((top, left, bottom,
    right) for images)."""
    rank = x.ndim - 2
    widths = ((0, 0), *zip(pads[:rank], pads[rank:]), (0, 0))
    return np.pad(x, widths), {"pads": pads, "shape": x.shape}


def zeropad_backward(dy: Array, cache: Cache) -> Array:
    _, *sizes, _ = cache["shape"]
    return dy[(slice(None), *(slice(b, b + i) for b, i in zip(cache["pads"], sizes)))]


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


@kernel(ZEROPAD)
class ZeroPad:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return zeropad_forward(xs[0], node.attrs["pads"])

    backward = staticmethod(unary_backward(zeropad_backward))
