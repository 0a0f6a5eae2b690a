"""ONNX's value-by-value nodes as netdsl layers: activations (and the spellings exporters use for swish,
hardswish, mish and gelu), normalizations, and Add/Mul/Sub/Div: merges of two branches, a bias or a
per-channel scale folded into the layer before, or a piece of a pattern."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from netdsl.importer.context import Context, attributes, handles
from netdsl.importer.layers import Layer, number_text
from netdsl.importer.tensors import merge_add
from netdsl.ops.activation import (
    ELU,
    GELU,
    HARDSIGMOID,
    HARDSWISH,
    LEAKYRELU,
    MISH,
    PRELU,
    RELU,
    RELU6,
    SELU,
    SIGMOID,
    SOFTPLUS,
    SWISH,
    TANH,
)
from netdsl.ops.base import OpDef
from netdsl.ops.conv import CONV, DECONV
from netdsl.ops.core import FC, OUTPUT
from netdsl.ops.merge import MUL
from netdsl.ops.normalization import BATCHNORM, LAYERNORM, LRN, SCALE

PLAIN = {"Relu": RELU, "Sigmoid": SIGMOID, "Tanh": TANH, "Softplus": SOFTPLUS, "HardSwish": HARDSWISH, "Mish": MISH}
SELU_ALPHA, SELU_GAMMA = 1.67326319217681884765625, 1.05070102214813232421875
CLOSE = 1e-6


def _close(a: float, b: float) -> bool:
    return abs(float(a) - float(b)) <= CLOSE * max(1.0, abs(float(b)))


@handles(*PLAIN)
def plain(ctx: Context, node: Any) -> None:
    ctx.make(PLAIN[node.op_type], node, [node.input[0]])


@handles("LeakyRelu", "Elu")
def with_alpha(ctx: Context, node: Any) -> None:
    op = LEAKYRELU if node.op_type == "LeakyRelu" else ELU
    alpha = float(attributes(node).get("alpha", 0.01 if op is LEAKYRELU else 1.0))
    default = op.args[0].default
    keywords = {} if _close(alpha, default) else {"alpha": number_text(alpha)}
    ctx.make(op, node, [node.input[0]], keywords=keywords)


@handles("Selu")
def selu(ctx: Context, node: Any) -> None:
    attrs = attributes(node)
    if _close(attrs.get("alpha", SELU_ALPHA), SELU_ALPHA) and _close(attrs.get("gamma", SELU_GAMMA), SELU_GAMMA):
        ctx.make(SELU, node, [node.input[0]])
    else:
        ctx.pending(node, ctx.data_inputs(node), note="selu with other constants than PyTorch's")


@handles("HardSigmoid")
def hardsigmoid(ctx: Context, node: Any) -> None:
    attrs = attributes(node)
    if _close(attrs.get("alpha", 0.2), 1 / 6) and _close(attrs.get("beta", 0.5), 0.5):
        ctx.make(HARDSIGMOID, node, [node.input[0]])
    else:
        ctx.pending(node, ctx.data_inputs(node), note="hardsigmoid with a slope other than 1/6 (PyTorch's)")


@handles("Gelu")
def gelu(ctx: Context, node: Any) -> None:
    approximate = attributes(node).get("approximate", b"none")
    approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
    keywords = {"approximate": approximate} if approximate != "none" else {}
    ctx.make(GELU, node, [node.input[0]], keywords=keywords)


def _bound(ctx: Context, node: Any, index: int, attr: str, default: float) -> float | None:
    if len(node.input) > index and node.input[index]:
        value = ctx.constant(node.input[index])
        return None if value is None else float(np.asarray(value).reshape(-1)[0])
    return float(attributes(node).get(attr, default))


@handles("Clip")
def clip(ctx: Context, node: Any) -> None:
    low, high = _bound(ctx, node, 1, "min", -math.inf), _bound(ctx, node, 2, "max", math.inf)
    if low == 0.0 and high == 6.0:
        ctx.make(RELU6, node, [node.input[0]])
    elif low == 0.0 and high == math.inf:
        ctx.make(RELU, node, [node.input[0]])
    else:
        ctx.pending(node, ctx.data_inputs(node), note=f"clipping to [{low}, {high}] (netdsl has relu and relu6)")


def _per_channel(ctx: Context, name: str, value: np.ndarray) -> np.ndarray | None:
    """A constant that holds one value per channel of a tensor (or one for all), as a (C,) vector."""
    shape = ctx.shape(name)
    if shape is None:
        return None
    channels = shape[0]
    squeezed = np.asarray(value, dtype=np.float64)
    full_rank = len(shape) + 1
    dims = (1,) * (full_rank - squeezed.ndim) + squeezed.shape if squeezed.ndim <= full_rank else None
    if dims is None:
        return None
    axis = len(dims) - 1 if (ctx.channels_last(name) or len(shape) == 1) else 1
    if any(d != 1 for i, d in enumerate(dims) if i != axis) or dims[axis] not in (1, channels):
        return None
    return np.broadcast_to(squeezed.reshape(-1), (channels,)).astype(np.float64)


@handles("PRelu")
def prelu(ctx: Context, node: Any) -> None:
    slope = ctx.constant(node.input[1])
    per_channel = None if slope is None else _per_channel(ctx, node.input[0], slope)
    if per_channel is None:
        ctx.pending(node, ctx.data_inputs(node), note="a prelu slope that is not one per channel")
        return
    ctx.make(PRELU, node, [node.input[0]], weights={"weight": per_channel.astype(np.float32, copy=False)})


@handles("BatchNormalization")
def batchnorm(ctx: Context, node: Any) -> None:
    attrs = attributes(node)
    tensors = [ctx.constant(name) for name in node.input[1:5]]
    if any(t is None for t in tensors) or attrs.get("spatial", 1) != 1 or attrs.get("training_mode", 0):
        ctx.pending(node, ctx.data_inputs(node), note="batchnorm with statistics from the input")
        return
    weight, bias, mean, var = (np.asarray(t, dtype=np.float32).reshape(-1) for t in tensors)
    eps, momentum = float(attrs.get("epsilon", 1e-5)), 1.0 - float(attrs.get("momentum", 0.9))
    keywords = {}
    if not _close(eps, 1e-5):
        keywords["eps"] = number_text(eps)
    if not _close(momentum, 0.1) and 0.0 <= momentum <= 1.0:
        keywords["momentum"] = number_text(round(momentum, 9))
    ctx.make(
        BATCHNORM,
        node,
        [node.input[0]],
        keywords=keywords,
        weights={"weight": weight, "bias": bias, "running_mean": mean, "running_var": var},
    )


@handles("LRN")
def lrn(ctx: Context, node: Any) -> None:
    attrs = attributes(node)
    keywords = {
        "size": str(attrs["size"]),
        "alpha": number_text(attrs.get("alpha", 1e-4)),
        "beta": number_text(attrs.get("beta", 0.75)),
        "k": number_text(attrs.get("bias", 1.0)),
    }
    ctx.make(LRN, node, [node.input[0]], keywords=keywords)


@handles("LayerNormalization")
def layernorm(ctx: Context, node: Any) -> None:
    attrs = attributes(node)
    source = node.input[0]
    shape = ctx.shape(source)
    axis = attrs.get("axis", -1)
    over_channels = shape is not None and (len(shape) == 1 or ctx.channels_last(source) or shape[1:] == (1, 1))
    full = ctx.prepared.shapes.get(source, ())
    last = (axis + len(full) if axis < 0 else axis) == len(full) - 1
    scale = ctx.constant(node.input[1])
    bias = ctx.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if not (over_channels and (last or shape[1:] == (1, 1) and axis == 1)) or scale is None:
        ctx.pending(node, ctx.data_inputs(node), note="a layer normalization over more than the channels")
        return
    channels = shape[0]
    eps = float(attrs.get("epsilon", 1e-5))
    weights = {
        "weight": np.asarray(scale, np.float32).reshape(channels),
        "bias": np.zeros(channels, np.float32) if bias is None else np.asarray(bias, np.float32).reshape(-1),
    }
    keywords = {} if _close(eps, 1e-5) else {"eps": number_text(eps)}
    ctx.make(LAYERNORM, node, [source], keywords=keywords, weights=weights)


# ---- Mul, Add, Sub, Div, Erf, Pow, Sqrt: patterns ----


def _split(ctx: Context, node: Any) -> tuple[str, np.ndarray] | None:
    """(data input, constant) of a two-input node with one constant side."""
    a, b = node.input[0], node.input[1]
    if ctx.is_constant(b) and not ctx.is_constant(a):
        return a, np.asarray(ctx.constant(b))
    if ctx.is_constant(a) and not ctx.is_constant(b):
        return b, np.asarray(ctx.constant(a))
    return None


def _scalar(value: np.ndarray) -> float | None:
    return float(value.reshape(-1)[0]) if value.size == 1 else None


def _fold_scale(ctx: Context, layer: Layer, factor: np.ndarray, node: Any) -> None:
    """y = layer(x) * factor per channel, folded into an affine layer's weight and bias."""
    layer.weights["weight"] = (layer.weights["weight"] * factor).astype(np.float32, copy=False)
    layer.weights["bias"] = (layer.weights["bias"] * factor).astype(np.float32, copy=False)
    ctx.replace(layer, node.output[0])
    layer.note = layer.note or "with the scale and shift after it folded in"


def _fold_bias(ctx: Context, layer: Layer, shift: np.ndarray, node: Any) -> None:
    """y = layer(x) + shift per channel: the layer's bias (a conv or fc gains one)."""
    old = layer.weights.get("bias")
    layer.weights["bias"] = (shift if old is None else old + shift).astype(np.float32, copy=False)
    layer.keywords.pop("bias", None)
    ctx.replace(layer, node.output[0])


AFFINE = (BATCHNORM, LAYERNORM)
BIASED = (CONV, DECONV, FC, OUTPUT)


def _one_of(layer: Layer | None, ops: tuple[OpDef, ...]) -> bool:
    return layer is not None and any(layer.op is op for op in ops)


@handles("Mul")
def mul(ctx: Context, node: Any) -> None:
    split = _split(ctx, node)
    if split is not None:
        _mul_constant(ctx, node, *split)
        return
    a, b = node.input[0], node.input[1]
    if _gelu_halves(ctx, node, a, b) or _gelu_halves(ctx, node, b, a):
        return
    for x, gate in ((a, b), (b, a)):
        if _gated(ctx, node, x, gate):
            return
    ctx.make(MUL, node, [a, b])


def _mul_constant(ctx: Context, node: Any, x: str, value: np.ndarray) -> None:
    before = ctx.sole(x)
    per_channel = _per_channel(ctx, x, value)
    factor = _scalar(value)
    if before is not None and before.tag == "gelu-half" and factor is not None and _close(factor, 0.5):
        ctx.drop(before)
        ctx.make(GELU, node, before.inputs, like=before.output)
    elif _one_of(before, AFFINE) and per_channel is not None:
        _fold_scale(ctx, before, per_channel, node)
    elif per_channel is not None and ctx.shape(x) is not None:
        half = factor is not None and _close(factor, 0.5)  # perhaps the 0.5 * x of a gelu
        ctx.make(SCALE, node, [x], weights={"weight": per_channel.astype(np.float32)}, tag="half" if half else "")
    else:
        ctx.pending(node, [x], const=factor, note="a product with a constant that is not one per channel")


