"""batchnorm, lrn and dropout (the identity at inference) in ONNX."""

from __future__ import annotations

from netdsl.backends.onnx.lower import Lowering, constant
from netdsl.backends.onnx.registry import lowering
from netdsl.ops.elementwise import BATCHNORM, DROPOUT, LRN


@lowering(DROPOUT)
def lower_dropout(low: Lowering) -> None:
    """dropout: the identity at inference (an exported model is an inference model)."""
    low.emit("Identity")


@lowering(BATCHNORM)
def lower_batchnorm(low: Lowering) -> None:
    """batchnorm: BatchNormalization in inference mode with the running statistics.

    ONNX's momentum weighs the running value (PyTorch's weighs the batch), hence 1 - momentum.
    """
    attrs = low.node.attrs
    inputs = [low.inputs[0], low.param("weight"), low.param("bias"), low.param("running_mean"),
              low.param("running_var")]
    low.emit("BatchNormalization", inputs, epsilon=float(attrs["eps"]), momentum=1.0 - float(attrs["momentum"]))


@lowering(LRN)
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


def _lrn_spelled_out(low: Lowering) -> None:
    """LRN as x / (k + alpha * mean of x^2 over the channel window)^beta, the window summed by a
    zero-padded 3-D AveragePool over (channel, 1, 1) that counts the padding (so it divides by size)."""
    attrs = low.node.attrs
    size, layer, x = int(attrs["size"]), low.node.name, low.inputs[0]
    before, after = (size - 1) // 2, size // 2  # ONNX: floor((size-1)/2) below c, ceil((size-1)/2) above
    add = low.emitter.add
    square = add("Mul", [x, x], f"{low.output}/square", f"{layer}/square")
    axis = constant(low, "axis", [1], "int64")
    stacked = add("Unsqueeze", [square, axis], f"{low.output}/unsqueeze", f"{layer}/unsqueeze")
    mean = add("AveragePool", [stacked], f"{low.output}/window_mean", f"{layer}/window_mean",
               kernel_shape=[size, 1, 1], strides=[1, 1, 1], pads=[before, 0, 0, after, 0, 0],
               count_include_pad=1, ceil_mode=0)
    mean = add("Squeeze", [mean, axis], f"{low.output}/squeeze", f"{layer}/squeeze")
    scaled = add("Mul", [mean, constant(low, "alpha", float(attrs["alpha"]))], f"{low.output}/scaled",
                 f"{layer}/scaled")
    base = add("Add", [scaled, constant(low, "k", float(attrs["k"]))], f"{low.output}/base", f"{layer}/base")
    power = add("Pow", [base, constant(low, "beta", float(attrs["beta"]))], f"{low.output}/power",
                f"{layer}/power")
    low.emit("Div", [x, power])
