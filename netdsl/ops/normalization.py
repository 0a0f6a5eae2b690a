"""Normalizations of LANGUAGE.md section 9 (layernorm over the channels at each position, groupnorm) and
layer scale. Parameter counts are PyTorch's; MACs are 0, like batchnorm."""

from __future__ import annotations

from netdsl.ops.base import Arg, Input, OpDef, ParamSpec, Shape, ShapeError, fmt_shape, positive_int, real
from netdsl.ops.nonlinear import number

_EPS = Arg("eps", real(0.0, low_open=True), 1e-5)


def _affine(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    """A scale (starting at 1) and a shift (at 0) per channel (C for images, N for vectors)."""
    c = (ins[0].shape[0],)
    return {"weight": ParamSpec(c, "ones"), "bias": ParamSpec(c, "zeros")}


LAYERNORM = OpDef(name="layernorm", aliases=("ln", "layernormalization", "layernorm2d"), args=(_EPS,),
                  tensors=_affine, traits=frozenset({"normalization"}))


def _groupnorm_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c, groups = ins[0].shape[0], attrs["groups"]
    if c % groups:
        raise ShapeError(f"has groups={groups}, which must divide the {c} channels of {ins[0].name} "
                         f"({fmt_shape(ins[0].shape)}); {c} is not a multiple of {groups}")
    return ins[0].shape, {}


GROUPNORM = OpDef(name="groupnorm", aliases=("gn", "groupnormalization"),
                  args=(Arg("groups", positive_int()), _EPS), infer=_groupnorm_infer, tensors=_affine,
                  shown=("groups",), traits=frozenset({"normalization"}))


def _scale_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    return {"weight": ParamSpec((ins[0].shape[0],), attrs["init"])}


SCALE = OpDef(name="scale", aliases=("layerscale",), args=(Arg("init", number, 1.0),), tensors=_scale_tensors)

OPS = (LAYERNORM, GROUPNORM, SCALE)
