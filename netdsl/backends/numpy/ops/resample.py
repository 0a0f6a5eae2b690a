"""upsample, zeropad and shuffle on NumPy (NHWC): forward -> (y, cache), backward -> gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.backends.numpy.registry import Ctx, kernel, unary_backward
from netdsl.ir.graph import Node
from netdsl.ops.resample import SHUFFLE, UPSAMPLE, ZEROPAD
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
