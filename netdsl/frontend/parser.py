"""Source text -> lark parse tree, with friendly syntax errors."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Iterator

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from netdsl.diagnostics import CompileError, Span
from netdsl.frontend.limits import MAX_NESTING, NESTING_RULES

# A line break is dropped after these tokens (the chain or list goes on) ...
_JOIN_AFTER = {"MINUS", "_ARROW", "LBRACE", "LSQB", "VBAR", "COMMA", "EQUAL", "COLON", "STAR", "_NL"}
# ... and before these (the next line continues the previous one, or closes a bracket).
_JOIN_BEFORE = {"MINUS", "_ARROW", "RBRACE", "RSQB", "VBAR", "STAR"}


class NewlinePostLex:
    """Keeps only the line breaks that separate two layers or two statements."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        previous: Token | None = None
        pending: Token | None = None
        for token in stream:
            if token.type == "_NL":
                if depth == 0 and previous is not None and previous.type not in _JOIN_AFTER:
                    pending = pending or token
                continue
            if pending is not None and token.type not in _JOIN_BEFORE:
                yield pending
            pending = None
            if token.type == "LPAR":
                depth += 1
            elif token.type == "RPAR":
                depth = max(depth - 1, 0)
            previous = token
            yield token


def _grammar_text() -> str:
    try:
        from importlib.resources import files

        return files("netdsl.grammars").joinpath("netdsl.lark").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # running from a source checkout
        return (Path(__file__).resolve().parents[2] / "grammars" / "netdsl.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        _grammar_text(),
        parser="lalr",
        lexer="basic",
        postlex=NewlinePostLex(),
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,
    )


# Friendly names for the grammar's terminals, as a user would call them.
_TERMINAL_NAMES = {
    "NAME": "a name", "INT": "an integer", "FLOAT": "a number", "SIZE": "a size like 5x5",
    "STRING": 'a "string"', "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'",
    "LBRACE": "'{'", "RBRACE": "'}'", "COMMA": "','", "EQUAL": "'='", "COLON": "':'",
    "MINUS": "'-'", "_ARROW": "'->'", "VBAR": "'|'", "STAR": "'*'", "PLUS": "'+'",
    "SLASH": "'/'", "PERCENT": "'%'", "_FLOORDIV": "'//'", "_NL": "a line break",
    "$END": "the end of the file", "NETWORK": "'network'", "BLOCK": "'block'", "TRAIN": "'train'",
}

def _token_text(token: Token | None) -> str:
    if token is None or token.type == "$END":
        return "end of file"
    if token.type == "_NL":
        return "line break"
    return repr(str(token))


def _span_of_error(err: UnexpectedInput, file: str, source: str) -> Span:
    line = getattr(err, "line", None)
    column = getattr(err, "column", None)
    token = getattr(err, "token", None)
    if isinstance(err, UnexpectedEOF) or (token is not None and token.type == "$END") or line in (None, -1):
        lines = source.rstrip().splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        return Span(file, line, column, line, column + 1)
    width = len(str(token)) if token is not None and token.type not in ("_NL", "$END") else 1
    return Span(file, line, column, line, column + max(width, 1))


def _expected_names(err: UnexpectedInput) -> list[str]:
    expected = getattr(err, "expected", None) or getattr(err, "allowed", None) or set()
    names = {_TERMINAL_NAMES.get(t, t.lower()) for t in expected if not t.startswith("__")}
    return sorted(names)


_OPENERS = {"LPAR": ("RPAR", "')'", "the argument list"), "LSQB": ("RSQB", "']'", "the repeated group"),
            "LBRACE": ("RBRACE", "'}'", "the braces")}
_CLOSERS = {"RPAR": "LPAR", "RSQB": "LSQB", "RBRACE": "LBRACE"}
_VALUES = {"NAME", "INT", "FLOAT", "SIZE", "STRING"}


def _tokens_before(source: str, position: int) -> list[Token]:
    """The tokens (line breaks kept) that precede the error, as far as they lex."""
    tokens: list[Token] = []
    try:
        for token in _parser().lex(source, dont_ignore=False):
            if token.start_pos is not None and token.start_pos >= position:
                break
            tokens.append(token)
    except UnexpectedInput:
        pass
    return tokens


def _open_brackets(tokens: list[Token]) -> list[Token]:
    stack: list[Token] = []
    for token in tokens:
        if token.type in _OPENERS:
            stack.append(token)
        elif token.type in _CLOSERS and stack and stack[-1].type == _CLOSERS[token.type]:
            stack.pop()
    return stack


