"""upsample, zeropad and shuffle in ONNX."""

from __future__ import annotations

from typing import Any

from netdsl.backends.onnx.lower import Lowering, constant
from netdsl.backends.onnx.registry import lowering
from netdsl.ops.resample import SHUFFLE, UPSAMPLE, ZEROPAD


def interpolation(size: int, factor: int, mode: str) -> Any:
    """(size*factor, size) weights that make each output row from the input rows: one 1 per row (nearest) or
    linear interpolation with half-pixel centres, the source clamped at 0 (PyTorch's align_corners=False)."""
    import numpy as np  # only when exporting

    from netdsl.reference import interpolation_matrix

    if mode != "nearest":
        return interpolation_matrix(size, factor).astype(np.float32)
    out = np.arange(size * factor)
    matrix = np.zeros((size * factor, size), np.float32)
    matrix[out, out // factor] = 1.0
    return matrix


@lowering(UPSAMPLE)
def lower_upsample(low: Lowering) -> None:
    """upsample: x @ columns^T, then rows @ that for images (and, for volumes, the depth matrix over the depth
    axis of x reshaped to N x C x D x (H*W)): MatMuls with the interpolation matrices (exact for nearest).
    Resize would say the same, but ONNX's shape inference of Resize loses the batch dimension's name."""
    c, *sizes = low.node.shape
    scale, mode = low.node.attrs["scale"], low.node.attrs["mode"]
    last = constant(low, "columns", interpolation(sizes[-1] // scale[-1], scale[-1], mode).T)
    if len(sizes) == 1:
        low.emit("MatMul", [low.inputs[0], last])
        return
    wide = low.emitter.add("MatMul", [low.inputs[0], last], f"{low.output}/wide", f"{low.node.name}/wide")
    rows = constant(low, "rows", interpolation(sizes[-2] // scale[-2], scale[-2], mode))
    if len(sizes) == 2:
        low.emit("MatMul", [rows, wide])
        return
    tall = low.emitter.add("MatMul", [rows, wide], f"{low.output}/tall", f"{low.node.name}/tall")
    depth = sizes[0] // scale[0]
    planes = low.emitter.add(
        "Reshape",
        [tall, constant(low, "planes_shape", [0, c, depth, -1], "int64")],
        f"{low.output}/planes",
        f"{low.node.name}/planes",
    )
    deep = low.emitter.add(
        "MatMul",
        [constant(low, "depth", interpolation(depth, scale[0], mode)), planes],
        f"{low.output}/deep",
        f"{low.node.name}/deep",
    )
    low.emit("Reshape", [deep, constant(low, "shape", [0, *low.node.shape], "int64")])


@lowering(ZEROPAD)
def lower_zeropad(low: Lowering) -> None:
    """zeropad: Pad with zeros, pads (0, 0, begins of each axis, 0, 0, ends): (0, 0, top, left, 0, 0, bottom,
    right) for images."""
    pads = low.node.attrs["pads"]
    rank = len(pads) // 2
    widths = constant(low, "pads", [0, 0, *pads[:rank], 0, 0, *pads[rank:]], "int64")
    low.emit("Pad", [low.inputs[0], widths], mode="constant")


@lowering(SHUFFLE)
def lower_shuffle(low: Lowering) -> None:
    """shuffle: Reshape to (N, groups, C/groups, H, W), swap the two channel axes, Reshape back (ShuffleNet's
    own export). The batch stays dynamic: 0 in a Reshape shape copies the input's dimension."""
    c, h, w = low.node.shape
    groups = int(low.node.attrs["groups"])
    split = constant(low, "split", [0, groups, c // groups, h, w], "int64")
    grouped = low.emitter.add("Reshape", [low.inputs[0], split], f"{low.output}/groups", f"{low.node.name}/groups")
    swapped = low.emitter.add(
        "Transpose", [grouped], f"{low.output}/swap", f"{low.node.name}/swap", perm=[0, 2, 1, 3, 4]
    )
    low.emit("Reshape", [swapped, constant(low, "merge", [0, c, h, w], "int64")])
