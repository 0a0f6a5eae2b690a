"""ONNX nodes that move or join values as netdsl layers: Gemm/MatMul (fc, or a 1x1 conv on channels-last
data), Flatten/Reshape/Squeeze/Unsqueeze, Transpose (channels-last regions, channel shuffle), Concat, Sum/Add,
Identity, Dropout, Softmax, Resize/Upsample and the global reductions."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.importer.context import NHWC, Context, attributes, handles
from netdsl.importer.layers import Layer
from netdsl.ops.activation import SOFTMAX
from netdsl.ops.conv import CONV
from netdsl.ops.core import DROPOUT, FC, FLATTEN, OUTPUT
from netdsl.ops.merge import ADD, CONCAT
from netdsl.ops.pool import GLOBALAVGPOOL, GLOBALMAXPOOL
from netdsl.ops.resample import SHUFFLE, UPSAMPLE

TO_CHANNELS_LAST = (0, 2, 3, 1)
TO_CHANNELS_FIRST = (0, 3, 1, 2)
SHUFFLE_SWAP = (0, 2, 1, 3, 4)


def _fc(ctx: Context, node: Any, source: str, weight: np.ndarray, bias: np.ndarray | None) -> None:
    """fc from a (units, in) weight; a Flatten right before it is fc's own implicit flatten."""
    flatten = ctx.sole(source)
    if flatten is not None and flatten.op is FLATTEN:
        ctx.drop(flatten)
        source = flatten.inputs[0]
    weights = {"weight": weight.astype(np.float32, copy=False)}
    keywords = {}
    if bias is None:
        keywords["bias"] = "false"
    else:
        weights["bias"] = np.broadcast_to(bias, (weight.shape[0],)).astype(np.float32, copy=False).copy()
    ctx.make(FC, node, [source], args=[str(weight.shape[0])], keywords=keywords, weights=weights)


@handles("Gemm")
def gemm(ctx: Context, node: Any) -> None:
    attrs = attributes(node)
    b = ctx.constant(node.input[1])
    if attrs.get("transA", 0) or b is None or b.ndim != 2:
        ctx.pending(node, ctx.data_inputs(node), note="a matrix product of two inputs (not an fc)")
        return
    weight = (b if attrs.get("transB", 0) else b.T) * attrs.get("alpha", 1.0)
    c = ctx.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    bias = None if c is None else np.asarray(c, dtype=np.float64).reshape(-1) * attrs.get("beta", 1.0)
    _fc(ctx, node, node.input[0], weight, bias)


@handles("MatMul")
def matmul(ctx: Context, node: Any) -> None:
    b = ctx.constant(node.input[1])
    source = node.input[0]
    shape = ctx.shape(source)
    if b is None or b.ndim != 2 or shape is None:
        ctx.pending(node, ctx.data_inputs(node), note="a matrix product of two inputs (not an fc)")
        return
    if len(shape) == 1:
        _fc(ctx, node, source, b.T, None)
    elif ctx.channels_last(source) and len(shape) == 3:  # a Linear over channels: a 1x1 conv
        weight = b.T.astype(np.float32, copy=False)[:, :, None, None]
        ctx.make(
            CONV, node, [source], args=[str(b.shape[1]), "1"], keywords={"bias": "false"}, weights={"weight": weight}
        )
    else:
        ctx.pending(node, ctx.data_inputs(node), note="a matrix product over an axis that is not the channels")


def _per_sample_change(ctx: Context, node: Any) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    full_in, full_out = ctx.prepared.shapes.get(node.input[0]), ctx.prepared.shapes.get(node.output[0])
    if full_in is None or full_out is None or full_out[0] != full_in[0]:
        return None
    return tuple(full_in[1:]), tuple(full_out[1:])


