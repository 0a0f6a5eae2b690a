"""conv as ONNX Conv."""

from __future__ import annotations

from netdsl.backends.onnx.lower import Lowering, spatial_attrs
from netdsl.backends.onnx.registry import lowering
from netdsl.ops.spatial import CONV


@lowering(CONV)
def lower_conv(low: Lowering) -> None:
    """conv: Conv with explicit pads, dilations and groups; weight OIHW, optional bias."""
    attrs = low.node.attrs
    inputs = [low.inputs[0], low.param("weight")]
    if "bias" in low.node.params:
        inputs.append(low.param("bias"))
    low.emit("Conv", inputs, dilations=list(attrs["dilation"]), group=int(attrs["groups"]), **spatial_attrs(attrs))
