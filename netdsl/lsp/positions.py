"""Source spans (1-based lines, 1-based character columns) to LSP positions (0-based, in the
encoding the client and server agreed on: UTF-16 code units unless told otherwise) and back."""

from __future__ import annotations

from lsprotocol import types

from netdsl.diagnostics import Span

_UNIT_BYTES = {"utf-8": 1, "utf-16": 2, "utf-32": 4}


class Positions:
    """Converts between character columns of the text's lines and the client's position units."""

    def __init__(self, text: str, encoding: str = "utf-16"):
        self.lines = text.split("\n")
        self.encoding = str(encoding).lower()
        self.unit = _UNIT_BYTES.get(self.encoding, 2)

    def _line(self, index: int) -> str:
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def _units(self, text: str) -> int:
        if self.unit == 4 or text.isascii():
            return len(text)
        codec = {1: "utf-8", 2: "utf-16-le"}[self.unit]
        return len(text.encode(codec, "surrogatepass")) // self.unit

    def position(self, line: int, column: int) -> types.Position:
        """The LSP position of a 1-based line and 1-based character column."""
        index = max(line - 1, 0)
        text = self._line(index)
        return types.Position(index, self._units(text[: max(column - 1, 0)]))

    def range(self, span: Span) -> types.Range:
        return types.Range(self.position(span.line, span.column), self.position(span.end_line, span.end_column))

    def location(self, position: types.Position) -> tuple[int, int]:
        """The 1-based line and character column of an LSP position (clamped to the line)."""
        text = self._line(position.line)
        if self.unit == 4 or text.isascii():
            return position.line + 1, min(position.character, len(text)) + 1
        units = 0
        for index, char in enumerate(text):
            if units >= position.character:
                return position.line + 1, index + 1
            units += self._units(char)
        return position.line + 1, len(text) + 1

    def offset(self, position: types.Position) -> int:
        """The character offset in the whole text of an LSP position."""
        line, column = self.location(position)
        return sum(len(t) + 1 for t in self.lines[: line - 1]) + column - 1

    def end(self) -> types.Position:
        return types.Position(len(self.lines) - 1, self._units(self.lines[-1]))


def contains(span: Span, line: int, column: int) -> bool:
    """The 1-based line/column lies within the span (its end included, for a cursor after a word)."""
    if (line, column) < (span.line, span.column):
        return False
    return (line, column) <= (span.end_line, span.end_column)


def span_size(span: Span) -> tuple[int, int]:
    return span.end_line - span.line, span.end_column - span.column if span.end_line == span.line else 10**6
