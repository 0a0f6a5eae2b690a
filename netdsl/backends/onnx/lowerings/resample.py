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
    """upsample: rows @ x @ columns^T, two MatMuls with the interpolation matrices (exact for nearest).
    Resize would say the same, but ONNX's shape inference of Resize loses the batch dimension's name."""
    _, h, w = low.node.shape
    (sh, sw), mode = low.node.attrs["scale"], low.node.attrs["mode"]
    columns = constant(low, "columns", interpolation(w // sw, sw, mode).T)
    wide = low.emitter.add("MatMul", [low.inputs[0], columns], f"{low.output}/wide", f"{low.node.name}/wide")
    low.emit("MatMul", [constant(low, "rows", interpolation(h // sh, sh, mode)), wide])


@lowering(ZEROPAD)
def lower_zeropad(low: Lowering) -> None:
    """zeropad: Pad with zeros, pads (0, 0, top, left, 0, 0, bottom, right)."""
    top, left, bottom, right = low.node.attrs["pads"]
    pads = constant(low, "pads", [0, 0, top, left, 0, 0, bottom, right], "int64")
    low.emit("Pad", [low.inputs[0], pads], mode="constant")


@lowering(SHUFFLE)
def lower_shuffle(low: Lowering) -> None:
    """shuffle: Reshape to (N, groups, C/groups, H, W), swap the two channel axes, Reshape back (ShuffleNet's
    own export). The batch stays dynamic: 0 in a Reshape shape copies the input's dimension."""
    c, h, w = low.node.shape
    groups = int(low.node.attrs["groups"])
    split = constant(low, "split", [0, groups, c // groups, h, w], "int64")
    grouped = low.emitter.add("Reshape", [low.inputs[0], split], f"{low.output}/groups", f"{low.node.name}/groups")
    swapped = low.emitter.add("Transpose", [grouped], f"{low.output}/swap", f"{low.node.name}/swap",
                              perm=[0, 2, 1, 3, 4])
    low.emit("Reshape", [swapped, constant(low, "merge", [0, c, h, w], "int64")])
