"""Until the backends implement them, the section-9 ops are declared but not in netdsl.ops.ALL; these tests
compile programs that use them by registering them for the test's duration."""

from __future__ import annotations

import pytest

from netdsl import ops
from netdsl.ops import nonlinear, normalization, resample

PENDING = nonlinear.OPS + normalization.OPS + resample.OPS


@pytest.fixture(autouse=True)
def section9_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    every = ops.ALL + tuple(op for op in PENDING if op.name not in ops.REGISTRY)
    monkeypatch.setattr(ops, "ALL", every)
    monkeypatch.setattr(ops, "REGISTRY", {op.name: op for op in every})
    monkeypatch.setattr(ops, "_ALIASES", {alias: op.name for op in every for alias in (op.name, *op.aliases)})