def _gated(ctx: Context, node: Any, x: str, gate_name: str) -> bool:
    """x * f(x) spellings: sigmoid -> swish, hardsigmoid -> hardswish, tanh(softplus) -> mish, and the first
    half of gelu's x * (1 + erf(x / sqrt 2)) (* 0.5 follows)."""
    gate = ctx.sole(gate_name)
    source = ctx.resolve(x)
    if gate is None or gate.inputs[:1] != [source] and not (gate.op is TANH and _softplus_of(ctx, gate, source)):
        return False
    found: OpDef | None = SWISH if gate.op is SIGMOID else HARDSWISH if gate.op is HARDSIGMOID else None
    if gate.op is TANH:
        softplus = ctx.producer.get(gate.inputs[0])
        ctx.drop(softplus)
        found = MISH
    if found is not None:
        ctx.drop(gate)
        ctx.make(found, node, [x])
        return True
    if gate.tag == "erf+1":
        ctx.drop(gate)
        ctx.pending(node, [x], note="half of a gelu", tag="gelu-half")
        return True
    return False


def _gelu_halves(ctx: Context, node: Any, half_name: str, curve_name: str) -> bool:
    """(0.5 * x) * (1 + erf(x / sqrt 2)): netdsl's own spelling of gelu before opset 20."""
    half, curve = ctx.sole(half_name), ctx.sole(curve_name)
    if half is None or curve is None or half.tag != "half" or curve.tag != "erf+1" or half.inputs != curve.inputs:
        return False
    ctx.drop(half)
    ctx.drop(curve)
    ctx.make(GELU, node, half.inputs, like=half.output)
    return True