def _classify(tokens: list[Token], found: Token | None) -> str | None:
    """A named reason for an unexpected token, from what came before it."""
    kind = found.type if found is not None else "$END"
    significant = [t for t in tokens if t.type != "_NL"]
    previous = significant[-1].type if significant else None
    before = significant[-2].type if len(significant) > 1 else None
    stack = _open_brackets(significant)
    inner = stack[-1].type if stack else None
    if kind == "$END" and stack:
        closer, name, what = _OPENERS[inner]
        opener = stack[-1]
        return f"missing {name} to close {what} opened at line {opener.line}, column {opener.column}"
    if previous in ("MINUS", "_ARROW") and inner != "LPAR":
        return "a '-' must be followed by a layer"
    if previous == "STAR" and inner != "LPAR":
        return "a repetition count must be an integer, a parameter or a parenthesized expression"
    if kind == "RBRACE" and previous == "LBRACE" and _opens_body(significant):
        return "a network or block needs at least one layer, e.g. input(1, 28, 28)"
    if kind in ("RBRACE", "VBAR") and previous in ("VBAR", "LBRACE"):
        return "an empty branch: write 'identity' for a branch that passes its input through"
    if kind in _CLOSERS and (not stack or inner != _CLOSERS[kind]):
        return f"unbalanced {str(found)!r}: nothing open here for it to close"
    if inner == "LPAR" and kind in ("RPAR", "COMMA") and previous in ("COMMA", "LPAR", "EQUAL"):
        return "an argument value is missing"
    if inner == "LPAR" and (kind in _VALUES or kind == "LPAR") and previous in _VALUES | {"RPAR"}:
        return "arguments must be separated by ','"
    if previous == "NETWORK":
        return "expected a network name after 'network'"
    if before in ("NETWORK", "BLOCK") or (previous == "RPAR" and kind != "LBRACE" and _in_block_header(significant)):
        return "expected '{' to open the body"
    if kind == "LPAR" and previous == "RPAR":
        return "a layer takes one argument list"
    if _in_train(significant) and previous in ("NAME", "LBRACE") and kind != "EQUAL":
        return "a train setting is written 'key = value', one per line"
    return None


def _opens_body(tokens: list[Token]) -> bool:
    """The last '{' opens a network's or block's body (not add/concat branches)."""
    before = [t.type for t in tokens[-4:-1]]
    return before[-2:-1] == ["NETWORK"] or "BLOCK" in before or (before[-1:] == ["RPAR"] and
                                                                   _in_block_header(tokens[:-1]))


def _in_block_header(tokens: list[Token]) -> bool:
    for token in reversed(tokens):
        if token.type in ("LBRACE", "RBRACE"):
            return False
        if token.type == "BLOCK":
            return True
    return False


def _in_train(tokens: list[Token]) -> bool:
    depth = 0
    for token in reversed(tokens):
        if token.type == "RBRACE":
            depth += 1
        elif token.type == "LBRACE":
            if depth == 0:
                index = tokens.index(token)
                head = [t.type for t in tokens[max(index - 2, 0):index]]
                return "TRAIN" in head
            depth -= 1
    return False


def syntax_error(err: UnexpectedInput, file: str, source: str) -> CompileError:
    """Turn a lark exception into one named, friendly diagnostic."""
    span = _span_of_error(err, file, source)
    if isinstance(err, UnexpectedCharacters):
        char = source[err.pos_in_stream] if 0 <= err.pos_in_stream < len(source) else "?"
        hints = {"'": "strings use double quotes", '"': "a string needs its closing double quote on the same line"}
        hint = hints.get(char, "names are letters, digits and '_'")
        return CompileError(f"unexpected character {char!r}", span, hint)
    token = getattr(err, "token", None)
    position = token.start_pos if token is not None and token.type != "$END" and token.start_pos is not None \
        else len(source)
    label = _classify(_tokens_before(source, position), token)
    found = _token_text(token)
    expected = _expected_names(err)
    hint = ("expected " + ", ".join(expected[:8]) + (" or ..." if len(expected) > 8 else "")) if expected else None
    if label:
        return CompileError(f"syntax error: {label} (found {found})", span, hint if len(expected) <= 3 else None)
    return CompileError(f"syntax error: unexpected {found}", span, hint)


def parse(source: str, file: str = "<string>") -> Tree:
    """Parse a program; a syntax error or nesting beyond MAX_NESTING raises CompileError with a span."""
    try:
        tree = _parser().parse(source)
    except UnexpectedInput as err:
        raise syntax_error(err, file, source) from None
    check_nesting(tree, file)
    return tree


def check_nesting(tree: Tree, file: str) -> None:
    """Refuse constructs nested deeper than MAX_NESTING, so that no later stage recurses without bound."""
    stack: list[tuple[Tree, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in NESTING_RULES:
            depth += 1
            if depth > MAX_NESTING:
                meta = node.meta
                span = Span(file, meta.line, meta.column, meta.end_line, meta.end_column)
                raise CompileError(f"nested more than {MAX_NESTING} levels deep here", span,
                                   "groups, branches, repetitions, operators and tuples nest at most "
                                   f"{MAX_NESTING} deep: name the inner parts with blocks or simplify the expression")
        stack.extend((child, depth) for child in node.children if isinstance(child, Tree))
