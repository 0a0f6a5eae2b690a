"""What a lowering works with: each appends standard ONNX nodes for one layer (the lowerings themselves
live by op family in netdsl/backends/onnx/lowerings/, registered with @lowering).

A lowering reads only what the checked IR already decided (explicit pads, kernel, stride, ...);
it never re-derives shapes or padding. Every layer's last ONNX node carries the layer's name and
writes the tensor the exporter chose for it; helper nodes are named `<layer>/<what>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from netdsl.ir.graph import Node

MIN_OPSET = 13  # Softmax over one axis (not "flatten from axis on") needs opset 13


@dataclass
class Emitter:
    """Collects the ONNX nodes of a graph; lowerings add to it through `add`."""

    nodes: list[Any] = field(default_factory=list)

    def add(self, op_type: str, inputs: list[str], output: str, name: str, **attrs: Any) -> str:
        """Append one node `name` computing `output` from `inputs`; returns the output name."""
        from onnx import helper

        self.nodes.append(helper.make_node(op_type, inputs, [output], name=name, **attrs))
        return output


@dataclass(frozen=True)
class Lowering:
    """What a lowering gets: the layer, its input tensor names, the output tensor name, the emitter."""

    node: Node
    inputs: list[str]
    output: str
    emitter: Emitter

    def param(self, key: str) -> str:
        """The initializer name of one of the layer's parameters or buffers."""
        return f"{self.node.name}.{key}"

    def emit(self, op_type: str, inputs: list[str] | None = None, **attrs: Any) -> str:
        """The layer's (final) node: named after the layer, writing the layer's output tensor."""
        return self.emitter.add(
            op_type, self.inputs if inputs is None else inputs, self.output, self.node.name, **attrs
        )


LowerFn = Callable[[Lowering], None]


def spatial_attrs(attrs: dict) -> dict[str, Any]:
    """kernel_shape, strides and pads (top, left, bottom, right: ONNX's begin..., end... order)."""
    return {
        "kernel_shape": list(attrs["kernel"]),
        "strides": list(attrs["stride"]),
        "pads": list(attrs["pads"]),
    }


def constant(low: Lowering, what: str, value: Any, dtype: str = "float32") -> str:
    """A Constant node `<layer>/<what>` holding a scalar or 1-D value."""
    import numpy as np
    from onnx import numpy_helper

    name = f"{low.node.name}/{what}"
    tensor = numpy_helper.from_array(np.asarray(value, dtype=dtype), name)
    return low.emitter.add("Constant", [], name, name, value=tensor)


def lower_node(node: Node, inputs: list[str], output: str, emitter: Emitter, opset: int) -> None:
    """Append the ONNX nodes of one layer, with the newest lowering the opset allows."""
    from netdsl.backends.onnx.registry import lowering_for

    lower = lowering_for(node.op, opset)
    if lower is None:
        raise NotImplementedError(f"the ONNX backend cannot lower op '{node.op}' (layer {node.name}) at opset {opset}")
    lower(Lowering(node, inputs, output, emitter))
