"""conv as ONNX Conv, deconv as ConvTranspose, dwconv as a Conv with one group per channel."""

from __future__ import annotations

from netdsl.backends.onnx.lower import Lowering, spatial_attrs
from netdsl.backends.onnx.registry import lowering
from netdsl.ops.conv import CONV, DECONV, DWCONV


@lowering(CONV)
def lower_conv(low: Lowering) -> None:
    """conv: Conv with explicit pads, dilations and groups; weight OIHW, optional bias."""
    attrs = low.node.attrs
    inputs = [low.inputs[0], low.param("weight")]
    if "bias" in low.node.params:
        inputs.append(low.param("bias"))
    low.emit("Conv", inputs, dilations=list(attrs["dilation"]), group=int(attrs["groups"]), **spatial_attrs(attrs))


@lowering(DECONV)
def lower_deconv(low: Lowering) -> None:
    """deconv: ConvTranspose with explicit pads and output_padding; weight (C, filters/groups, kh, kw)."""
    attrs = low.node.attrs
    inputs = [low.inputs[0], low.param("weight")]
    if "bias" in low.node.params:
        inputs.append(low.param("bias"))
    low.emit(
        "ConvTranspose",
        inputs,
        kernel_shape=list(attrs["kernel"]),
        strides=list(attrs["stride"]),
        pads=list(attrs["pads"]),
        output_padding=list(attrs["output_padding"]),
        dilations=list(attrs["dilation"]),
        group=int(attrs["groups"]),
    )


@lowering(DWCONV)
def lower_dwconv(low: Lowering) -> None:
    """dwconv: a Conv with one group per input channel (filters and groups derived by the shape pass)."""
    lower_conv(low)
