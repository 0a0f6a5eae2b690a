"""batchnorm, lrn, layernorm, groupnorm and layer scale in ONNX. LayerNormalization (opset 17) normalizes the last axis,
so an image goes channels-last around it; before 17 the statistics are spelled out. groupnorm runs
InstanceNormalization on the channels reshaped into groups (ONNX's GroupNormalization changed its scale's
meaning at opset 21)."""

from __future__ import annotations

from netdsl.backends.onnx.lower import Lowering, constant
from netdsl.backends.onnx.lowerings.activation import step
from netdsl.backends.onnx.registry import lowering
from netdsl.ops.normalization import BATCHNORM, GROUPNORM, LAYERNORM, LRN, SCALE


@lowering(BATCHNORM)
def lower_batchnorm(low: Lowering) -> None:
    """batchnorm: BatchNormalization in inference mode with the running statistics.

    ONNX's momentum weighs the running value (PyTorch's weighs the batch), hence 1 - momentum.
    """
    attrs = low.node.attrs
    inputs = [
        low.inputs[0],
        low.param("weight"),
        low.param("bias"),
        low.param("running_mean"),
        low.param("running_var"),
    ]
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
    low.emit(
        "LRN", size=int(attrs["size"]), alpha=float(attrs["alpha"]), beta=float(attrs["beta"]), bias=float(attrs["k"])
    )


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
    mean = add(
        "AveragePool",
        [stacked],
        f"{low.output}/window_mean",
        f"{layer}/window_mean",
        kernel_shape=[size, 1, 1],
        strides=[1, 1, 1],
        pads=[before, 0, 0, after, 0, 0],
        count_include_pad=1,
        ceil_mode=0,
    )
    mean = add("Squeeze", [mean, axis], f"{low.output}/squeeze", f"{layer}/squeeze")
    scaled = add(
        "Mul", [mean, constant(low, "alpha", float(attrs["alpha"]))], f"{low.output}/scaled", f"{layer}/scaled"
    )
    base = add("Add", [scaled, constant(low, "k", float(attrs["k"]))], f"{low.output}/base", f"{layer}/base")
    power = add("Pow", [base, constant(low, "beta", float(attrs["beta"]))], f"{low.output}/power", f"{layer}/power")
    low.emit("Div", [x, power])


def per_channel(low: Lowering, key: str) -> str:
    """A parameter of C values, shaped C x 1 x 1 for an image (C x 1 for a sequence, C x 1 x 1 x 1 for a volume)
    so that it broadcasts over the positions."""
    if len(low.node.shape) == 1:
        return low.param(key)
    shape = constant(low, f"{key}_shape", [low.node.shape[0], *[1] * (len(low.node.shape) - 1)], "int64")
    return step(low, f"{key}_per_channel", "Reshape", [low.param(key), shape])


def _affine(low: Lowering, normalized: str) -> None:
    """The layer's output: normalized * weight + bias, per channel."""
    scaled = step(low, "scaled", "Mul", [normalized, per_channel(low, "weight")])
    low.emit("Add", [scaled, per_channel(low, "bias")])


@lowering(LAYERNORM)
def lower_layernorm_spelled_out(low: Lowering) -> None:
    """layernorm before opset 17: (x - mean) / sqrt(var + eps) over axis 1 (ReduceMean takes axes as an
    attribute up to opset 17)."""
    x = low.inputs[0]
    centered = step(low, "centered", "Sub", [x, step(low, "mean", "ReduceMean", [x], axes=[1], keepdims=1)])
    var = step(low, "var", "ReduceMean", [step(low, "square", "Mul", [centered, centered])], axes=[1], keepdims=1)
    std = step(low, "std", "Sqrt", [step(low, "var_eps", "Add", [var, constant(low, "eps", low.node.attrs["eps"])])])
    _affine(low, step(low, "normalized", "Div", [centered, std]))


@lowering(LAYERNORM, since=17)
def lower_layernorm(low: Lowering) -> None:
    """layernorm: LayerNormalization over the last axis, an image transposed to channels-last around it."""
    eps = float(low.node.attrs["eps"])
    inputs = [low.param("weight"), low.param("bias")]
    if len(low.node.shape) == 1:
        low.emit("LayerNormalization", [low.inputs[0], *inputs], axis=-1, epsilon=eps)
        return
    rank = len(low.node.shape) + 1
    last = step(low, "channels_last", "Transpose", [low.inputs[0]], perm=[0, *range(2, rank), 1])
    normalized = step(low, "normalized", "LayerNormalization", [last, *inputs], axis=-1, epsilon=eps)
    low.emit("Transpose", [normalized], perm=[0, rank - 1, *range(1, rank - 1)])


@lowering(GROUPNORM)
def lower_groupnorm(low: Lowering) -> None:
    """groupnorm: x as (N, groups, rest), InstanceNormalization (unit scale, zero shift) over the rest, back to
    the layer's shape, then the per-channel weight and bias."""
    x, groups = low.inputs[0], int(low.node.attrs["groups"])
    grouped = step(low, "grouped", "Reshape", [x, constant(low, "group_shape", [0, groups, -1], "int64")])
    ones, zeros = constant(low, "ones", [1.0] * groups), constant(low, "zeros", [0.0] * groups)
    normalized = step(
        low, "instance_norm", "InstanceNormalization", [grouped, ones, zeros], epsilon=float(low.node.attrs["eps"])
    )
    shape = constant(low, "shape", [0, *low.node.shape], "int64")  # 0: the batch size, as it comes
    restored = step(low, "normalized", "Reshape", [normalized, shape])
    _affine(low, restored)


@lowering(SCALE)
def lower_scale(low: Lowering) -> None:
    """scale: Mul by the per-channel weight."""
    low.emit("Mul", [low.inputs[0], per_channel(low, "weight")])
