"""ONNX lowerings registered against the op declarations, each with the first opset it needs.

    @lowering(ops.activation.RELU)              # from MIN_OPSET on
    def lower_relu(low: Lowering) -> None: low.emit("Relu")

    @lowering(GELU, since=20)                   # native Gelu; below opset 20 the op's decomposition runs

At an opset the newest lowering whose `since` it reaches is used; an op with none there is exported
through its OpDef.decompose (netdsl.ir.decompose), or the export fails naming it.
"""

from __future__ import annotations

from typing import Callable

from netdsl.backends.onnx.lower import MIN_OPSET, Lowering
from netdsl.ops.base import OpDef

LowerFn = Callable[[Lowering], None]

LOWERINGS: dict[str, list[tuple[int, LowerFn]]] = {}


def lowering(op: OpDef, since: int = MIN_OPSET) -> Callable[[LowerFn], LowerFn]:
    """Register a function as `op`'s ONNX lowering from opset `since` on."""

    def register(fn: LowerFn) -> LowerFn:
        versions = LOWERINGS.setdefault(op.name, [])
        if any(v == since for v, _ in versions):
            raise ValueError(f"op {op.name} has two ONNX lowerings from opset {since}")
        versions.append((since, fn))
        versions.sort(key=lambda item: item[0])
        return fn

    return register


def lowerings() -> dict[str, list[tuple[int, LowerFn]]]:
    """Every registered lowering (importing the op families registers them)."""
    import netdsl.backends.onnx.lowerings  # noqa: F401

    return LOWERINGS


def lowering_for(op: str, opset: int) -> LowerFn | None:
    """The newest lowering of `op` that `opset` allows, or None."""
    usable = [fn for since, fn in lowerings().get(op, []) if since <= opset]
    return usable[-1] if usable else None
