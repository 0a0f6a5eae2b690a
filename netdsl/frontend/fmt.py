"""`netdsl fmt`: one canonical layout for .net programs, comments kept, meaning unchanged.

The formatter keeps every line break where the author put it (line breaks separate layers) and
normalizes what is around them: indentation by bracket depth, branch bars aligned two columns to
the left of their branch, one space around `-`, `->`, `|`, `*` and arithmetic, `key=value` inside
argument lists, `key = value` aligned in train sections, trailing comments at their column (or two
spaces after the code), at most one blank line, one after each top-level `{ ... }`; braces and
brackets whose contents span lines open at a line's end and close at a line's start. Its output is
re-lexed and checked token for token against the input before anyone sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

from lark import Token
from lark.exceptions import UnexpectedInput

from netdsl.diagnostics import CompileError

INDENT = 4
COMMENT_GAP = 2

_OPENERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
_CLOSERS = {"RPAR", "RSQB", "RBRACE"}
_OPERAND_ENDS = {"NAME", "INT", "FLOAT", "SIZE", "STRING", "RPAR", "RSQB", "RBRACE"}
_SIGN = {"MINUS", "PLUS"}
_CONTINUES_AFTER = {"MINUS", "_ARROW", "STAR", "EQUAL", "COLON", "PLUS", "SLASH", "_FLOORDIV", "PERCENT"}
_CONTINUES_BEFORE = {"MINUS", "_ARROW", "STAR"}
_NO_SPACE_BEFORE = {"COMMA", "RPAR", "RSQB", "COLON"}


class FormatError(Exception):
    """The formatter would have changed what the program means (a bug in the formatter)."""


@dataclass
class _Line:
    """One source line: its significant tokens, its comment and where that comment stood."""

    tokens: list[Token] = field(default_factory=list)
    comment: str | None = None
    comment_column: int = 0  # 0-based, in the original line

    @property
    def blank(self) -> bool:
        return not self.tokens and self.comment is None


@lru_cache(maxsize=1)
def _raw_lexer():
    """The parser's own lexer, keeping whitespace, comments and every line break."""
    from netdsl.frontend.parser import _parser

    return _parser()._build_lexer(dont_ignore=True)


def iter_raw_tokens(source: str) -> Iterator[Token]:
    """Every token of `source`, whitespace and comments included (raises lark's UnexpectedInput)."""
    from lark.lexer import LexerThread

    return LexerThread.from_text(_raw_lexer(), source).lex(None)


def raw_tokens(source: str) -> list[Token]:
    return list(iter_raw_tokens(source))


def _split_lines(source: str) -> list[_Line]:
    lines = [_Line()]
    for token in raw_tokens(source):
        if token.type == "_NL":
            lines.append(_Line())
        elif token.type == "COMMENT":
            lines[-1].comment = str(token).rstrip()
            lines[-1].comment_column = token.column - 1
        elif token.type != "WS":
            lines[-1].tokens.append(token)
    return lines


def _break_open_groups(lines: list[_Line]) -> list[_Line]:
    """A `{ ... }` or `[ ... ]` that spans lines gets its opener at a line's end and its closer at a
    line's start (a line break there is never a separator, so the meaning stays)."""
    stack: list[tuple[int, int]] = []
    breaks: set[tuple[int, int]] = set()  # (line, token index) that starts a new line
    for row, line in enumerate(lines):
        for index, token in enumerate(line.tokens):
            if token.type in ("LBRACE", "LSQB"):
                stack.append((row, index))
            elif token.type in ("RBRACE", "RSQB") and stack:
                open_row, open_index = stack.pop()
                if open_row != row:
                    breaks.add((open_row, open_index + 1))
                    breaks.add((row, index))
    out: list[_Line] = []
    for row, line in enumerate(lines):
        cuts = sorted(i for r, i in breaks if r == row and 0 < i < len(line.tokens))
        for start, stop in zip([0, *cuts], [*cuts, len(line.tokens)]):
            out.append(_Line(line.tokens[start:stop]))
        out[-1].comment, out[-1].comment_column = line.comment, line.comment_column
    return out


def _is_sign(token: Token, previous: Token | None) -> bool:
    """A `-` or `+` that negates what follows (no operand before it)."""
    return token.type in _SIGN and (previous is None or previous.type not in _OPERAND_ENDS)


def _space(left: Token, right: Token, left_is_sign: bool, in_parens: bool) -> str:
    if left.type == "EQUAL" or right.type == "EQUAL":
        return "" if in_parens else " "
    if right.type in _NO_SPACE_BEFORE or left.type in ("LPAR", "LSQB") or left_is_sign:
        return ""
    if right.type == "LPAR" and left.type == "NAME":
        return ""
    return " "


@dataclass
class _State:
    """Bracket nesting while the lines are laid out."""

    stack: list[tuple[str, bool]] = field(default_factory=list)  # (opener type, opens a train section)
    previous: Token | None = None  # the last significant token, across lines
    keyword_before_brace: str | None = None

    @property
    def in_parens(self) -> bool:
        return bool(self.stack) and self.stack[-1][0] == "LPAR"

    @property
    def in_train(self) -> bool:
        """Directly inside a train section's braces (not in an argument list within it)."""
        return bool(self.stack) and self.stack[-1] == ("LBRACE", True)

    @property
    def inside_train(self) -> bool:
        return any(train for _, train in self.stack)


