"""One lowering function per IR op: each appends standard ONNX nodes for one layer.

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
        return self.emitter.add(op_type, self.inputs if inputs is None else inputs, self.output, self.node.name,
                                **attrs)


LowerFn = Callable[[Lowering], None]


def _spatial(attrs: dict) -> dict[str, list[int]]:
    """kernel_shape, strides and pads (top, left, bottom, right: ONNX's begin..., end... order)."""
    return {
        "kernel_shape": list(attrs["kernel"]),
        "strides": list(attrs["stride"]),
        "pads": list(attrs["pads"]),
    }


def lower_conv(low: Lowering) -> None:
    """conv: Conv with explicit pads, dilations and groups; weight OIHW, optional bias."""
    attrs = low.node.attrs
    inputs = [low.inputs[0], low.param("weight")]
    if "bias" in low.node.params:
        inputs.append(low.param("bias"))
    low.emit("Conv", inputs, dilations=list(attrs["dilation"]), group=int(attrs["groups"]), **_spatial(attrs))


def lower_maxpool(low: Lowering) -> None:
    """maxpool: MaxPool; ceil mode is already explicit bottom/right padding, so ceil_mode=0."""
    low.emit("MaxPool", ceil_mode=0, **_spatial(low.node.attrs))


def lower_avgpool(low: Lowering) -> None:
    """avgpool: AveragePool dividing by the real (unpadded) values in each window."""
    low.emit("AveragePool", ceil_mode=0, count_include_pad=0, **_spatial(low.node.attrs))


def lower_globalavgpool(low: Lowering) -> None:
    """globalavgpool: GlobalAveragePool, C x 1 x 1."""
    low.emit("GlobalAveragePool")


def lower_globalmaxpool(low: Lowering) -> None:
    """globalmaxpool: GlobalMaxPool, C x 1 x 1."""
    low.emit("GlobalMaxPool")


def lower_flatten(low: Lowering) -> None:
    """flatten: Flatten(axis=1), the C-major order of NCHW."""
    low.emit("Flatten", axis=1)


def lower_fc(low: Lowering) -> None:
    """fc: Gemm with transB=1, the weight stored (units, in) as a PyTorch Linear."""
    inputs = [low.inputs[0], low.param("weight")]
    if "bias" in low.node.params:
        inputs.append(low.param("bias"))
    low.emit("Gemm", inputs, alpha=1.0, beta=1.0, transA=0, transB=1)


def lower_relu(low: Lowering) -> None:
    """relu: Relu."""
    low.emit("Relu")


def lower_sigmoid(low: Lowering) -> None:
    """sigmoid: Sigmoid."""
    low.emit("Sigmoid")


def lower_tanh(low: Lowering) -> None:
    """tanh: Tanh."""
    low.emit("Tanh")


def lower_swish(low: Lowering) -> None:
    """swish: x * Sigmoid(x) (ONNX has no Swish before opset 24)."""
    gate = low.emitter.add("Sigmoid", low.inputs, f"{low.output}/sigmoid", f"{low.node.name}/sigmoid")
    low.emit("Mul", [low.inputs[0], gate])


def lower_softmax(low: Lowering) -> None:
    """softmax: Softmax over channels (axis 1) of a vector or an image; opset 13 semantics."""
    low.emit("Softmax", axis=1)


def lower_leakyrelu(low: Lowering) -> None:
    """leakyrelu: LeakyRelu(alpha)."""
    low.emit("LeakyRelu", alpha=float(low.node.attrs["alpha"]))


def lower_identity(low: Lowering) -> None:
    """identity: Identity."""
    low.emit("Identity")


def lower_dropout(low: Lowering) -> None:
    """dropout: the identity at inference (an exported model is an inference model)."""
    low.emit("Identity")


def lower_batchnorm(low: Lowering) -> None:
    """batchnorm: BatchNormalization in inference mode with the running statistics.

    ONNX's momentum weighs the running value (PyTorch's weighs the batch), hence 1 - momentum.
    """
    attrs = low.node.attrs
    inputs = [low.inputs[0], low.param("weight"), low.param("bias"), low.param("running_mean"),
              low.param("running_var")]
    low.emit("BatchNormalization", inputs, epsilon=float(attrs["eps"]), momentum=1.0 - float(attrs["momentum"]))


def lower_lrn(low: Lowering) -> None:
    """lrn: LRN over channels, ONNX's own semantics (alpha divided by size inside the op).

    onnxruntime runs LRN only for odd sizes, so an even size is spelled out in other ONNX ops.
    """
    attrs = low.node.attrs
    if int(attrs["size"]) % 2 == 0:
        _lrn_spelled_out(low)
        return
    low.emit("LRN", size=int(attrs["size"]), alpha=float(attrs["alpha"]), beta=float(attrs["beta"]),
             bias=float(attrs["k"]))


def _constant(low: Lowering, what: str, value: Any, dtype: str = "float32") -> str:
    """A Constant node `<layer>/<what>` holding a scalar or 1-D value."""
    import numpy as np
    from onnx import numpy_helper

    name = f"{low.node.name}/{what}"
    tensor = numpy_helper.from_array(np.asarray(value, dtype=dtype), name)
    return low.emitter.add("Constant", [], name, name, value=tensor)


def _lrn_spelled_out(low: Lowering) -> None:
    """LRN as x / (k + alpha * mean of x^2 over the channel window)^beta, the window summed by a
    zero-padded 3-D AveragePool over (channel, 1, 1) that counts the padding (so it divides by size)."""
    attrs = low.node.attrs
    size, layer, x = int(attrs["size"]), low.node.name, low.inputs[0]
    before, after = (size - 1) // 2, size // 2  # ONNX: floor((size-1)/2) below c, ceil((size-1)/2) above
    add = low.emitter.add
    square = add("Mul", [x, x], f"{low.output}/square", f"{layer}/square")
    axis = _constant(low, "axis", [1], "int64")
    stacked = add("Unsqueeze", [square, axis], f"{low.output}/unsqueeze", f"{layer}/unsqueeze")
    mean = add("AveragePool", [stacked], f"{low.output}/window_mean", f"{layer}/window_mean",
               kernel_shape=[size, 1, 1], strides=[1, 1, 1], pads=[before, 0, 0, after, 0, 0],
               count_include_pad=1, ceil_mode=0)
    mean = add("Squeeze", [mean, axis], f"{low.output}/squeeze", f"{layer}/squeeze")
    scaled = add("Mul", [mean, _constant(low, "alpha", float(attrs["alpha"]))], f"{low.output}/scaled",
                 f"{layer}/scaled")
    base = add("Add", [scaled, _constant(low, "k", float(attrs["k"]))], f"{low.output}/base", f"{layer}/base")
    power = add("Pow", [base, _constant(low, "beta", float(attrs["beta"]))], f"{low.output}/power",
                f"{layer}/power")
    low.emit("Div", [x, power])


def lower_add(low: Lowering) -> None:
    """add: Add for two inputs, Sum for more."""
    low.emit("Add" if len(low.inputs) == 2 else "Sum")


def lower_concat(low: Lowering) -> None:
    """concat: Concat along channels (axis 1), inputs in order."""
    low.emit("Concat", axis=1)


LOWERINGS: dict[str, LowerFn] = {
    "conv": lower_conv,
    "maxpool": lower_maxpool,
    "avgpool": lower_avgpool,
    "globalavgpool": lower_globalavgpool,
    "globalmaxpool": lower_globalmaxpool,
    "flatten": lower_flatten,
    "fc": lower_fc,
    "relu": lower_relu,
    "sigmoid": lower_sigmoid,
    "tanh": lower_tanh,
    "swish": lower_swish,
    "softmax": lower_softmax,
    "leakyrelu": lower_leakyrelu,
    "identity": lower_identity,
    "dropout": lower_dropout,
    "batchnorm": lower_batchnorm,
    "lrn": lower_lrn,
    "add": lower_add,
    "concat": lower_concat,
}

# ops with no ONNX node of their own: `input` is the graph input; `output` is front-end sugar for fc + softmax
NOT_LOWERED = {"input", "output"}


def lower_node(node: Node, inputs: list[str], output: str, emitter: Emitter) -> None:
    """Append the ONNX nodes of one layer."""
    try:
        lowering = LOWERINGS[node.op]
    except KeyError:
        raise NotImplementedError(f"the ONNX backend cannot lower op '{node.op}' (layer {node.name})") from None
    lowering(Lowering(node, inputs, output, emitter))
