"""Mutated example programs end in success or located diagnostics, never in another exception."""

from __future__ import annotations

import re

from helpers import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netdsl.compiler import compile_source
from netdsl.diagnostics import render

SOURCES = [p.read_text() for p in sorted(EXAMPLES.glob("*.net"))]
TOKENS = ["-", "->", "(", ")", "[", "]", "{", "}", "|", ",", "=", ":", "*", "0", "1", "3x3", "2.5", "relu",
          "conv", "fc", "add", "concat", "block", "network", "train", "input", "\n", "#", '"x"', "same",
          "pad", "stride", "-1", "999999", "identity", "output(10)", "bn", "x"]


def _tokens(text: str) -> list[str]:
    return re.findall(r"\s+|[A-Za-z_][A-Za-z0-9_]*|[0-9.x]+|->|.", text)


@st.composite
def mutated(draw) -> str:
    parts = _tokens(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "swap", "char"]))
        i = draw(st.integers(0, len(parts) - 1))
        if kind == "delete":
            del parts[i]
        elif kind == "insert":
            parts.insert(i, draw(st.sampled_from(TOKENS)))
        elif kind == "swap":
            j = draw(st.integers(0, len(parts) - 1))
            parts[i], parts[j] = parts[j], parts[i]
        else:
            text = parts[i]
            k = draw(st.integers(0, len(text)))
            parts[i] = text[:k] + draw(st.characters(codec="utf-8")) + text[k + 1:]
    return "".join(parts)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_give_diagnostics_or_success(text: str) -> None:
    compilation = compile_source(text, "mutant.net")
    for diagnostic in compilation.all_diagnostics:
        if diagnostic.severity == "error" and diagnostic.span is not None:
            assert diagnostic.span.file == "mutant.net"
            assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1
            rendered = render(diagnostic, compilation.sources)
            assert rendered.startswith(f"mutant.net:{diagnostic.span.line}:{diagnostic.span.column}: error: ")
    if compilation.ok:
        assert all(n.graph is not None for n in compilation.networks)
