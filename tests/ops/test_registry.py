"""Every op against every backend: implemented, decomposed into implemented ops, or missing.

A half-added op fails here with the whole table, so the list of what is left is in the CI log."""

from __future__ import annotations

from typing import Callable

import pytest

from netdsl import ops
from netdsl.backends.numpy.registry import kernels
from netdsl.backends.onnx.export import max_opset
from netdsl.backends.onnx.lower import MIN_OPSET
from netdsl.backends.onnx.registry import lowering_for, lowerings
from netdsl.codegen import render
from netdsl.ops.base import OpDef

NOT_RUN = ("input", "sugar")  # the graph's input, and front-end sugar that never reaches a backend


def onnx_opsets() -> tuple[int, ...]:
    return (MIN_OPSET, 17, max_opset())


def backends() -> dict[str, Callable[[OpDef], bool]]:
    """Backend column -> whether it implements an op natively."""
    columns: dict[str, Callable[[OpDef], bool]] = {"numpy fwd/bwd": lambda op: op.name in kernels()}
    for opset in onnx_opsets():
        columns[f"onnx {opset}"] = lambda op, opset=opset: lowering_for(op.name, opset) is not None
    columns["codegen numpy"] = lambda op: render.has_snippet("numpy", op)
    columns["codegen pytorch"] = lambda op: render.has_snippet("pytorch", op)
    return columns


def decomposes(op: OpDef, native: Callable[[OpDef], bool]) -> bool:
    """Whether the op's decomposition (at its default attributes) reaches only ops the backend runs.
    The step ops are asked, not the decomposition run, so attribute-dependent steps count once each."""
    if op.decompose is None:
        return False
    attrs = {arg.name: arg.default for arg in op.args}
    steps = op.decompose(attrs, [(4, 3, 3)] * (2 if op.arity == "many" else 1))
    return all(native(ops.REGISTRY[s.op]) or decomposes(ops.REGISTRY[s.op], native) for s in steps)


def status(op: OpDef, native: Callable[[OpDef], bool]) -> str:
    if any(op.has(trait) for trait in NOT_RUN):
        return "-"
    if native(op):
        return "native"
    return "decomposed" if decomposes(op, native) else "MISSING"


def table() -> tuple[str, bool]:
    columns = backends()
    rows = [["op", *columns]]
    missing = False
    for op in ops.ALL:
        cells = [status(op, native) for native in columns.values()]
        missing |= "MISSING" in cells
        rows.append([op.name, *cells])
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    text = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows)
    return text, missing


def test_every_op_runs_on_every_backend() -> None:
    text, missing = table()
    print(text)
    assert not missing, "ops that a backend neither implements nor decomposes into ops it implements:\n" + text


def test_registrations_name_declared_ops() -> None:
    assert set(kernels()) <= set(ops.REGISTRY)
    assert set(lowerings()) <= set(ops.REGISTRY)
    for target in render.TARGETS:
        fragments = render.fragments(target)
        macros = {name for name in dir(fragments) if not name.startswith("_")}
        assert all(ops.lookup(name) is None or name in ops.REGISTRY for name in macros), (
            f"{target}: a fragment named after an alias instead of its op"
        )


def test_the_table_reports_a_missing_op() -> None:
    half_added = OpDef(name="half_added")
    assert status(half_added, lambda op: op.name in kernels()) == "MISSING"
    composite = OpDef(name="composite", decompose=ops.REGISTRY["swish"].decompose)
    assert status(composite, lambda op: op.name in kernels()) == "decomposed"
    assert status(composite, lambda op: op.name in {"sigmoid"}) == "MISSING"


def test_swish_is_decomposed_where_onnx_has_no_swish() -> None:
    assert status(ops.REGISTRY["swish"], backends()[f"onnx {MIN_OPSET}"]) == "decomposed"


@pytest.mark.parametrize("trait", sorted(ops.base.TRAITS))
def test_every_trait_is_used(trait: str) -> None:
    assert ops.with_trait(trait), f"no op has the trait {trait}"
