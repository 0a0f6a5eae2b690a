"""The pre-built LALR tables: built from today's grammar, and parsing exactly as a parser built from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from lark import Lark

from netdsl.frontend import parser as P
from netdsl.frontend import parser_tables

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.net"))


def test_tables_were_built_from_this_grammar():
    assert parser_tables.GRAMMAR_SHA256 == P.grammar_digest(P._grammar_text()), (
        "grammars/netdsl.lark changed: run python tools/build_parser.py"
    )


def test_the_parser_comes_from_the_tables_not_from_a_cache():
    P._parser.cache_clear()
    parser = P._parser()
    assert parser.source_path == "<deserialized>"
    assert not parser.options.cache


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_tables_parse_like_the_grammar(path: Path):
    built = P._build(P._grammar_text())
    loaded = Lark._load_from_dict(
        parser_tables.DATA, parser_tables.MEMO, postlex=P.NewlinePostLex(), propagate_positions=True
    )
    source = path.read_text(encoding="utf-8")
    assert loaded.parse(source) == built.parse(source)


def test_no_pickle_is_loaded_when_parsing(monkeypatch, tmp_path):
    """S1: lark's cache unpickled a predictable file in the shared temp directory; nothing is unpickled now."""
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("pickle.load called")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    P._parser.cache_clear()
    try:
        P.parse("input(1, 8, 8) - fc(2)\n", "x.net")
    finally:
        P._parser.cache_clear()
    assert not list(tmp_path.iterdir())