class _Layout:
    def __init__(self, lines: list[_Line]):
        self.lines = lines
        self.state = _State()
        self.statement_keyword: str | None = None
        self.train_key_width = self._train_key_widths()

    def _train_key_widths(self) -> dict[int, int]:
        """For each line that sets a train setting: the width its key is padded to."""
        widths: dict[int, int] = {}
        section: list[int] = []
        state = _State()
        keyword = None
        for index, line in enumerate(self.lines):
            if (
                state.in_train
                and len(line.tokens) > 1
                and line.tokens[0].type == "NAME"
                and line.tokens[1].type == "EQUAL"
            ):
                section.append(index)
            for token in line.tokens:
                keyword = _track(state, token, keyword)
                if not state.inside_train and section:
                    width = max(len(str(self.lines[i].tokens[0])) for i in section)
                    widths.update(dict.fromkeys(section, width))
                    section = []
        return widths

    def render(self) -> list[str]:
        out: list[str] = []
        previous_code: _Line | None = None
        last_opens = False  # the last line written ends with an opening bracket
        after_top_level_close = False
        for index, line in enumerate(self.lines):
            if line.blank:
                if out and out[-1] != "" and not last_opens:
                    out.append("")
                continue
            if after_top_level_close and out and out[-1] != "":
                out.append("")
            after_top_level_close = False  # one blank line after the close, not one per comment line
            if line.tokens and line.tokens[0].type in _CLOSERS and out and out[-1] == "":
                out.pop()
            out.append(self.render_line(index, line, previous_code))
            last_opens = line.tokens[-1].type in _OPENERS if line.tokens else last_opens
            if line.tokens:
                previous_code = line
                after_top_level_close = not self.state.stack and line.tokens[-1].type == "RBRACE"
        while out and out[-1] == "":
            out.pop()
        return out

    def render_line(self, index: int, line: _Line, previous_code: _Line | None) -> str:
        depth = len(self.state.stack)
        first = line.tokens[0] if line.tokens else None
        if first is not None and first.type in _CLOSERS:
            depth -= 1
        indent = depth * INDENT
        if first is not None and first.type == "VBAR":
            indent = max(indent - 2, 0)
        elif first is not None and self._continues(first, previous_code):
            indent += INDENT
        code = " " * indent + self.render_tokens(index, line.tokens)
        if line.comment is None:
            return code.rstrip() if line.tokens else ""
        if not line.tokens:
            return " " * indent + line.comment
        column = max(line.comment_column, len(code) + COMMENT_GAP)
        return code + " " * (column - len(code)) + line.comment

    def _continues(self, first: Token, previous_code: _Line | None) -> bool:
        """The line goes on with the previous one's chain or expression (not inside parentheses)."""
        if self.state.in_parens or previous_code is None:
            return False
        last = previous_code.tokens[-1]
        return (
            first.type in _CONTINUES_BEFORE and not _is_sign(first, self.state.previous)
        ) or last.type in _CONTINUES_AFTER

    def render_tokens(self, index: int, tokens: list[Token]) -> str:
        parts: list[str] = []
        left: Token | None = None
        left_is_sign = False
        for token in tokens:
            is_sign = _is_sign(token, self.state.previous)
            if left is not None:
                parts.append(_space(left, token, left_is_sign, self.state.in_parens))
            if token.type == "EQUAL" and index in self.train_key_width and not self.state.in_parens:
                parts.append(" " * (self.train_key_width[index] - len(str(left))))
            parts.append(str(token))
            self.statement_keyword = _track(self.state, token, self.statement_keyword)
            left, left_is_sign = token, is_sign
        return "".join(parts)


def _track(state: _State, token: Token, keyword: str | None) -> str | None:
    """Advance the bracket stack over one token; returns the statement keyword in effect."""
    if token.type in ("NETWORK", "BLOCK", "TRAIN") and not state.stack:
        keyword = token.type
    if token.type in _OPENERS:
        state.stack.append((token.type, token.type == "LBRACE" and keyword == "TRAIN" and not state.stack))
    elif token.type in _CLOSERS and state.stack:
        state.stack.pop()
        if not state.stack:
            keyword = None
    state.previous = token
    return keyword


def _significant(source: str) -> list[tuple[str, str]]:
    """What the parser sees: tokens after the newline filter; line breaks compared by kind only."""
    from netdsl.frontend.parser import _parser

    return [(t.type, "" if t.type == "_NL" else str(t)) for t in _parser().lex(source)]


def _comments(source: str) -> list[str]:
    return [str(t).rstrip() for t in raw_tokens(source) if t.type == "COMMENT"]


def format_source(source: str, file: str = "<string>") -> str:
    """The canonical layout of a program; a syntax error raises CompileError, as the compiler does."""
    from netdsl.frontend.parser import parse, syntax_error

    parse(source, file)  # only a program that parses is formatted
    try:
        lines = _break_open_groups(_split_lines(source.replace("\r\n", "\n")))
    except UnexpectedInput as err:  # pragma: no cover - parse() above has lexed the same text
        raise syntax_error(err, file, source) from None
    formatted = "\n".join(_Layout(lines).render()) + "\n"
    if formatted.strip() == "":
        return ""
    _verify(source, formatted, file)
    return formatted


def _verify(source: str, formatted: str, file: str) -> None:
    if _significant(source) != _significant(formatted) or _comments(source) != _comments(formatted):
        raise FormatError(
            f"{file}: the formatter would change the program's meaning; left as it is (please report this)"
        )


__all__ = ["CompileError", "FormatError", "format_source", "raw_tokens"]
