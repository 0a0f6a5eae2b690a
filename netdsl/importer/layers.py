"""What the importer builds from ONNX nodes: layers (an op declaration, its argument text, weights) joined
by tensor names, and the pending pieces of patterns that several ONNX nodes spell out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netdsl.ops.base import OpDef


@dataclass
class Layer:
    """One netdsl layer, or (op None) a pending ONNX node that a later pattern may still consume.

    `args` and `keywords` are argument texts (`64`, `3`; `stride` -> `2`); `weights` are keyed by the op's tensor
    names in netdsl's layout; `inputs` are data tensors (ONNX names)."""

    op: OpDef | None
    inputs: list[str]
    output: str
    node: str  # the ONNX node's name, for labels and messages
    onnx_op: str
    args: list[str] = field(default_factory=list)  # positional argument texts
    keywords: dict[str, str] = field(default_factory=dict)  # keyword argument texts
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    const: Any = None  # a pending node's constant operand (or the pattern's own facts)
    note: str = ""  # a comment for the .net file, or why a pending node has no netdsl op
    tag: str = ""  # which pattern a pending node is part of

    @property
    def pending(self) -> bool:
        return self.op is None

    def text(self) -> str:
        parts = [*self.args, *(f"{key}={value}" for key, value in self.keywords.items())]
        return f"{self.op.name}({', '.join(parts)})" if parts else self.op.name


def number_text(value: float) -> str:
    """A float as the language writes it: the shortest text that gives the same float32 (ONNX's type)."""
    text = np.format_float_positional(np.float32(value), unique=True, trim="0")
    if len(text) > 10 or 0 < abs(float(value)) < 1e-3:
        text = np.format_float_scientific(np.float32(value), unique=True, trim="-").replace("e+", "e")
    return text if ("." in text or "e" in text) else text + ".0"


def size_text(values: tuple[int, ...] | list[int]) -> str:
    """3 for (3, 3), 3x1 otherwise."""
    values = tuple(int(v) for v in values)
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))
