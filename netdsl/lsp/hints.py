"""Inlay hints: the output shape at the end of each line that ends a layer, as editors show types.

A line of a block's body shows the shape of every distinct use of the block (up to MAX_SHAPES)."""

from __future__ import annotations

from lsprotocol import types

from netdsl.diagnostics import Span
from netdsl.ir.graph import Node
from netdsl.lsp.analysis import Analysis
from netdsl.ops.base import fmt_shape

MAX_SHAPES = 4


def line_outputs(analysis: Analysis) -> dict[int, list[tuple[Node, Span]]]:
    """For each 1-based line: the last node whose layer ends there, once per network and block use."""
    last: dict[tuple, tuple[Node, Span]] = {}
    for placed in analysis.shaped:
        levels = (*placed.calls, placed.node.span)
        for depth, span in enumerate(levels):
            if span.file != analysis.file:
                continue
            use = ".".join(placed.node.name.split(".")[:depth])  # the block use this level is inside
            last[(span.end_line, placed.network.name, use)] = (placed.node, span)
    lines: dict[int, list[tuple[Node, Span]]] = {}
    for (line, _, _), found in last.items():
        lines.setdefault(line, []).append(found)
    return lines


def code_end(text: str) -> int:
    """The length of a line without its comment and trailing blanks."""
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return len(text[:index].rstrip())
    return len(text.rstrip())


def _label(nodes: list[Node]) -> str:
    shapes = list(dict.fromkeys(fmt_shape(n.shape) for n in nodes if n.shape is not None))
    more = " | …" if len(shapes) > MAX_SHAPES else ""
    return "→ " + " | ".join(shapes[:MAX_SHAPES]) + more


def inlay_hints(analysis: Analysis, wanted: types.Range) -> list[types.InlayHint]:
    hints = []
    for line, found in sorted(line_outputs(analysis).items()):
        if not wanted.start.line <= line - 1 <= wanted.end.line:
            continue
        end = max(max(span.end_column for _, span in found), code_end(analysis.positions.lines[line - 1]) + 1)
        tooltip = "output shape (C x H x W, batch excluded)"
        hints.append(
            types.InlayHint(
                analysis.positions.position(line, end),
                _label([n for n, _ in found]),
                kind=types.InlayHintKind.Type,
                padding_left=True,
                tooltip=tooltip,
            )
        )
    return hints
