"""add, concat and mul in ONNX."""

from __future__ import annotations

from netdsl.backends.onnx.lower import Lowering
from netdsl.backends.onnx.registry import lowering
from netdsl.ops.merge import ADD, CONCAT, MUL


@lowering(ADD)
def lower_add(low: Lowering) -> None:
    """add: Add for two inputs, Sum for more."""
    low.emit("Add" if len(low.inputs) == 2 else "Sum")


@lowering(CONCAT)
def lower_concat(low: Lowering) -> None:
    """concat: Concat along channels (axis 1), inputs in order."""
    low.emit("Concat", axis=1)


@lowering(MUL)
def lower_mul(low: Lowering) -> None:
    """mul: Mul (numpy broadcasting: a C x 1 x 1 branch scales each channel), chained for more inputs."""
    product = low.inputs[0]
    for k, other in enumerate(low.inputs[1:-1], start=1):
        product = low.emitter.add("Mul", [product, other], f"{low.output}/product_{k}", f"{low.node.name}/product_{k}")
    low.emit("Mul", [product, low.inputs[-1]])
