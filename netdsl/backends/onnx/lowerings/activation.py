"""Activations as their ONNX ops (swish has none before opset 24: its decomposition runs)."""

from __future__ import annotations

from netdsl.backends.onnx.lower import Lowering
from netdsl.backends.onnx.registry import lowering
from netdsl.ops.elementwise import IDENTITY, LEAKYRELU, RELU, SIGMOID, SOFTMAX, TANH


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
