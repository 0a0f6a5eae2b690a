"""The core ops: input, fc (with its implicit flatten), output, flatten and dropout."""

from __future__ import annotations

from typing import Any

from netdsl.ops.base import (
    MAX_SIZE,
    Arg,
    ArgError,
    Input,
    OpDef,
    ParamSpec,
    Shape,
    ShapeError,
    activation,
    boolean,
    choice,
    numel,
    positive_int,
    real,
)
from netdsl.ops.window import with_activation


def input_dims(values: tuple, layout: str) -> Shape:
    """`input(C, H, W)`, `input(N)` or `input(1x28x28)`; `layout=hwc` reorders to C x H x W."""
    if len(values) == 1 and isinstance(values[0], tuple):
        values = values[0]
    if len(values) not in (1, 2, 3, 4):
        raise ArgError(
            f"takes (C, H, W) for images, (C, L) for sequences, (C, D, H, W) for volumes or (N) for "
            f"vectors, received {len(values)} dimensions"
        )
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ArgError(f"dimensions must be integers of at least 1, received {value!r}")
        if value > MAX_SIZE:
            raise ArgError(f"dimensions must be at most {MAX_SIZE:,}, received {value:,}")
    dims = tuple(values)
    if layout == "hwc" and len(dims) == 3:
        h, w, c = dims
        return (c, h, w)
    return dims


def _input_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    shape = attrs["shape"]
    if attrs.get("tokens") is not None and len(shape) != 1:
        raise ShapeError(
            f"has tokens={attrs['tokens']}, which makes it a sequence of token ids: give its length "
            f"alone, input(L, tokens={attrs['tokens']}), not {len(shape)} dimensions"
        )
    return shape, {}


def _tokens(value: Any, name: str) -> int | None:
    return None if value is None else positive_int()(value, name)


INPUT = OpDef(
    name="input",
    args=(Arg("layout", choice("chw", "hwc"), "chw"), Arg("tokens", _tokens, None)),
    infer=_input_infer,
    arity="none",
    variadic=True,
    receptive="pointwise",
    traits=frozenset({"input"}),
)


def _fc_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    return (attrs["units"],), {}


def _fc_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    tensors = {"weight": ParamSpec((attrs["units"], numel(ins[0].shape)))}
    if attrs["bias"]:
        tensors["bias"] = ParamSpec((attrs["units"],), "zeros")
    return tensors


def _fc_macs(attrs: dict, ins: list[Input], out: Shape) -> int:
    return numel(ins[0].shape) * attrs["units"]


_FC_ARGS = (Arg("units", positive_int()), Arg("bias", boolean, True))

FC = OpDef(
    name="fc",
    aliases=("dense", "linear", "fullyconnected", "innerproduct"),
    args=_FC_ARGS + (Arg("activation", activation, "none"),),
    infer=_fc_infer,
    tensors=_fc_tensors,
    macs=_fc_macs,
    receptive="none",
    shown=("units",),
    expand=with_activation("fc"),
    traits=frozenset({"dense", "flattens"}),
)


def _output_expand(attrs: dict) -> list[tuple[str, dict, str]]:
    return with_activation("fc")(attrs)


OUTPUT = OpDef(
    name="output",
    args=_FC_ARGS + (Arg("activation", activation, "softmax"),),
    infer=_fc_infer,
    tensors=_fc_tensors,
    macs=_fc_macs,
    receptive="none",
    shown=("units",),
    expand=_output_expand,
    traits=frozenset({"dense", "flattens", "sugar"}),
)


def _flatten_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    return (numel(ins[0].shape),), {}


FLATTEN = OpDef(name="flatten", infer=_flatten_infer, receptive="none", traits=frozenset({"reshape", "after_logits"}))

DROPOUT = OpDef(
    name="dropout",
    args=(Arg("rate", real(0.0, 1.0, high_open=True)),),
    shown=("rate",),
    traits=frozenset({"regularization", "elementwise", "transparent", "after_logits"}),
)

OPS = (INPUT, FC, OUTPUT, FLATTEN, DROPOUT)
