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


def wrap(line: str, width: int = LINE_LENGTH) -> list[str]:
    """A long line that ends in a call, laid out as ruff formats it: the arguments on one line of their own
    when they fit there, else one a line with a trailing comma (a long argument opened up the same way)."""
    return _split(line, "", width)


def _split(line: str, suffix: str, width: int) -> list[str]:
    """`line + suffix`, split at its outermost closing call or list when it is too long."""
    if len(line) + len(suffix) <= width:
        return [line + suffix]
    bracket = _outer_bracket(line)
    if bracket is None:
        return [line + suffix]
    open_at, close_at = bracket
    indent = line[: len(line) - len(line.lstrip())]
    head, args = line[: open_at + 1], _split_top_level(line[open_at + 1 : close_at])
    inner = indent + "    "
    together = inner + ", ".join(args)
    if len(together) <= width:
        return [head, together, indent + line[close_at:] + suffix]
    lines = [head]
    for arg in args:
        lines += _split(inner + arg, ",", width)
    return lines + [indent + line[close_at:] + suffix]


def _outer_bracket(line: str) -> tuple[int, int] | None:
    """Positions of the brackets of the call or list the line ends with."""
    if not line.endswith((")", "]")):
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
                return (i, len(line) - 1) if ch + line[-1] in ("()", "[]") else None
    return None
