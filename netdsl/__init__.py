"""netdsl: a declarative network compiler. `netdsl.load("model.net")` gives a checked Model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netdsl.diagnostics import NetdslError

if TYPE_CHECKING:
    from netdsl.importer import import_onnx
    from netdsl.model import Model, load, loads

__all__ = ["Model", "NetdslError", "datasets", "import_onnx", "load", "loads"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Model, load and loads come from netdsl.model on first use, so that `import netdsl.ops` (or any
    module that needs no front end) does not load the parser."""
    if name in ("Model", "load", "loads"):
        from netdsl import model

        return getattr(model, name)
    if name == "import_onnx":  # onnx loads only when an ONNX model is imported
        from netdsl.importer import import_onnx

        return import_onnx
    if name == "datasets":  # netdsl.datasets.load(name, split=..., shape=...): the data sets as arrays
        import importlib

        return importlib.import_module("netdsl.datasets")
    raise AttributeError(f"module 'netdsl' has no attribute {name!r}")
