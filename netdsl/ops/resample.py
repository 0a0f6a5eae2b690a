"""Ops that change the spatial size, of LANGUAGE.md section 9: upsample and zeropad; and shuffle (LANGUAGE.md
section 10), which reorders the channels."""

from __future__ import annotations

from typing import Any

from netdsl.ops.base import (
    RANK_NAMES,
    Arg,
    ArgError,
    Every,
    Input,
    OpDef,
    Shape,
    ShapeError,
    choice,
    fmt_shape,
    pair,
    per_axis,
    positive_int,
)
from netdsl.ops.window import require_image, require_spatial

# ---- upsample ----


def _upsample_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c, *sizes = require_spatial(ins, "upsample")
    scale = per_axis(attrs["scale"], len(sizes), "scale")
    return (c, *(i * s for i, s in zip(sizes, scale))), {"scale": scale}


UPSAMPLE = OpDef(
    name="upsample",
    aliases=("upsampling2d", "upsampling", "resize"),
    args=(Arg("scale", pair(), 2), Arg("mode", choice("nearest", "bilinear"), "nearest")),
    infer=_upsample_infer,
    receptive="none",  # its stride in input pixels would be a fraction
    shown=("scale", "mode"),
)

# ---- zeropad ----


def zero_padding(value: Any, name: str) -> tuple[int, ...]:
    """An int (every side of every axis), one per axis `(ph, pw)` (both sides) or a (before, after) pair per
    axis `(top, bottom, left, right)`, each at least 0; the shape rule resolves it against the input's rank."""
    items = value if isinstance(value, tuple) else (value,)
    if not 1 <= len(items) <= 6 or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in items):
        raise ArgError(
            f"{name} takes one integer, one per axis (ph, pw) or two per axis (top, bottom, left, right), "
            f"each at least 0, received {name}={value!r}"
        )
    return Every(items * 2) if len(items) == 1 else tuple(items)


def zeropad_sides(pad: tuple[int, ...], rank: int) -> tuple[tuple[int, int], ...]:
    """(before, after) of each spatial axis."""
    if isinstance(pad, Every):
        return ((pad[0], pad[0]),) * rank
    if len(pad) == rank:
        return tuple((p, p) for p in pad)
    if len(pad) == 2 * rank:
        return tuple((pad[2 * i], pad[2 * i + 1]) for i in range(rank))
    raise ShapeError(
        f"has pad={fmt_shape(pad)} ({len(pad)} values), but its input is {RANK_NAMES[rank]}: give one "
        f"integer, {rank} (one per axis) or {2 * rank} (before and after each axis)"
    )


def _zeropad_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c, *sizes = require_spatial(ins, "zeropad")
    sides = zeropad_sides(attrs["pad"], len(sizes))
    out = tuple(i + b + a for i, (b, a) in zip(sizes, sides))
    return (c, *out), {"pads": tuple(b for b, _ in sides) + tuple(a for _, a in sides)}


ZEROPAD = OpDef(
    name="zeropad",
    aliases=("zeropadding2d", "zeropad2d"),
    args=(Arg("pad", zero_padding),),
    infer=_zeropad_infer,
    shown=("pad",),
)

# ---- shuffle ----


def _shuffle_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c = require_image(ins, "shuffle")[0]
    if c % attrs["groups"]:
        raise ShapeError(
            f"has groups={attrs['groups']}, which must divide the {c} channels of {ins[0].name} "
            f"({fmt_shape(ins[0].shape)}); {c} is not a multiple of {attrs['groups']}"
        )
    return ins[0].shape, {}


# ShuffleNet's channel shuffle: channel g*(C/groups) + i moves to i*groups + g (a transpose of the groups)
SHUFFLE = OpDef(
    name="shuffle",
    aliases=("channelshuffle", "channel_shuffle"),
    args=(Arg("groups", positive_int()),),
    infer=_shuffle_infer,
    shown=("groups",),
    traits=frozenset({"reshape"}),
)

OPS = (UPSAMPLE, ZEROPAD, SHUFFLE)