def _softplus_of(ctx: Context, tanh: Layer, source: str) -> bool:
    softplus = ctx.producer.get(tanh.inputs[0])
    return (
        softplus is not None
        and softplus.op is SOFTPLUS
        and softplus.inputs == [source]
        and ctx.uses.get(softplus.output, 0) == 1
    )


@handles("Add")
def add(ctx: Context, node: Any) -> None:
    split = _split(ctx, node)
    if split is None:
        merge_add(ctx, node, [node.input[0], node.input[1]])
        return
    x, value = split
    before = ctx.sole(x)
    per_channel = _per_channel(ctx, x, value)
    scalar = _scalar(value)
    if _one_of(before, AFFINE + BIASED) and per_channel is not None:
        _fold_bias(ctx, before, per_channel, node)
    elif before is not None and before.tag == "variance" and scalar is not None:
        ctx.replace(before, node.output[0])
        before.tag, before.const = "variance+eps", scalar
    elif before is not None and before.tag == "erf" and scalar is not None and _close(scalar, 1.0):
        ctx.replace(before, node.output[0])
        before.tag = "erf+1"
    else:
        ctx.pending(node, [x], note="a sum with a constant that no layer before it can take as its bias")


@handles("Div")
def div(ctx: Context, node: Any) -> None:
    if _layernorm_spelled_out(ctx, node):
        return
    split = _split(ctx, node)
    if (
        split is not None
        and node.input[1] != split[0]
        and _scalar(split[1]) is not None
        and _close(_scalar(split[1]), math.sqrt(2.0))
    ):
        ctx.pending(node, [split[0]], note="a division by a constant", tag="div-sqrt2")
        return
    ctx.pending(node, ctx.data_inputs(node), note="a division")


@handles("Erf")
def erf(ctx: Context, node: Any) -> None:
    scaled = ctx.sole(node.input[0])
    if scaled is not None and scaled.tag == "div-sqrt2":
        ctx.drop(scaled)
        ctx.pending(node, scaled.inputs, note="an erf that is not part of a gelu", tag="erf")
        return
    ctx.pending(node, ctx.data_inputs(node), note="an erf that is not part of a gelu")


# ---- layernorm spelled out (PyTorch before opset 17): (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) ----


def _made(ctx: Context, name: str, tag: str) -> Layer | None:
    layer = ctx.producer.get(ctx.resolve(name))
    return layer if layer is not None and layer.tag == tag else None


@handles("Sub")
def sub(ctx: Context, node: Any) -> None:
    mean = _made(ctx, node.input[1], "mean")
    if mean is not None and mean.inputs == [ctx.resolve(node.input[0])]:
        ctx.drop(mean)
        ctx.pending(node, [node.input[0]], note="a difference", tag="centered")
        return
    ctx.pending(node, ctx.data_inputs(node), note="a difference")


@handles("Pow")
def power(ctx: Context, node: Any) -> None:
    exponent = ctx.constant(node.input[1])
    centered = _made(ctx, node.input[0], "centered")
    if centered is not None and exponent is not None and exponent.size == 1 and float(exponent.reshape(-1)[0]) == 2:
        ctx.pending(node, centered.inputs, const=centered, note="a square", tag="square", like=centered.output)
        return
    ctx.pending(node, ctx.data_inputs(node), note="a power")


@handles("Sqrt")
def square_root(ctx: Context, node: Any) -> None:
    variance = ctx.sole(node.input[0])
    if variance is not None and variance.tag == "variance+eps":
        ctx.replace(variance, node.output[0])
        variance.tag = "std"
        return
    ctx.pending(node, ctx.data_inputs(node), note="a square root")


def _layernorm_spelled_out(ctx: Context, node: Any) -> bool:
    centered, std = _made(ctx, node.input[0], "centered"), _made(ctx, node.input[1], "std")
    if centered is None or std is None or std.inputs != centered.inputs:
        return False
    for layer in (centered, std):
        ctx.drop(layer)
    channels = ctx.shape(centered.output)[0]
    keywords = {} if _close(std.const, 1e-5) else {"eps": number_text(std.const)}
    ctx.make(
        LAYERNORM,
        node,
        centered.inputs,
        like=centered.output,
        keywords=keywords,
        weights={"weight": np.ones(channels, np.float32), "bias": np.zeros(channels, np.float32)},
    )
    return True
