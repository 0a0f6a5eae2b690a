"""Activations as their ONNX ops (swish has none before opset 24: its decomposition runs). Of the section-9
activations, Gelu is an ONNX op from opset 20, HardSwish from 14 and Mish from 18; below those gelu is spelled
out in Erf (or Tanh) and the others run their decompositions."""

from __future__ import annotations

import math

from netdsl.backends.onnx.lower import Lowering, constant
from netdsl.backends.onnx.registry import lowering
from netdsl.ops.activation import (
    ELU,
    GELU,
    HARDSIGMOID,
    HARDSWISH,
    IDENTITY,
    LEAKYRELU,
    MISH,
    PRELU,
    RELU,
    RELU6,
    SELU,
    SIGMOID,
    SOFTMAX,
    SOFTPLUS,
    TANH,
)


@lowering(RELU)
def lower_relu(low: Lowering) -> None:
    """relu: Relu."""
    low.emit("Relu")


@lowering(SIGMOID)
def lower_sigmoid(low: Lowering) -> None:
    """sigmoid: Sigmoid."""
    low.emit("Sigmoid")


@lowering(TANH)
def lower_tanh(low: Lowering) -> None:
    """tanh: Tanh."""
    low.emit("Tanh")


@lowering(SOFTMAX)
def lower_softmax(low: Lowering) -> None:
    """softmax: Softmax over channels (axis 1) of a vector or an image; opset 13 semantics."""
    low.emit("Softmax", axis=1)


@lowering(LEAKYRELU)
def lower_leakyrelu(low: Lowering) -> None:
    """leakyrelu: LeakyRelu(alpha)."""
    low.emit("LeakyRelu", alpha=float(low.node.attrs["alpha"]))


@lowering(IDENTITY)
def lower_identity(low: Lowering) -> None:
    """identity: Identity."""
    low.emit("Identity")


# ---- the section-9 activations ----


def step(low: Lowering, what: str, op_type: str, inputs: list[str], **attrs) -> str:
    """A helper node `<layer>/<what>` of this layer."""
    return low.emitter.add(op_type, inputs, f"{low.output}/{what}", f"{low.node.name}/{what}", **attrs)


@lowering(GELU)
def lower_gelu_spelled_out(low: Lowering) -> None:
    """gelu before opset 20: 0.5 * x * (1 + erf(x / sqrt 2)), or the tanh form."""
    x = low.inputs[0]
    if low.node.attrs["approximate"] == "tanh":
        cube = step(low, "cube", "Mul", [step(low, "square", "Mul", [x, x]), x])
        inner = step(low, "inner", "Add", [x, step(low, "cubic", "Mul", [cube, constant(low, "k", 0.044715)])])
        scaled = step(low, "scaled", "Mul", [inner, constant(low, "c", math.sqrt(2.0 / math.pi))])
        curve = step(low, "tanh", "Tanh", [scaled])
    else:
        curve = step(low, "erf", "Erf", [step(low, "scaled", "Div", [x, constant(low, "sqrt2", math.sqrt(2.0))])])
    half = step(low, "half", "Mul", [x, constant(low, "one_half", 0.5)])
    low.emit("Mul", [half, step(low, "one_plus", "Add", [curve, constant(low, "one", 1.0)])])


@lowering(GELU, since=20)
def lower_gelu(low: Lowering) -> None:
    """gelu: Gelu(approximate)."""
    low.emit("Gelu", approximate=low.node.attrs["approximate"])


@lowering(RELU6)
def lower_relu6(low: Lowering) -> None:
    """relu6: Clip(0, 6)."""
    low.emit("Clip", [low.inputs[0], constant(low, "min", 0.0), constant(low, "max", 6.0)])


@lowering(HARDSIGMOID)
def lower_hardsigmoid(low: Lowering) -> None:
    """hardsigmoid: HardSigmoid(alpha=1/6, beta=1/2), PyTorch's slope and offset (ONNX's default alpha is 0.2)."""
    low.emit("HardSigmoid", alpha=1.0 / 6.0, beta=0.5)


@lowering(HARDSWISH, since=14)
def lower_hardswish(low: Lowering) -> None:
    """hardswish: HardSwish."""
    low.emit("HardSwish")


@lowering(ELU)
def lower_elu(low: Lowering) -> None:
    """elu: Elu(alpha)."""
    low.emit("Elu", alpha=float(low.node.attrs["alpha"]))


@lowering(SELU)
def lower_selu(low: Lowering) -> None:
    """selu: Selu with PyTorch's constants (ONNX's defaults are their float32 roundings)."""
    low.emit("Selu", alpha=1.6732632423543772848170429916717, gamma=1.0507009873554804934193349852946)


@lowering(SOFTPLUS)
def lower_softplus(low: Lowering) -> None:
    """softplus: Softplus."""
    low.emit("Softplus")


@lowering(MISH, since=18)
def lower_mish(low: Lowering) -> None:
    """mish: Mish."""
    low.emit("Mish")


@lowering(PRELU)
def lower_prelu(low: Lowering) -> None:
    """prelu: PRelu, the slopes shaped C x 1 x 1 for images to broadcast over H x W."""
    slope = low.param("weight")
    if len(low.node.shape) == 3:
        shape = constant(low, "slope_shape", [low.node.shape[0], 1, 1], "int64")
        slope = step(low, "slope", "Reshape", [slope, shape])
    low.emit("PRelu", [low.inputs[0], slope])
