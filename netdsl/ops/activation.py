"""Activations: relu, sigmoid, tanh, swish, softmax, leakyrelu and identity, and the modern ones of
LANGUAGE.md section 9: gelu, relu6, hardswish, hardsigmoid, elu, selu, softplus, mish and prelu (the one with
a learned slope per channel). Semantics are PyTorch's."""

from __future__ import annotations

from typing import Any

from netdsl.ops.base import Arg, ArgError, Input, OpDef, ParamSpec, Shape, Step, choice, real


def number(value: Any, name: str) -> float:
    """Any finite number (a learned parameter's starting value)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        raise ArgError(f"{name} must be a number, received {name}={value!r}")
    return float(value)


_ACTIVATION = frozenset({"activation", "elementwise"})
_RECTIFIER = _ACTIVATION | {"rectifier"}


def _swish_steps(attrs: dict, shapes: list[Shape]) -> list[Step]:
    """swish(x) = x * sigmoid(x)."""
    return [Step("sigmoid", "sigmoid"), Step("mul", "mul", inputs=("x0", "sigmoid"))]


RELU = OpDef(name="relu", traits=_RECTIFIER)
SIGMOID = OpDef(name="sigmoid", traits=_ACTIVATION | {"after_logits"})
TANH = OpDef(name="tanh", traits=_ACTIVATION)
SWISH = OpDef(name="swish", aliases=("silu",), traits=_RECTIFIER, decompose=_swish_steps)
SOFTMAX = OpDef(name="softmax", traits=frozenset({"activation", "distribution", "after_logits"}))
LEAKYRELU = OpDef(
    name="leakyrelu",
    aliases=("leaky_relu", "lrelu"),
    args=(Arg("alpha", real(0.0), 0.01),),
    shown=("alpha",),
    traits=_RECTIFIER,
)
IDENTITY = OpDef(name="identity", traits=_ACTIVATION | {"noop", "transparent", "after_logits"})


def _hardswish_steps(attrs: dict, shapes: list[Shape]) -> list[Step]:
    """hardswish(x) = x * hardsigmoid(x)."""
    return [Step("gate", "hardsigmoid"), Step("mul", "mul", inputs=("x0", "gate"))]


def _mish_steps(attrs: dict, shapes: list[Shape]) -> list[Step]:
    """mish(x) = x * tanh(softplus(x))."""
    return [
        Step("softplus", "softplus"),
        Step("tanh", "tanh", inputs=("softplus",)),
        Step("mul", "mul", inputs=("x0", "tanh")),
    ]


GELU = OpDef(
    name="gelu", args=(Arg("approximate", choice("none", "tanh"), "none"),), shown=("approximate",), traits=_RECTIFIER
)
RELU6 = OpDef(name="relu6", traits=_RECTIFIER)
HARDSWISH = OpDef(name="hardswish", aliases=("hard_swish", "hswish"), traits=_RECTIFIER, decompose=_hardswish_steps)
HARDSIGMOID = OpDef(name="hardsigmoid", aliases=("hard_sigmoid",), traits=_ACTIVATION)
ELU = OpDef(name="elu", args=(Arg("alpha", real(0.0), 1.0),), shown=("alpha",), traits=_RECTIFIER)
SELU = OpDef(name="selu", traits=_RECTIFIER)
SOFTPLUS = OpDef(name="softplus", traits=_RECTIFIER)
MISH = OpDef(name="mish", traits=_RECTIFIER, decompose=_mish_steps)


def _prelu_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    """One slope per channel: C for images, N for vectors (torch.nn.PReLU(num_parameters=C)), starting at init."""
    return {"weight": ParamSpec((ins[0].shape[0],), attrs["init"])}


PRELU = OpDef(
    name="prelu",
    args=(Arg("init", number, 0.25),),
    tensors=_prelu_tensors,
    traits=frozenset({"activation", "rectifier"}),
)

OPS = (
    RELU,
    SIGMOID,
    TANH,
    SWISH,
    SOFTMAX,
    LEAKYRELU,
    IDENTITY,
    GELU,
    RELU6,
    HARDSWISH,
    HARDSIGMOID,
    ELU,
    SELU,
    SOFTPLUS,
    MISH,
    PRELU,
)
