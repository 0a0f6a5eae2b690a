"""One document's analysis: compiled once per edit, indexed lazily for the features that ask."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator

from netdsl.compiler import CheckedNetwork, Compilation, compile_source
from netdsl.diagnostics import CompileError, Diagnostic, Span
from netdsl.frontend import ast
from netdsl.frontend.limits import MAX_SOURCE_BYTES
from netdsl.ir.graph import Node
from netdsl.lsp.positions import Positions, contains, span_size

# The largest document analyzed, in characters: the CLI's cap on a .net file. A bigger one would take
# seconds per keystroke; it gets one diagnostic instead.
MAX_CHARS = MAX_SOURCE_BYTES


@dataclass(frozen=True)
class Occurrence:
    """A named thing in the source: where the cursor may be on it, and what it is."""

    kind: str  # layer | branches | block_use | block | param | param_use | label | network | train | setting
    name: str
    span: Span  # the whole construct (a layer with its arguments)
    name_span: Span  # just its name
    node: Any  # the AST node
    owner: ast.Block | None = None  # the block whose body holds it


@dataclass(frozen=True)
class Placed:
    """A node of a checked network, with the block uses (outermost first) that made it."""

    network: CheckedNetwork
    node: Node
    calls: tuple[Span, ...]  # the spans of the block uses it came from


def _name_span(start: Span, name: str) -> Span:
    return Span(start.file, start.line, start.column, start.line, start.column + len(name))


def parse_program(text: str, file: str) -> ast.Program | None:
    """The AST, or None when the text does not parse."""
    from netdsl.frontend.parser import parse
    from netdsl.frontend.to_ast import to_ast

    try:
        return to_ast(parse(text, file), file, text)
    except CompileError:
        return None


class Analysis:
    """The compilation of one version of a document, and indexes over it."""

    def __init__(self, text: str, file: str, encoding: str = "utf-16"):
        self.text = text
        self.file = file
        self.positions = Positions(text, encoding)
        self.compilation: Compilation = (
            compile_source(text, file)
            if not self.too_large
            else Compilation(
                file,
                text,
                [],
                [
                    Diagnostic(
                        "error",
                        f"the file has {len(text):,} characters; netdsl reads at most {MAX_CHARS:,}",
                        Span(file, 1, 1, 1, 2),
                        "split it into smaller programs",
                    )
                ],
            )
        )

    @property
    def too_large(self) -> bool:
        return len(self.text) > MAX_CHARS

    # ---- the AST (parsed again on first use: the diagnostics after an edit do not wait for it) ----

    @cached_property
    def program(self) -> ast.Program | None:
        return None if self.too_large else parse_program(self.text, self.file)

    @cached_property
    def blocks(self) -> dict[str, ast.Block]:
        return {b.name: b for b in self.program.blocks} if self.program else {}

    @cached_property
    def occurrences(self) -> list[Occurrence]:
        if self.program is None:
            return []
        found: list[Occurrence] = []
        for network in self.program.networks:
            found.append(Occurrence("network", network.name, network.span, network.name_span, network))
            self._walk_seq(network.body, None, found)
        for block in self.program.blocks:
            found.append(Occurrence("block", block.name, block.span, block.name_span, block))
            for param in block.params:
                found.append(
                    Occurrence("param", param.name, param.span, _name_span(param.span, param.name), param, block)
                )
                if param.default is not None:
                    self._walk_expr(param.default, block, found)
            self._walk_seq(block.body, block, found)
        for section in self.program.trains:
            found.append(
                Occurrence(
                    "train", section.network or "train", section.span, _name_span(section.span, "train"), section
                )
            )
            for setting in section.settings:
                found.append(Occurrence("setting", setting.key, setting.span, setting.key_span, setting))
        return found

    def _walk_seq(self, seq: ast.Seq, owner: ast.Block | None, out: list[Occurrence]) -> None:
        for item in seq.items:
            self._walk_element(item, owner, out)

    def _walk_element(self, item: ast.Element, owner: ast.Block | None, out: list[Occurrence]) -> None:
        if isinstance(item, ast.Seq):
            self._walk_seq(item, owner, out)
        elif isinstance(item, ast.Repeat):
            self._walk_element(item.body, owner, out)
            self._walk_expr(item.count, owner, out)
        elif isinstance(item, ast.Branches):
            self._label(item, owner, out)
            out.append(Occurrence("branches", item.op, item.span, item.op_span, item, owner))
            for branch in item.branches:
                self._walk_seq(branch, owner, out)
        else:
            self._label(item, owner, out)
            kind = "block_use" if item.op in self.blocks else "layer"
            out.append(Occurrence(kind, item.op, item.span, item.op_span, item, owner))
            for expr in (*item.args, *(kw.value for kw in item.kwargs)):
                self._walk_expr(expr, owner, out)

    def _label(self, item: ast.Layer | ast.Branches, owner: ast.Block | None, out: list[Occurrence]) -> None:
        if item.label:
            out.append(
                Occurrence(
                    "label",
                    item.label,
                    _name_span(item.span, item.label),
                    _name_span(item.span, item.label),
                    item,
                    owner,
                )
            )

    def _walk_expr(self, expr: ast.Expr, owner: ast.Block | None, out: list[Occurrence]) -> None:
        if owner is None:
            return
        if isinstance(expr, ast.Name):
            if any(p.name == expr.id for p in owner.params):
                out.append(Occurrence("param_use", expr.id, expr.span, expr.span, expr, owner))
        elif isinstance(expr, ast.BinOp):
            self._walk_expr(expr.left, owner, out)
            self._walk_expr(expr.right, owner, out)
        elif isinstance(expr, ast.Neg):
            self._walk_expr(expr.operand, owner, out)
        elif isinstance(expr, ast.TupleExpr):
            for item in expr.items:
                self._walk_expr(item, owner, out)

    def at(self, line: int, column: int, names_only: bool = False) -> list[Occurrence]:
        """The occurrences under a 1-based position, innermost first."""
        hits = [o for o in self.occurrences if contains(o.name_span if names_only else o.span, line, column)]
        return sorted(hits, key=lambda o: span_size(o.name_span if names_only else o.span))

    # ---- the checked graphs ----

    @cached_property
    def placed(self) -> list[Placed]:
        return [
            Placed(network, node, tuple(span for _, span in node.context))
            for network in self.compilation.networks
            if network.graph is not None
            for node in network.graph
        ]

    @cached_property
    def shaped(self) -> list[Placed]:
        """Every node that has a shape: those of the checked networks, and of a network with errors the
        nodes shaped before its first error (an editor keeps the shapes up to the line being fixed)."""
        found = []
        for network in self.compilation.networks:
            graph = network.graph if network.graph is not None else network.partial
            first_error = min(
                (d.span.line for d in network.diagnostics if d.severity == "error" and d.span is not None), default=None
            )
            for node in graph or ():
                calls = tuple(span for _, span in node.context)
                written = calls[0] if calls else node.span  # where the network's body writes it
                if node.shape is not None and (
                    network.graph is not None
                    or (first_error is not None and written is not None and written.end_line < first_error)
                ):
                    found.append(Placed(network, node, calls))
        return found

    @cached_property
    def by_span(self) -> dict[Span, list[Placed]]:
        """The nodes each layer (or add/concat) of the source made, in graph order."""
        index: dict[Span, list[Placed]] = {}
        for placed in self.placed:
            index.setdefault(placed.node.span, []).append(placed)
        return index

    @cached_property
    def by_call(self) -> dict[Span, list[Placed]]:
        """The nodes each block use made, in graph order."""
        index: dict[Span, list[Placed]] = {}
        for placed in self.placed:
            for span in dict.fromkeys(placed.calls):
                index.setdefault(span, []).append(placed)
        return index

    def networks(self) -> Iterator[CheckedNetwork]:
        return iter(self.compilation.networks)
