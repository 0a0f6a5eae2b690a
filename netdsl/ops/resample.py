"""Ops that change the spatial size, of LANGUAGE.md section 9: upsample and zeropad."""

from __future__ import annotations

from typing import Any

from netdsl.ops.base import Arg, ArgError, Input, OpDef, Shape, choice, pair
from netdsl.ops.window import require_image

# ---- upsample ----


def _upsample_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c, h, w = require_image(ins, "upsample")
    sh, sw = attrs["scale"]
    return (c, h * sh, w * sw), {}


UPSAMPLE = OpDef(
    name="upsample",
    aliases=("upsampling2d", "upsampling", "resize"),
    args=(Arg("scale", pair(), 2), Arg("mode", choice("nearest", "bilinear"), "nearest")),
    infer=_upsample_infer,
    receptive="none",  # its stride in input pixels would be a fraction
    shown=("scale", "mode"),
)

# ---- zeropad ----


def zero_padding(value: Any, name: str) -> tuple[int, int, int, int]:
    """An int, `(ph, pw)` or `(top, bottom, left, right)`, each at least 0 -> (top, bottom, left, right)."""
    items = value if isinstance(value, tuple) else (value,)
    if len(items) not in (1, 2, 4) or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in items):
        raise ArgError(f"{name} takes one integer, (ph, pw) or (top, bottom, left, right), each at least 0, "
                       f"received {name}={value!r}")
    if len(items) == 1:
        return (items[0],) * 4
    if len(items) == 2:
        return (items[0], items[0], items[1], items[1])
    return tuple(items)


def _zeropad_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c, h, w = require_image(ins, "zeropad")
    top, bottom, left, right = attrs["pad"]
    return (c, h + top + bottom, w + left + right), {"pads": (top, left, bottom, right)}


ZEROPAD = OpDef(name="zeropad", aliases=("zeropadding2d", "zeropad2d"), args=(Arg("pad", zero_padding),),
                infer=_zeropad_infer, shown=("pad",))

OPS = (UPSAMPLE, ZEROPAD)
