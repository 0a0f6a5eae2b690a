"""Normalizations: batchnorm, lrn, and those of LANGUAGE.md section 9 (layernorm over the channels at each
position, groupnorm) with layer scale. Parameter counts are PyTorch's; MACs are 0."""

from __future__ import annotations

from netdsl.ops.activation import number
from netdsl.ops.base import Arg, Input, OpDef, ParamSpec, Shape, ShapeError, fmt_shape, positive_int, real


def _channels(ins: list[Input]) -> int:
    return ins[0].shape[0]


def _bn_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    c = (_channels(ins),)
    return {
        "weight": ParamSpec(c, "ones"),
        "bias": ParamSpec(c, "zeros"),
        "running_mean": ParamSpec(c, "zeros", trainable=False),
        "running_var": ParamSpec(c, "ones", trainable=False),
    }


BATCHNORM = OpDef(
    name="batchnorm",
    aliases=("bn", "batchnormalization", "batchnorm2d"),
    args=(Arg("eps", real(0.0, low_open=True), 1e-5), Arg("momentum", real(0.0, 1.0), 0.1)),
    tensors=_bn_tensors,
    traits=frozenset({"normalization", "centering", "transparent"}),
)


def _lrn_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    if len(ins[0].shape) != 3:
        raise ShapeError(
            f"needs an image input (C x H x W), but {ins[0].name} gives a vector of {fmt_shape(ins[0].shape)}"
        )
    return ins[0].shape, {}


LRN = OpDef(
    name="lrn",
    aliases=("localresponsenorm",),
    args=(
        Arg("size", positive_int(), 5),
        Arg("alpha", real(0.0), 1e-4),
        Arg("beta", real(0.0), 0.75),
        Arg("k", real(0.0, low_open=True), 2.0),
    ),
    infer=_lrn_infer,
    shown=("size",),
    traits=frozenset({"normalization"}),
)

_EPS = Arg("eps", real(0.0, low_open=True), 1e-5)


def _affine(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    """A scale (starting at 1) and a shift (at 0) per channel (C for images, N for vectors)."""
    c = (ins[0].shape[0],)
    return {"weight": ParamSpec(c, "ones"), "bias": ParamSpec(c, "zeros")}


LAYERNORM = OpDef(
    name="layernorm",
    aliases=("ln", "layernormalization", "layernorm2d"),
    args=(_EPS,),
    tensors=_affine,
    traits=frozenset({"normalization"}),
)


def _groupnorm_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c, groups = ins[0].shape[0], attrs["groups"]
    if c % groups:
        raise ShapeError(
            f"has groups={groups}, which must divide the {c} channels of {ins[0].name} "
            f"({fmt_shape(ins[0].shape)}); {c} is not a multiple of {groups}"
        )
    return ins[0].shape, {}


GROUPNORM = OpDef(
    name="groupnorm",
    aliases=("gn", "groupnormalization"),
    args=(Arg("groups", positive_int()), _EPS),
    infer=_groupnorm_infer,
    tensors=_affine,
    shown=("groups",),
    traits=frozenset({"normalization"}),
)


def _scale_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    return {"weight": ParamSpec((ins[0].shape[0],), attrs["init"])}


SCALE = OpDef(name="scale", aliases=("layerscale",), args=(Arg("init", number, 1.0),), tensors=_scale_tensors)

OPS = (BATCHNORM, LRN, LAYERNORM, GROUPNORM, SCALE)
