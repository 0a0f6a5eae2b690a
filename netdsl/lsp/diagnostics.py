"""The compiler's diagnostics as LSP diagnostics, and their did-you-mean fixes as code actions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types

from netdsl.diagnostics import Diagnostic, Span
from netdsl.lsp.analysis import Analysis

SOURCE = "netdsl"
_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
_SUGGESTION = re.compile(r"did you mean '([^']+)'\?")
_QUOTED = re.compile(r"'([^']+)'")


@dataclass(frozen=True)
class Fix:
    """Replace `range` with `text`: the compiler's did-you-mean suggestion."""

    range: types.Range
    text: str
    diagnostic: types.Diagnostic


def _message(diagnostic: Diagnostic) -> str:
    return diagnostic.message + (f"\nhint: {diagnostic.hint}" if diagnostic.hint else "")


def _related(diagnostic: Diagnostic, analysis: Analysis, uri: str) -> list[types.DiagnosticRelatedInformation]:
    return [
        types.DiagnosticRelatedInformation(types.Location(uri, analysis.positions.range(span)), note)
        for note, span in diagnostic.notes
        if span is not None and span.file == analysis.file
    ]


def _misspelled_span(diagnostic: Diagnostic, analysis: Analysis) -> Span | None:
    """Where, inside the diagnostic's span, the name the suggestion replaces is written."""
    span = diagnostic.span
    quoted = _QUOTED.search(diagnostic.message)
    if span is None or quoted is None or span.line < 1 or span.line > len(analysis.positions.lines):
        return None
    line = analysis.positions.lines[span.line - 1]
    end = span.end_column - 1 if span.end_line == span.line else len(line)
    found = re.search(
        rf"(?<![A-Za-z0-9_]){re.escape(quoted.group(1))}(?![A-Za-z0-9_])", line[span.column - 1 : end], re.IGNORECASE
    )
    if found is None:
        return None
    start = span.column + found.start()
    return Span(span.file, span.line, start, span.line, start + len(found.group(0)))


def convert(analysis: Analysis, uri: str) -> tuple[list[types.Diagnostic], list[Fix]]:
    """Every diagnostic of the compilation for this file, and the quick fixes they suggest."""
    diagnostics: list[types.Diagnostic] = []
    fixes: list[Fix] = []
    for diagnostic in analysis.compilation.all_diagnostics:
        span = diagnostic.span
        if span is not None and span.file != analysis.file:
            continue
        where = analysis.positions.range(span) if span else types.Range(types.Position(0, 0), types.Position(0, 0))
        converted = types.Diagnostic(
            where,
            _message(diagnostic),
            severity=_SEVERITY.get(diagnostic.severity, types.DiagnosticSeverity.Information),
            source=SOURCE,
            related_information=_related(diagnostic, analysis, uri) or None,
        )
        diagnostics.append(converted)
        suggestion = _SUGGESTION.search(diagnostic.hint or "")
        target = _misspelled_span(diagnostic, analysis) if suggestion else None
        if target is not None:
            fixes.append(Fix(analysis.positions.range(target), suggestion.group(1), converted))
    return diagnostics, fixes


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def code_actions(fixes: list[Fix], uri: str, wanted: types.Range) -> list[types.CodeAction]:
    """The quick fixes whose diagnostics touch the requested range."""
    actions = []
    for fix in fixes:
        if not _overlaps(fix.diagnostic.range, wanted):
            continue
        edit = types.WorkspaceEdit(changes={uri: [types.TextEdit(fix.range, fix.text)]})
        actions.append(
            types.CodeAction(
                f"Change to '{fix.text}'",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[fix.diagnostic],
                edit=edit,
                is_preferred=True,
            )
        )
    return actions
