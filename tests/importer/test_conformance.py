"""The onnx wheel's backend test data through `netdsl import`: every case passes or is unsupported with a
reason, none fails numerically, and docs/onnx.md keeps the table this run prints."""

from __future__ import annotations

import re

from helpers import ROOT
from onnx_conformance import cases, run, table

DOC = ROOT / "docs" / "onnx.md"
BEGIN, END = "<!-- conformance table: begin -->", "<!-- conformance table: end -->"


def documented_table() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.S)
    assert match, f"docs/onnx.md has no {BEGIN} ... {END} section"
    return match.group(1)


def test_backend_test_data_pass_or_are_unsupported_with_a_reason() -> None:
    outcomes = [run(case) for case in cases()]
    printed = table(outcomes)
    print(printed)
    failures = [o.row() for o in outcomes if o.result == "FAILED"]
    assert not failures, "\n".join(failures)
    assert all(o.reason for o in outcomes if o.result == "unsupported")
    light = [o for o in outcomes if o.case.family == "light"]
    assert len(light) == 9 and all(o.result == "passed" for o in light)
    assert documented_table() == printed, "docs/onnx.md's conformance table differs from this run's; paste it"
