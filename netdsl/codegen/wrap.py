"""Wrapping a generated statement to the project's line length."""

from __future__ import annotations

LINE_LENGTH = 120  # the project's ruff line length; generated code keeps to it


def _split_top_level(text: str) -> list[str]:
    """Split at commas that are not nested in brackets or strings."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _outer_call(line: str) -> tuple[int, int] | None:
    """Positions of the outermost call's parentheses when the line ends with that call."""
    if not line.endswith(")"):
        return None
    depth, quote = 0, ""
    for i in range(len(line) - 1, -1, -1):
        ch = line[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in ")]}":
            depth += 1
        elif ch in "([{":
            depth -= 1
            if depth == 0:
                return (i, len(line) - 1) if ch == "(" else None
    return None


def wrap(line: str, width: int = LINE_LENGTH) -> list[str]:
    """A long line that ends in a call, its arguments filled onto lines aligned with the parenthesis
    (or, when that is still too long, one argument per line)."""
    call = _outer_call(line) if len(line) > width else None
    if call is None:
        return [line]
    open_at, close_at = call
    head, args = line[:open_at + 1], _split_top_level(line[open_at + 1:close_at])
    filled = _fill(head, args, " " * len(head), width)
    if all(len(text) <= width for text in filled):
        return filled
    return _hanging(head, args, line[:len(line) - len(line.lstrip())])


def _fill(head: str, args: list[str], indent: str, width: int) -> list[str]:
    lines, current = [], head
    for k, arg in enumerate(args):
        piece = arg + ("," if k + 1 < len(args) else ")")
        fresh = current in (head, indent)
        if not fresh and len(current) + 1 + len(piece) > width:
            lines.append(current)
            current, fresh = indent, True
        current += piece if fresh else " " + piece
    return lines + [current]


def _hanging(head: str, args: list[str], indent: str, close: str = ")") -> list[str]:
    """One argument per line; a bracketed list argument that is still too long is opened up the same way."""
    lines = [head]
    for arg in args:
        inner = indent + "    "
        if len(inner) + len(arg) + 1 > LINE_LENGTH and arg[:1] == "[" and arg.endswith("]"):
            lines += _hanging(inner + "[", _split_top_level(arg[1:-1]), inner, "],")
        else:
            lines.append(f"{inner}{arg},")
    return lines + [f"{indent}{close}"]
