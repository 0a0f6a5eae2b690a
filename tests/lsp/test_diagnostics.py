"""The compiler's diagnostics as LSP diagnostics: related locations, and quick fixes that replace
only the misspelled name."""

from __future__ import annotations

from lsprotocol import types

from netdsl.lsp.analysis import Analysis
from netdsl.lsp.diagnostics import code_actions, convert

URI = "file:///p.net"
BLOCK_ERROR = "block big(c) {\n    conv(c, 9)\n}\n\nnetwork n {\n    input(1, 4, 4)\n    big(8)\n}\n"


def test_an_error_inside_a_block_points_at_the_use() -> None:
    [error], fixes = convert(Analysis(BLOCK_ERROR, "/p.net"), URI)
    assert error.range.start == types.Position(1, 4) and fixes == []
    [related] = error.related_information
    assert related.location.uri == URI and related.location.range.start == types.Position(6, 4)
    assert "in block 'big' used here" in related.message


def test_fixes_replace_the_misspelled_name_only() -> None:
    text = "network n {\n    input(1, 8, 8)\n    conv(8, 3, strde=2) - rleu\n}\n\ntrain {\n    epoch = 3\n}\n"
    analysis = Analysis(text, "/p.net")
    diagnostics, fixes = convert(analysis, URI)
    replaced = {(f.range.start.line, f.range.start.character, f.range.end.character, f.text) for f in fixes}
    assert (2, 15, 20, "stride") in replaced  # not the whole `strde=2`
    assert (6, 4, 9, "epochs") in replaced
    everything = types.Range(types.Position(0, 0), types.Position(9, 0))
    titles = {a.title for a in code_actions(fixes, URI, everything)}
    assert {"Change to 'stride'", "Change to 'epochs'"} <= titles
    assert code_actions(fixes, URI, types.Range(types.Position(0, 0), types.Position(0, 3))) == []
