"""ONNX's windowed nodes as netdsl layers: Conv, ConvTranspose, MaxPool/AveragePool, the global pools, Pad."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.importer.context import Context, attributes, handles
from netdsl.importer.layers import size_text
from netdsl.ops.conv import CONV, DECONV
from netdsl.ops.pool import AVGPOOL, GLOBALAVGPOOL, GLOBALMAXPOOL, MAXPOOL
from netdsl.ops.resample import ZEROPAD
from netdsl.ops.window import axis_output


def axes_text(values: tuple[int, ...]) -> str:
    """An int when every axis agrees, `(a, b, ...)` otherwise (pads and strides)."""
    return str(values[0]) if len(set(values)) == 1 else f"({', '.join(map(str, values))})"


def explicit_pads(
    attrs: dict, image: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[int, ...] | str:
    """ONNX pads as (begin of each axis..., end of each axis...), or "same" for SAME_UPPER (netdsl's own)."""
    rank = len(image)
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto == "SAME_UPPER":
        return "same"
    if auto == "VALID":
        return (0,) * (2 * rank)
    if auto == "SAME_LOWER":
        totals = []
        for i, k, s, d in zip(image, kernel, stride, dilation):
            o = -(-i // s)
            totals.append(max((o - 1) * s + d * (k - 1) + 1 - i, 0))
        return tuple(t - t // 2 for t in totals) + tuple(t // 2 for t in totals)
    pads = tuple(int(p) for p in attrs.get("pads", (0,) * (2 * rank)))
    return pads if len(pads) == 2 * rank else (0,) * (2 * rank)


def _spatial_only(ctx: Context, node: Any, what: str) -> bool:
    """Windows over sequences, images and volumes (channels first); anything else is reported with its rank."""
    shape = ctx.shape(node.input[0])
    if shape is None or len(shape) not in (2, 3, 4):
        rank = "unknown" if shape is None else f"{len(shape) - 1}-D"
        ctx.pending(
            node, ctx.data_inputs(node), note=f"{what} over {rank} data (netdsl imports 1-D, 2-D and 3-D windows)"
        )
        return False
    return True


def _zeropad_before(ctx: Context, node: Any, pads: tuple[int, ...]) -> str:
    """A zeropad layer in front of a node whose pads are not symmetric; returns the padded tensor."""
    rank = len(pads) // 2
    pairs = ", ".join(f"{pads[i]}, {pads[rank + i]}" for i in range(rank))
    name = f"{node.output[0]}/pad"
    layer = ctx.make(ZEROPAD, node, [node.input[0]], args=[f"({pairs})"])
    ctx.replace(layer, name)
    layer.node = f"{layer.node}_pad"
    return name


@handles("Conv")
def conv(ctx: Context, node: Any) -> None:
    weight = ctx.constant(node.input[1])
    if weight is None:
        ctx.pending(node, ctx.data_inputs(node), note="weights computed from the input")
        return
    if weight.ndim not in (3, 4, 5) or not _spatial_only(ctx, node, "a convolution"):
        if weight.ndim not in (3, 4, 5):
            ctx.pending(
                node,
                ctx.data_inputs(node),
                note=f"a {weight.ndim - 2}-D convolution (netdsl imports 1-D, 2-D and 3-D windows)",
            )
        return
    attrs = attributes(node)
    filters, kernel = weight.shape[0], tuple(weight.shape[2:])
    ones = (1,) * len(kernel)
    stride = tuple(attrs.get("strides", ones))
    dilation = tuple(attrs.get("dilations", ones))
    image = ctx.shape(node.input[0])[1:]
    pads = explicit_pads(attrs, image, kernel, stride, dilation)
    source = node.input[0]
    keywords = {"stride": axes_text(stride)} if stride != ones else {}
    if isinstance(pads, str):
        keywords["pad"] = pads
    elif pads[: len(kernel)] == pads[len(kernel) :]:
        if any(pads):
            keywords["pad"] = axes_text(pads[: len(kernel)])
    else:
        source = _zeropad_before(ctx, node, pads)
    if dilation != ones:
        keywords["dilation"] = axes_text(dilation)
    if attrs.get("group", 1) != 1:
        keywords["groups"] = str(attrs["group"])
    weights = {"weight": weight.astype(np.float32, copy=False)}
    bias = ctx.constant(node.input[2]) if len(node.input) > 2 else None
    if bias is None:
        keywords["bias"] = "false"
    else:
        weights["bias"] = bias.astype(np.float32, copy=False).reshape(-1)
    ctx.make(CONV, node, [source], args=[str(filters), size_text(kernel)], keywords=keywords, weights=weights)


@handles("ConvTranspose")
def conv_transpose(ctx: Context, node: Any) -> None:
    weight = ctx.constant(node.input[1])
    if weight is None or weight.ndim not in (3, 4, 5):
        note = "weights computed from the input" if weight is None else f"a {weight.ndim - 2}-D transposed conv"
        ctx.pending(node, ctx.data_inputs(node), note=note)
        return
    if not _spatial_only(ctx, node, "a transposed convolution"):
        return
    attrs = attributes(node)
    groups = int(attrs.get("group", 1))
    per_group, kernel = weight.shape[1], tuple(weight.shape[2:])
    rank, ones = len(kernel), (1,) * len(kernel)
    stride = tuple(attrs.get("strides", ones))
    dilation = tuple(attrs.get("dilations", ones))
    image, out = ctx.shape(node.input[0])[1:], ctx.shape(node.output[0])
    pads = tuple(int(p) for p in attrs.get("pads", (0,) * (2 * rank)))
    if (
        out is None
        or pads[:rank] != pads[rank:]
        or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")
        or len(image) != rank
    ):
        ctx.pending(node, ctx.data_inputs(node), note="a transposed conv with unequal or automatic pads")
        return
    extra = [
        o - ((i - 1) * s - 2 * p + d * (k - 1) + 1)
        for o, i, s, p, d, k in zip(out[1:], image, stride, pads[:rank], dilation, kernel)
    ]
    keywords = {"stride": axes_text(stride)} if stride != ones else {}
    if any(pads):
        keywords["pad"] = axes_text(pads[:rank])
    if any(extra):
        keywords["output_pad"] = axes_text(tuple(extra))
    if dilation != ones:
        keywords["dilation"] = axes_text(dilation)
    if groups != 1:
        keywords["groups"] = str(groups)
    weights = {"weight": weight.astype(np.float32, copy=False)}
    bias = ctx.constant(node.input[2]) if len(node.input) > 2 else None
    if bias is None:
        keywords["bias"] = "false"
    else:
        weights["bias"] = bias.astype(np.float32, copy=False).reshape(-1)
    ctx.make(
        DECONV,
        node,
        [node.input[0]],
        args=[str(per_group * groups), size_text(kernel)],
        keywords=keywords,
        weights=weights,
    )


def _pool_pad(
    image: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: tuple[int, ...],
    out: tuple[int, ...],
) -> tuple[tuple[int, ...], bool] | None:
    """netdsl's symmetric pad and ceil that give the same windows as ONNX's pads, or None.

    Windows start at o*s - top; extra padding at the end changes only how many there are, so any ONNX pads
    whose leading pad fits and whose output size netdsl reproduces (with or without ceil) are the same."""
    begins = pads[: len(kernel)]
    if any(b > k // 2 for b, k in zip(begins, kernel)):
        return None
    for ceil in (False, True):
        sizes = tuple(axis_output(i, k, s, 1, p, ceil)[0] for i, k, s, p in zip(image, kernel, stride, begins))
        if sizes == tuple(out):
            return begins, ceil
    return None


def _covers_all(
    image: tuple[int, ...], kernel: tuple[int, ...], pads: tuple[int, ...], out: tuple[int, ...] | None
) -> bool:
    """One output per channel from a window that reads the whole image (padding not counted)."""
    return (
        out is not None
        and tuple(out[1:]) == (1,) * len(kernel)
        and all(k - before >= i for i, k, before in zip(image, kernel, pads[: len(kernel)]))
    )


@handles("MaxPool", "AveragePool")
def pool(ctx: Context, node: Any) -> None:
    if not _spatial_only(ctx, node, "pooling"):
        return
    attrs = attributes(node)
    if len(node.output) > 1 and ctx.uses.get(node.output[1]):
        ctx.pending(node, ctx.data_inputs(node), note="pooling indices (the second output) are used")
        return
    kernel = tuple(attrs["kernel_shape"])
    ones = (1,) * len(kernel)
    if tuple(attrs.get("dilations", ones)) != ones:
        ctx.pending(node, ctx.data_inputs(node), note="dilated pooling")
        return
    stride = tuple(attrs.get("strides", ones))
    image, out = ctx.shape(node.input[0])[1:], ctx.shape(node.output[0])
    pads = explicit_pads(attrs, image, kernel, stride, ones)
    op = MAXPOOL if node.op_type == "MaxPool" else AVGPOOL
    source = node.input[0]
    keywords = {"stride": axes_text(stride)} if stride != kernel else {}
    if isinstance(pads, str):
        keywords["pad"] = pads
    else:
        if op is AVGPOOL and attrs.get("count_include_pad", 0) and any(pads):
            source = _zeropad_before(ctx, node, pads)  # padded zeros count: they are real zeros then
            rank = len(kernel)
            image = tuple(i + b + e for i, b, e in zip(image, pads[:rank], pads[rank:]))
            pads = (0,) * (2 * rank)
        if _covers_all(image, kernel, pads, out):  # one window over every value: Caffe's global pooling
            ctx.make(GLOBALAVGPOOL if op is AVGPOOL else GLOBALMAXPOOL, node, [source])
            return
        fit = _pool_pad(image, kernel, stride, pads, out[1:]) if out is not None else None
        if fit is None:
            ctx.pending(
                node,
                ctx.data_inputs(node),
                note=f"pooling pads {list(pads)} that netdsl's symmetric pads (at most half the window) cannot give",
            )
            return
        begins, ceil = fit
        if any(begins):
            keywords["pad"] = axes_text(begins)
        if ceil:
            keywords["ceil"] = "true"
    ctx.make(op, node, [source], args=[size_text(kernel)], keywords=keywords)


@handles("GlobalAveragePool", "GlobalMaxPool")
def global_pool(ctx: Context, node: Any) -> None:
    if _spatial_only(ctx, node, "global pooling"):
        ctx.make(GLOBALAVGPOOL if node.op_type == "GlobalAveragePool" else GLOBALMAXPOOL, node, [node.input[0]])


@handles("Pad")
def pad(ctx: Context, node: Any) -> None:
    attrs = attributes(node)
    mode = attrs.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    pads = attrs.get("pads", attrs.get("paddings"))
    if pads is None:
        pads = ctx.constant(node.input[1]) if len(node.input) > 1 else None
    value = attrs.get("value", 0.0)
    if len(node.input) > 2 and node.input[2]:
        constant = ctx.constant(node.input[2])
        value = None if constant is None else float(np.asarray(constant).reshape(-1)[0])
    axes_given = len(node.input) > 3 and node.input[3]
    shape = ctx.shape(node.input[0])
    pads = None if pads is None else [int(p) for p in np.asarray(pads).reshape(-1)]
    image_pads = pads is not None and len(pads) == 8 and not any(pads[i] for i in (0, 1, 4, 5)) and min(pads) >= 0
    if (
        mode != "constant"
        or value != 0.0
        or not image_pads
        or axes_given
        or shape is None
        or len(shape) != 3
        or ctx.channels_last(node.input[0])
    ):
        reason = f"{mode} padding" if mode != "constant" else "padding other than zeros around a 2-D image"
        ctx.pending(node, ctx.data_inputs(node), note=reason)
        return
    top, left, bottom, right = pads[2], pads[3], pads[6], pads[7]
    if not any((top, left, bottom, right)):
        ctx.same_as(node, node.input[0])
        return
    ctx.make(ZEROPAD, node, [node.input[0]], args=[f"({top}, {bottom}, {left}, {right})"])
