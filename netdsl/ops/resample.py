"""Ops that change the spatial size, of LANGUAGE.md section 9: upsample and zeropad; and shuffle (LANGUAGE.md
section 10), which reorders the channels."""

from __future__ import annotations

from typing import Any

from netdsl.ops.base import Arg, ArgError, Input, OpDef, Shape, ShapeError, choice, fmt_shape, pair, positive_int
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

# ---- shuffle ----


def _shuffle_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c = require_image(ins, "shuffle")[0]
    if c % attrs["groups"]:
        raise ShapeError(f"has groups={attrs['groups']}, which must divide the {c} channels of {ins[0].name} "
                         f"({fmt_shape(ins[0].shape)}); {c} is not a multiple of {attrs['groups']}")
    return ins[0].shape, {}


# ShuffleNet's channel shuffle: channel g*(C/groups) + i moves to i*groups + g (a transpose of the groups)
SHUFFLE = OpDef(name="shuffle", aliases=("channelshuffle", "channel_shuffle"), args=(Arg("groups", positive_int()),),
                infer=_shuffle_infer, shown=("groups",), traits=frozenset({"reshape"}))

OPS = (UPSAMPLE, ZEROPAD, SHUFFLE)
