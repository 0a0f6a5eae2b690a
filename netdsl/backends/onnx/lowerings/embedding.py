"""embedding in ONNX: Gather of the table's rows by the token ids, transposed to channels-first."""

from __future__ import annotations

from netdsl.backends.onnx.lower import Lowering, constant
from netdsl.backends.onnx.registry import lowering
from netdsl.ops.embedding import EMBEDDING


@lowering(EMBEDDING)
def lower_embedding(low: Lowering) -> None:
    """embedding: the float input cast to int64 ids, Gather (N x L x D), then Transpose to N x D x L, or for
    as_image a Reshape to N x 1 x L x D."""
    name, out = low.node.name, low.output
    ids = low.emitter.add("Cast", [low.inputs[0]], f"{out}/ids", f"{name}/ids", to=7)  # TensorProto.INT64
    rows = low.emitter.add("Gather", [low.param("weight"), ids], f"{out}/rows", f"{name}/rows", axis=0)
    if low.node.attrs["as_image"]:
        low.emit("Reshape", [rows, constant(low, "shape", [0, *low.node.shape], "int64")])
    else:
        low.emit("Transpose", [rows], perm=[0, 2, 1])
