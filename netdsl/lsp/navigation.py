"""Go to definition, find references and rename for blocks, block parameters and labels;
the outline of a document (networks, blocks, train sections)."""

from __future__ import annotations

import re

from lsprotocol import types

from netdsl.diagnostics import Span
from netdsl.frontend import ast
from netdsl.lsp.analysis import Analysis, Occurrence

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = {"network", "block", "train"}


class RenameError(Exception):
    """The new name cannot be used; the message says why."""


def _target(analysis: Analysis, position: types.Position) -> Occurrence | None:
    """The block, parameter or label under the cursor."""
    line, column = analysis.positions.location(position)
    for occurrence in analysis.at(line, column, names_only=True):
        if occurrence.kind in ("block", "block_use", "param", "param_use", "label"):
            return occurrence
    return None


def _same_symbol(a: Occurrence, b: Occurrence) -> bool:
    if a.kind in ("block", "block_use"):
        return b.kind in ("block", "block_use") and a.name == b.name
    if a.kind in ("param", "param_use"):
        return b.kind in ("param", "param_use") and a.name == b.name and a.owner is b.owner
    return a.kind == b.kind == "label" and a.name == b.name and a.owner is b.owner


def _declaration(occurrence: Occurrence) -> bool:
    return occurrence.kind in ("block", "param", "label")


def occurrences_of(analysis: Analysis, position: types.Position) -> list[Occurrence]:
    """Every occurrence of the symbol under the cursor, its declaration first."""
    target = _target(analysis, position)
    if target is None:
        return []
    found = [o for o in analysis.occurrences if _same_symbol(target, o)]
    return sorted(found, key=lambda o: (not _declaration(o), o.name_span.line, o.name_span.column))


def definition(analysis: Analysis, position: types.Position, uri: str) -> list[types.Location]:
    found = [o for o in occurrences_of(analysis, position) if _declaration(o)]
    return [types.Location(uri, analysis.positions.range(o.name_span)) for o in found[:1]]


def references(analysis: Analysis, position: types.Position, uri: str, declaration: bool) -> list[types.Location]:
    return [
        types.Location(uri, analysis.positions.range(o.name_span))
        for o in occurrences_of(analysis, position)
        if declaration or not _declaration(o)
    ]


def prepare_rename(analysis: Analysis, position: types.Position) -> types.Range | None:
    target = _target(analysis, position)
    return analysis.positions.range(target.name_span) if target else None


def rename(analysis: Analysis, position: types.Position, uri: str, new_name: str) -> types.WorkspaceEdit | None:
    found = occurrences_of(analysis, position)
    if not found:
        return None
    _check_new_name(analysis, found[0], new_name)
    edits = [types.TextEdit(analysis.positions.range(o.name_span), new_name) for o in found]
    return types.WorkspaceEdit(changes={uri: edits})


def _check_new_name(analysis: Analysis, target: Occurrence, new_name: str) -> None:
    if not _IDENTIFIER.match(new_name):
        raise RenameError(f"'{new_name}' is not a name: letters, digits and '_', not starting with a digit")
    if new_name.lower() in _KEYWORDS:
        raise RenameError(f"'{new_name}' is a keyword")
    if new_name == target.name:
        return
    if target.kind in ("block", "block_use"):
        from netdsl.lsp.catalog import find_op

        if find_op(new_name):
            raise RenameError(f"'{new_name}' is the name of an op")
        if new_name in analysis.blocks:
            raise RenameError(f"a block named '{new_name}' exists already")
    if target.kind in ("param", "param_use") and any(p.name == new_name for p in target.owner.params):
        raise RenameError(f"block '{target.owner.name}' has a parameter named '{new_name}' already")
    if target.kind == "label" and any(
        o.kind == "label" and o.name == new_name and o.owner is target.owner for o in analysis.occurrences
    ):
        raise RenameError(f"a layer labelled '{new_name}' exists already")


# ---- the outline ----


def document_symbols(analysis: Analysis) -> list[types.DocumentSymbol]:
    program = analysis.program
    if program is None:
        return []
    symbols = [_network_symbol(analysis, n) for n in program.networks]
    symbols += [_block_symbol(analysis, b) for b in program.blocks]
    symbols += [_train_symbol(analysis, t) for t in program.trains]
    return sorted(symbols, key=lambda s: (s.range.start.line, s.range.start.character))


def _symbol(
    analysis: Analysis,
    name: str,
    kind: types.SymbolKind,
    span: Span,
    name_span: Span,
    detail: str | None = None,
    children: list[types.DocumentSymbol] | None = None,
) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name,
        kind,
        analysis.positions.range(span),
        analysis.positions.range(name_span),
        detail=detail,
        children=children or None,
    )


def _labels(analysis: Analysis, owner: ast.Block | None, within: Span) -> list[types.DocumentSymbol]:
    return [
        _symbol(analysis, o.name, types.SymbolKind.Field, o.node.span, o.name_span, o.node.op)
        for o in analysis.occurrences
        if o.kind == "label"
        and o.owner is owner
        and (o.name_span.line, o.name_span.column) >= (within.line, within.column)
        and (o.name_span.end_line, o.name_span.end_column) <= (within.end_line, within.end_column)
    ]


def _network_symbol(analysis: Analysis, network: ast.Network) -> types.DocumentSymbol:
    checked = next((n for n in analysis.compilation.networks if n.name == network.name), None)
    detail = f"{checked.totals.trainable:,} params" if checked and checked.totals else None
    return _symbol(
        analysis,
        network.name,
        types.SymbolKind.Class,
        network.span,
        network.name_span,
        detail,
        _labels(analysis, None, network.span),
    )


def _block_symbol(analysis: Analysis, block: ast.Block) -> types.DocumentSymbol:
    from netdsl.lsp.hover import block_header

    params = [
        _symbol(
            analysis,
            p.name,
            types.SymbolKind.Variable,
            p.span,
            Span(p.span.file, p.span.line, p.span.column, p.span.line, p.span.column + len(p.name)),
        )
        for p in block.params
    ]
    return _symbol(
        analysis,
        block.name,
        types.SymbolKind.Function,
        block.span,
        block.name_span,
        block_header(block),
        params + _labels(analysis, block, block.span),
    )


def _train_symbol(analysis: Analysis, section: ast.Train) -> types.DocumentSymbol:
    start = section.span
    keyword = Span(start.file, start.line, start.column, start.line, start.column + len("train"))
    settings = [_symbol(analysis, s.key, types.SymbolKind.Property, s.span, s.key_span) for s in section.settings]
    name = f"train {section.network}" if section.network else "train"
    return _symbol(analysis, name, types.SymbolKind.Namespace, section.span, keyword, None, settings)