@handles("Flatten", "Reshape", "Squeeze", "Unsqueeze")
def reshape(ctx: Context, node: Any) -> None:
    change = _per_sample_change(ctx, node)
    source = node.input[0]
    if change is None:
        ctx.pending(node, ctx.data_inputs(node), note="a reshape that moves values across the batch")
        return
    before, after = change
    swap = ctx.sole(source)
    if swap is not None and swap.tag == "shuffle-swap" and after == (before[0] * before[1], *before[2:]):
        ctx.drop(swap)
        ctx.make(SHUFFLE, node, swap.inputs, args=[str(swap.const)])
        return
    if before == after:
        ctx.same_as(node, source)
    elif len(after) == 1 and not ctx.channels_last(source):
        if len(before) == 1:
            ctx.same_as(node, source)
        else:
            ctx.make(FLATTEN, node, [source])
    elif len(before) == 3 and len(after) == 4 and after[0] * after[1] == before[0] and after[2:] == before[1:]:
        ctx.pending(node, [source], const=after[0], note="a reshape into channel groups", tag="groups")
    else:
        ctx.pending(node, ctx.data_inputs(node), note=f"a reshape from {_text(before)} to {_text(after)}")


def _text(shape: tuple[int, ...]) -> str:
    return " x ".join(map(str, shape)) or "a scalar"


@handles("Transpose")
def transpose(ctx: Context, node: Any) -> None:
    perm = tuple(attributes(node).get("perm", ()))
    source = node.input[0]
    groups = ctx.sole(source)
    if perm == SHUFFLE_SWAP and groups is not None and groups.tag == "groups":
        ctx.drop(groups)
        ctx.pending(node, groups.inputs, const=groups.const, note="a transpose of channel groups", tag="shuffle-swap")
        return
    rank = len(ctx.prepared.shapes.get(source, ()))
    if perm == tuple(range(rank)):
        ctx.same_as(node, source)
    elif perm == TO_CHANNELS_LAST and not ctx.channels_last(source):
        ctx.same_as(node, source, NHWC)
    elif perm == TO_CHANNELS_FIRST and ctx.channels_last(source):
        ctx.same_as(node, source, "nchw")
    else:
        ctx.pending(node, ctx.data_inputs(node), note=f"a transpose {list(perm)} that netdsl has no op for")


def channel_axis(ctx: Context, name: str, axis: int) -> bool:
    """Whether an ONNX axis is the channel axis of a tensor (in its layout)."""
    full = ctx.prepared.shapes.get(name)
    if full is None:
        return False
    axis = axis + len(full) if axis < 0 else axis
    if len(full) == 2:
        return axis == 1
    return axis == (3 if ctx.channels_last(name) else 1)


@handles("Concat")
def concat(ctx: Context, node: Any) -> None:
    inputs = [name for name in node.input if name]
    axis = attributes(node).get("axis", 1)
    if any(ctx.is_constant(name) for name in inputs) or not channel_axis(ctx, node.output[0], axis):
        ctx.pending(node, ctx.data_inputs(node), note="a concatenation that is not along the channels")
        return
    if len(inputs) == 1:
        ctx.same_as(node, inputs[0])
        return
    ctx.make(CONCAT, node, inputs)


def merge_add(ctx: Context, node: Any, inputs: list[str]) -> Layer:
    return ctx.make(ADD, node, inputs)


@handles("Sum")
def sum_(ctx: Context, node: Any) -> None:
    inputs = [name for name in node.input if name]
    if any(ctx.is_constant(name) for name in inputs):
        ctx.pending(node, ctx.data_inputs(node), note="a sum with a constant")
    elif len(inputs) == 1:
        ctx.same_as(node, inputs[0])
    else:
        merge_add(ctx, node, inputs)


@handles("Identity")
def identity(ctx: Context, node: Any) -> None:
    ctx.same_as(node, node.input[0])


@handles("Dropout")
def dropout(ctx: Context, node: Any) -> None:
    rate = attributes(node).get("ratio", 0.5)
    if len(node.input) > 1 and node.input[1]:
        given = ctx.constant(node.input[1])
        rate = 0.5 if given is None else float(np.asarray(given).reshape(-1)[0])
    ctx.make(DROPOUT, node, [node.input[0]], args=[f"{rate:g}"])


