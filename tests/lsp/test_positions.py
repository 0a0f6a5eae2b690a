"""Spans (character columns) to LSP positions in UTF-16 code units, and back."""

from __future__ import annotations

from lsprotocol import types

from netdsl.diagnostics import Span
from netdsl.lsp.positions import Positions, contains

TEXT = 'train {\n    data = "données/😀.npz"  # x\n    epochs = 2\n}\n'


def test_columns_after_wide_characters_count_utf16_units() -> None:
    positions = Positions(TEXT)
    line = TEXT.split("\n")[1]
    after = line.index("#") + 1  # 1-based column of the comment, after 'é' (1 unit) and '😀' (2 units)
    assert positions.position(2, after) == types.Position(1, after - 1 + 1)
    assert positions.location(types.Position(1, after)) == (2, after)
    assert Positions(TEXT, "utf-8").position(2, after) == types.Position(1, after - 1 + 1 + 3)
    assert Positions(TEXT, "utf-32").position(2, after) == types.Position(1, after - 1)


def test_ranges_offsets_and_the_end() -> None:
    positions = Positions(TEXT)
    assert positions.range(Span("f", 3, 5, 3, 11)) == types.Range(types.Position(2, 4), types.Position(2, 10))
    assert positions.offset(types.Position(2, 4)) == TEXT.index("epochs")
    assert positions.end() == types.Position(4, 0)
    assert positions.location(types.Position(2, 999)) == (3, len("    epochs = 2") + 1)  # clamped to the line


def test_contains_includes_the_end_for_a_cursor_after_a_word() -> None:
    span = Span("f", 3, 5, 3, 11)
    assert contains(span, 3, 5) and contains(span, 3, 11)
    assert not contains(span, 3, 4) and not contains(span, 3, 12) and not contains(span, 2, 6)
