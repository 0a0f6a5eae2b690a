"""Convolutions: conv, deconv (PyTorch's ConvTranspose2d) and dwconv (a depthwise conv). Shape rules of
LANGUAGE.md sections 4 and 9."""

from __future__ import annotations

import math
from typing import cast

from netdsl.ops.base import (
    Arg,
    Input,
    OpDef,
    ParamSpec,
    Shape,
    ShapeError,
    activation,
    boolean,
    fmt_shape,
    padding,
    pair,
    per_axis,
    positive_int,
)
from netdsl.ops.window import pad_axes, require_spatial, window_axes, window_shape, with_activation

# ---- conv ----


def _conv_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c = require_spatial(ins, "conv")[0]
    groups, filters = attrs["groups"], attrs["filters"]
    if c % groups or filters % groups:
        raise ShapeError(
            f"has groups={groups}, which must divide both the input channels ({c}, from "
            f"{ins[0].name}) and filters={filters}"
        )
    return window_shape(attrs, ins, filters, "conv")


def _conv_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    kernel = per_axis(attrs["kernel"], len(ins[0].shape) - 1, "kernel")
    c = ins[0].shape[0]
    tensors = {"weight": ParamSpec((attrs["filters"], c // attrs["groups"], *kernel))}
    if attrs["bias"]:
        tensors["bias"] = ParamSpec((attrs["filters"],), "zeros")
    return tensors


def _conv_macs(attrs: dict, ins: list[Input], out: Shape) -> int:
    taps = math.prod(per_axis(attrs["kernel"], len(ins[0].shape) - 1, "kernel"))
    return math.prod(out[1:]) * attrs["filters"] * taps * ins[0].shape[0] // attrs["groups"]


CONV = OpDef(
    name="conv",
    aliases=("conv2d", "convolution", "convolution2d"),
    args=(
        Arg("filters", positive_int()),
        Arg("kernel", pair()),
        Arg("stride", pair(), 1),
        Arg("pad", padding, "valid"),
        Arg("dilation", pair(), 1),
        Arg("groups", positive_int(), 1),
        Arg("bias", boolean, True),
        Arg("activation", activation, "none"),
    ),
    infer=_conv_infer,
    tensors=_conv_tensors,
    macs=_conv_macs,
    receptive="window",
    shown=("filters", "kernel", "stride", "pad", "dilation", "groups"),
    expand=with_activation("conv"),
    traits=frozenset({"conv", "windowed"}),
)

# ---- deconv ----


def deconv_axis(i: int, k: int, s: int, d: int, pad: str | int, output_pad: int) -> tuple[int, int, int, int]:
    """One spatial axis of a transposed conv: (output size, crop before, crop after, zeros after).

    The full transposed conv has (i - 1)*s + d*(k - 1) + 1 values; the output drops `crop` values at the
    start and end and appends `zeros` (ONNX's pads and output_padding)."""
    span = d * (k - 1) + 1
    if pad == "same":  # Keras' Conv2DTranspose(padding="same"): o = i*s, the extra crop at the end
        total = span - s
        before, after = (total // 2, total - total // 2) if total >= 0 else (0, 0)
        return i * s, before, after, max(-total, 0)
    crop = cast(int, pad)  # not "same" here: an int
    return (i - 1) * s - 2 * crop + span + output_pad, crop, crop, output_pad


def _deconv_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    shape = require_spatial(ins, "deconv")
    c, rank = shape[0], len(shape) - 1
    groups, filters = attrs["groups"], attrs["filters"]
    if c % groups or filters % groups:
        raise ShapeError(
            f"has groups={groups}, which must divide both the input channels ({c}, from "
            f"{ins[0].name}) and filters={filters}"
        )
    axes = window_axes(attrs, rank)
    output_pad, pad = per_axis(attrs["output_pad"], rank, "output_pad"), attrs["pad"]
    if pad == "same" and any(output_pad):
        raise ShapeError(
            "has pad=same, which already gives input size x stride; output_pad works with "
            "explicit pads only (drop output_pad or give pad=p)"
        )
    for op, s, d in zip(output_pad, axes["stride"], axes["dilation"]):
        if op >= s and op >= d:
            raise ShapeError(
                f"has output_pad={op} but stride={s}: output_pad picks one of the {s} output sizes "
                f"that a stride-{s} conv maps back to the same input size, so it must be smaller "
                f"than stride (or dilation); use output_pad={max(s, d) - 1} at most"
            )
    pads = pad_axes(pad, rank)
    per = [
        deconv_axis(i, k, s, d, "same" if pad == "same" else p, o)
        for i, k, s, d, p, o in zip(shape[1:], axes["kernel"], axes["stride"], axes["dilation"], pads, output_pad)
    ]
    out = tuple(o for o, *_ in per)
    if min(out) < 1:
        raise ShapeError(
            f"gives an output of {fmt_shape(out)} from {ins[0].name}'s {fmt_shape(ins[0].shape)}: "
            f"pad={fmt_shape(pads)} crops more than the transposed conv produces"
        )
    return (filters, *out), {
        **axes,
        "pads": tuple(p[1] for p in per) + tuple(p[2] for p in per),
        "output_padding": tuple(p[3] for p in per),
    }


def _deconv_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    """PyTorch's (and ONNX's) ConvTranspose layout: (C, filters / groups, *kernel)."""
    kernel = per_axis(attrs["kernel"], len(ins[0].shape) - 1, "kernel")
    tensors = {"weight": ParamSpec((ins[0].shape[0], attrs["filters"] // attrs["groups"], *kernel))}
    if attrs["bias"]:
        tensors["bias"] = ParamSpec((attrs["filters"],), "zeros")
    return tensors


def _deconv_macs(attrs: dict, ins: list[Input], out: Shape) -> int:
    c, *sizes = ins[0].shape
    taps = math.prod(per_axis(attrs["kernel"], len(sizes), "kernel"))
    return math.prod(sizes) * c * attrs["filters"] * taps // attrs["groups"]


DECONV = OpDef(
    name="deconv",
    aliases=("convtranspose", "conv2dtranspose", "convtranspose2d", "deconvolution"),
    args=(
        Arg("filters", positive_int()),
        Arg("kernel", pair()),
        Arg("stride", pair(), 1),
        Arg("pad", padding, 0),
        Arg("output_pad", pair(0), 0),
        Arg("dilation", pair(), 1),
        Arg("groups", positive_int(), 1),
        Arg("bias", boolean, True),
        Arg("activation", activation, "none"),
    ),
    infer=_deconv_infer,
    tensors=_deconv_tensors,
    macs=_deconv_macs,
    receptive="none",  # its stride in input pixels would be a fraction
    shown=("filters", "kernel", "stride", "pad", "output_pad", "dilation", "groups"),
    expand=with_activation("deconv"),
    traits=frozenset({"conv"}),
)

# ---- dwconv ----


def _dwconv_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    """conv(C*multiplier, kernel, groups=C, ...): filters and groups come from the input."""
    c = require_spatial(ins, "dwconv")[0]
    derived = {"filters": c * attrs["multiplier"], "groups": c}
    shape, windows = window_shape({**attrs, **derived}, ins, derived["filters"], "dwconv")
    return shape, {**derived, **windows}


DWCONV = OpDef(
    name="dwconv",
    aliases=("depthwiseconv", "depthwiseconv2d", "depthwise"),
    args=(
        Arg("kernel", pair()),
        Arg("stride", pair(), 1),
        Arg("pad", padding, "valid"),
        Arg("multiplier", positive_int(), 1),
        Arg("dilation", pair(), 1),
        Arg("bias", boolean, True),
        Arg("activation", activation, "none"),
    ),
    infer=_dwconv_infer,
    tensors=_conv_tensors,
    macs=_conv_macs,
    receptive="window",
    shown=("kernel", "stride", "pad", "multiplier", "dilation"),
    expand=with_activation("dwconv"),
    traits=frozenset({"conv", "windowed"}),
)

OPS = (CONV, DECONV, DWCONV)
