"""Convolutions: conv, deconv (PyTorch's ConvTranspose2d) and dwconv (a depthwise conv). Shape rules of
LANGUAGE.md sections 4 and 9."""

from __future__ import annotations

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
    positive_int,
)
from netdsl.ops.window import require_image, window_shape, with_activation

# ---- conv ----


def _conv_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c = require_image(ins, "conv")[0]
    groups, filters = attrs["groups"], attrs["filters"]
    if c % groups or filters % groups:
        raise ShapeError(f"has groups={groups}, which must divide both the input channels ({c}, from "
                         f"{ins[0].name}) and filters={filters}")
    return window_shape(attrs, ins, filters, "conv")


def _conv_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    kh, kw = attrs["kernel"]
    c = ins[0].shape[0]
    tensors = {"weight": ParamSpec((attrs["filters"], c // attrs["groups"], kh, kw))}
    if attrs["bias"]:
        tensors["bias"] = ParamSpec((attrs["filters"],), "zeros")
    return tensors


def _conv_macs(attrs: dict, ins: list[Input], out: Shape) -> int:
    kh, kw = attrs["kernel"]
    return out[1] * out[2] * attrs["filters"] * kh * kw * ins[0].shape[0] // attrs["groups"]


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
    return (i - 1) * s - 2 * pad + span + output_pad, pad, pad, output_pad


def _deconv_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c, h, w = require_image(ins, "deconv")
    groups, filters = attrs["groups"], attrs["filters"]
    if c % groups or filters % groups:
        raise ShapeError(f"has groups={groups}, which must divide both the input channels ({c}, from "
                         f"{ins[0].name}) and filters={filters}")
    (kh, kw), (sh, sw), (dh, dw) = attrs["kernel"], attrs["stride"], attrs["dilation"]
    (oph, opw), pad = attrs["output_pad"], attrs["pad"]
    if pad == "same" and (oph or opw):
        raise ShapeError("has pad=same, which already gives input size x stride; output_pad works with "
                         "explicit pads only (drop output_pad or give pad=p)")
    for op, s, d in ((oph, sh, dh), (opw, sw, dw)):
        if op >= s and op >= d:
            raise ShapeError(f"has output_pad={op} but stride={s}: output_pad picks one of the {s} output sizes "
                             f"that a stride-{s} conv maps back to the same input size, so it must be smaller "
                             f"than stride (or dilation); use output_pad={max(s, d) - 1} at most")
    ph, pw = (pad, pad) if pad == "same" else (0, 0) if pad == "valid" else pad
    oh, top, bottom, extra_h = deconv_axis(h, kh, sh, dh, ph, oph)
    ow, left, right, extra_w = deconv_axis(w, kw, sw, dw, pw, opw)
    if oh < 1 or ow < 1:
        raise ShapeError(f"gives an output of {oh}x{ow} from {ins[0].name}'s {fmt_shape(ins[0].shape)}: "
                         f"pad={ph}x{pw} crops more than the transposed conv produces")
    return (filters, oh, ow), {"pads": (top, left, bottom, right), "output_padding": (extra_h, extra_w)}


def _deconv_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    """PyTorch's (and ONNX's) ConvTranspose layout: (C, filters / groups, kh, kw)."""
    kh, kw = attrs["kernel"]
    tensors = {"weight": ParamSpec((ins[0].shape[0], attrs["filters"] // attrs["groups"], kh, kw))}
    if attrs["bias"]:
        tensors["bias"] = ParamSpec((attrs["filters"],), "zeros")
    return tensors


def _deconv_macs(attrs: dict, ins: list[Input], out: Shape) -> int:
    c, h, w = ins[0].shape
    kh, kw = attrs["kernel"]
    return h * w * c * attrs["filters"] * kh * kw // attrs["groups"]


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
    c = require_image(ins, "dwconv")[0]
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
