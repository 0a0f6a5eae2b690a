"""fc as ONNX Gemm, flatten as Flatten, dropout as Identity."""

from __future__ import annotations

from netdsl.backends.onnx.lower import Lowering
from netdsl.backends.onnx.registry import lowering
from netdsl.ops.core import DROPOUT, FC, FLATTEN


@lowering(FLATTEN)
def lower_flatten(low: Lowering) -> None:
    """flatten: Flatten(axis=1), the C-major order of NCHW."""
    low.emit("Flatten", axis=1)


@lowering(FC)
def lower_fc(low: Lowering) -> None:
    """fc: Gemm with transB=1, the weight stored (units, in) as a PyTorch Linear."""
    inputs = [low.inputs[0], low.param("weight")]
    if "bias" in low.node.params:
        inputs.append(low.param("bias"))
    low.emit("Gemm", inputs, alpha=1.0, beta=1.0, transA=0, transB=1)


@lowering(DROPOUT)
def lower_dropout(low: Lowering) -> None:
    """dropout: the identity at inference (an exported model is an inference model)."""
    low.emit("Identity")