@handles("Softmax")
def softmax(ctx: Context, node: Any) -> None:
    source = node.input[0]
    full = ctx.prepared.shapes.get(source, ())
    axis = attributes(node).get("axis", 1 if ctx.opset < 13 else -1)
    over_channels = channel_axis(ctx, source, axis) and (
        ctx.opset >= 13 or len(full) == 2 or all(d == 1 for d in full[2:])
    )
    if not over_channels:
        ctx.pending(node, ctx.data_inputs(node), note="a softmax over an axis that is not the channels")
        return
    logits = ctx.sole(source)
    if logits is not None and logits.op is FC:  # fc - softmax is the language's output(N)
        logits.op = OUTPUT
        ctx.replace(logits, node.output[0])
        return
    ctx.make(SOFTMAX, node, [source])


def _scale_factors(ctx: Context, node: Any) -> tuple[int, int] | None:
    before, after = ctx.shape(node.input[0]), ctx.shape(node.output[0])
    if before is None or after is None or len(before) != 3 or before[0] != after[0]:
        return None
    if after[1] % before[1] or after[2] % before[2]:
        return None
    return after[1] // before[1], after[2] // before[2]


def _mode(value: Any, default: str) -> str:
    return (value.decode() if isinstance(value, bytes) else value) if value is not None else default


@handles("Resize", "Upsample")
def resize(ctx: Context, node: Any) -> None:
    attrs = attributes(node)
    factors = _scale_factors(ctx, node)
    mode = _mode(attrs.get("mode"), "nearest")
    transform = _mode(
        attrs.get("coordinate_transformation_mode"), "half_pixel" if node.op_type == "Resize" else "asymmetric"
    )
    linear = mode in ("linear", "bilinear")
    if factors is None or ctx.channels_last(node.input[0]):
        reason = "a resize by a factor that is not a whole number"
    elif linear and transform not in ("half_pixel", "pytorch_half_pixel"):
        reason = f"linear resizing with {transform} coordinates (netdsl's bilinear upsample uses half-pixel ones)"
    elif mode not in ("nearest", "linear", "bilinear"):
        reason = f"{mode} resizing"
    elif not linear and transform == "align_corners":
        reason = "nearest resizing with aligned corners"
    else:
        scale = str(factors[0]) if factors[0] == factors[1] else f"{factors[0]}x{factors[1]}"
        keywords = {"mode": "bilinear"} if linear else {}
        ctx.make(UPSAMPLE, node, [node.input[0]], args=[scale], keywords=keywords)
        return
    ctx.pending(node, ctx.data_inputs(node), note=reason)


def _reduce_axes(ctx: Context, node: Any) -> tuple[int, ...] | None:
    attrs = attributes(node)
    axes = attrs.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        given = ctx.constant(node.input[1])
        axes = None if given is None else [int(a) for a in np.asarray(given).reshape(-1)]
    if axes is None:
        return None
    rank = len(ctx.prepared.shapes.get(node.input[0], ()))
    return tuple(sorted(a + rank if a < 0 else a for a in axes))


@handles("ReduceMean", "ReduceMax")
def reduce(ctx: Context, node: Any) -> None:
    axes = _reduce_axes(ctx, node)
    source = node.input[0]
    spatial = (1, 2) if ctx.channels_last(source) else (2, 3)
    if axes == (3,) and ctx.channels_last(source) and node.op_type == "ReduceMean":  # a layernorm spelled out?
        square = ctx.sole(source)
        if square is not None and square.tag == "square":
            ctx.drop(square)
            ctx.pending(node, square.inputs, note="a mean over the channels", tag="variance", like=square.output)
        else:
            ctx.pending(node, [source], note="a mean over the channels", tag="mean")
        return
    if axes != spatial or len(ctx.prepared.shapes.get(source, ())) != 4:
        ctx.pending(node, ctx.data_inputs(node), note="a reduction over axes other than height and width")
        return
    op = GLOBALAVGPOOL if node.op_type == "ReduceMean" else GLOBALMAXPOOL
    layer = ctx.make(op, node, [source])
    if not attributes(node).get("keepdims", 1):
        pooled = f"{node.output[0]}/pool"
        ctx.replace(layer, pooled)
        ctx.add(Layer(FLATTEN, [pooled], node.output[0], f"{layer.node}_flatten", node.op_type))
