"""netdsl: a declarative network compiler. `netdsl.load("model.net")` gives a checked Model."""

from netdsl.diagnostics import NetdslError
from netdsl.model import Model, load, loads

__all__ = ["Model", "NetdslError", "load", "loads"]
__version__ = "0.1.0"
