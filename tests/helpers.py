"""Shared helpers: compile a program and pull out its diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest

from netdsl.compiler import Compilation, compile_source

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def compile_text(text: str, file: str = "test.net") -> Compilation:
    return compile_source(text, file)


def errors(text: str) -> list:
    return [d for d in compile_text(text).all_diagnostics if d.severity == "error"]


def warnings(text: str) -> list:
    return [d for d in compile_text(text).all_diagnostics if d.severity == "warning"]


def only_error(text: str):
    found = errors(text)
    assert len(found) == 1, [d.message for d in found]
    return found[0]


def graph_of(text: str):
    compilation = compile_text(text)
    assert compilation.ok, [d.message for d in compilation.all_diagnostics]
    return compilation.networks[0].graph


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES
