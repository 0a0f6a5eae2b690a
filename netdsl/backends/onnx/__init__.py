"""The ONNX backend: lower a checked graph to standard ONNX ops and export it.

    from netdsl.backends.onnx import export_onnx
    export_onnx(model.graph, weights, "net.onnx", opset=17)

Importing this package is cheap: onnx loads on first use.
"""

from netdsl.backends.onnx.export import (
    DEFAULT_OPSET,
    MAX_OPSET,
    ExportError,
    ExportWarning,
    Verification,
    build_model,
    export_onnx,
    verify,
)
from netdsl.backends.onnx.lower import MIN_OPSET
from netdsl.backends.onnx.registry import LOWERINGS, lowering

__all__ = [
    "DEFAULT_OPSET",
    "LOWERINGS",
    "MAX_OPSET",
    "MIN_OPSET",
    "ExportError",
    "ExportWarning",
    "Verification",
    "build_model",
    "lowering",
    "export_onnx",
    "verify",
]
