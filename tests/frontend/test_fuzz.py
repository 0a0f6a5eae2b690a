"""Mutated example programs and random bytes end in success or located diagnostics, never in another exception.

Issue 11: at least 10,000 cases run on every CI run (derandomized: the same cases each time), through the
compiler API so that they stay within about a minute on two cores. Hostile pieces (deep nesting, huge
integers, terminal escapes, bidirectional overrides) are among the mutations.
"""

from __future__ import annotations

import re

from helpers import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netdsl.compiler import compile_source
from netdsl.diagnostics import render

SOURCES = [p.read_text() for p in sorted(EXAMPLES.glob("*.net"))]
TOKENS = [
    "-",
    "->",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "|",
    ",",
    "=",
    ":",
    "*",
    "0",
    "1",
    "3x3",
    "2.5",
    "relu",
    "conv",
    "fc",
    "add",
    "concat",
    "block",
    "network",
    "train",
    "input",
    "\n",
    "#",
    '"x"',
    "same",
    "pad",
    "stride",
    "-1",
    "999999",
    "identity",
    "output(10)",
    "bn",
    "x",
]
HOSTILE = [
    "[" * 150,
    "]" * 150,
    "(" * 150,
    "-" * 400,
    "+1" * 300,
    "9" * 5000,
    "99999999999999999999",
    "2147483648",
    "3037000500*3037000500",
    "\x1b[2J",
    "\x1b]0;title\x07",
    "\u202e",
    "\x00",
    "\r",
    "\x0c",
    "\x1c",
    "\t",
    "\ufeff",
    '"\x1b[31m"',
    "block b(n) { b(n*n) }",
    "x" * 300,
]


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
            parts.insert(i, draw(st.sampled_from(TOKENS + HOSTILE)))
        elif kind == "swap":
            j = draw(st.integers(0, len(parts) - 1))
            parts[i], parts[j] = parts[j], parts[i]
        else:
            text = parts[i]
            k = draw(st.integers(0, len(text)))
            parts[i] = text[:k] + draw(st.characters(codec="utf-8")) + text[k + 1 :]
    return "".join(parts)


def _check(text: str, file: str) -> None:
    """Success, or errors located in the file; rendered diagnostics send no control character to a terminal."""
    compilation = compile_source(text, file)
    for diagnostic in compilation.all_diagnostics:
        rendered = render(diagnostic, compilation.sources)
        assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in rendered), repr(
            rendered
        )
        if diagnostic.severity == "error" and diagnostic.span is not None:
            assert diagnostic.span.file == file
            assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1
            assert rendered.startswith(f"{file}:{diagnostic.span.line}:{diagnostic.span.column}: error: ")
    if compilation.ok:
        assert all(n.graph is not None for n in compilation.networks)


def fuzz(cases: int) -> settings:
    return settings(
        max_examples=cases,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@fuzz(5_500)
@given(mutated())
def test_mutations_give_diagnostics_or_success(text: str) -> None:
    _check(text, "mutant.net")


@fuzz(3_500)
@given(st.binary(max_size=400))
def test_random_bytes_give_diagnostics(blob: bytes) -> None:
    """Bytes as a file holds them: UTF-8 when they decode (the CLI refuses other files), else as Latin-1."""
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        text = blob.decode("latin-1")
    _check(text, "bytes.net")


@fuzz(1_500)
@given(
    st.lists(
        st.sampled_from(list('[](){}|-*+/%,=:#x0123456789 \n"\x1b') + ["relu", "fc", "input", "block"]), max_size=150
    ).map("".join)
)
def test_random_token_soup_gives_diagnostics(text: str) -> None:
    _check(text, "soup.net")
