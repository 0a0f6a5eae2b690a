"""The editor support files: the TextMate grammar (checked token by token against the compiler's own
lexer and AST on every example), the VS Code extension's manifest, and docs/editors.md."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from helpers import EXAMPLES, ROOT

from netdsl.frontend.fmt import raw_tokens
from netdsl.lsp import textmate
from netdsl.lsp.analysis import Analysis
from netdsl.lsp.catalog import find_op

VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = VSCODE / "syntaxes" / "netdsl.tmLanguage.json"
# what the examples do not write: sizes and strings
EXTRA = (
    "network s {\n    input(1x8x8)\n    conv(4, 3x3) - relu\n    fc(2)\n}\n\n"
    'train s {\n    data = "runs/data#1.npz"  # a path\n}\n'
)
PROGRAMS = {p.name: p.read_text() for p in sorted(EXAMPLES.glob("*.net"))} | {"extra.net": EXTRA}

_TOKEN_SCOPES = {
    "COMMENT": "comment.line.number-sign",
    "STRING": "string.quoted.double",
    "SIZE": "constant.numeric.size",
    "INT": "constant.numeric.integer",
    "FLOAT": "constant.numeric.float",
    "NETWORK": "keyword.other",
    "BLOCK": "keyword.other",
    "TRAIN": "keyword.other",
    "MINUS": "keyword.operator",
    "_ARROW": "keyword.operator",
    "VBAR": "keyword.operator",
    "STAR": "keyword.operator",
}
_NAME_SCOPES = {
    "block": "entity.name.function.block",
    "network": "entity.name.type.network",
    "label": "entity.name.tag.label",
    "setting": "variable.parameter",
}


def _compiled() -> list[tuple[re.Pattern, str | None, dict]]:
    grammar = json.loads(GRAMMAR.read_text())
    return [(re.compile(p["match"]), p.get("name"), p.get("captures", {})) for p in grammar["patterns"]]


def tokenize(line: str, compiled) -> list[str | None]:
    """TextMate's rule for `match` patterns: the earliest match wins, ties go to the first pattern."""
    scopes: list[str | None] = [None] * len(line)
    position = 0
    while position <= len(line):
        found = [
            (m.start(), index, m, name, captures)
            for index, (regex, name, captures) in enumerate(compiled)
            if (m := regex.search(line, position))
        ]
        if not found:
            break
        _, _, match, name, captures = min(found, key=lambda f: (f[0], f[1]))
        if name:
            scopes[match.start() : match.end()] = [name] * (match.end() - match.start())
        for group, capture in captures.items():
            if match.group(int(group)) is not None:
                start, end = match.span(int(group))
                scopes[start:end] = [capture["name"]] * (end - start)
        position = max(match.end(), match.start() + 1)
    return scopes


def _expected(text: str) -> list[tuple[int, int, int, str, str]]:
    """(line, start, end, scope, what) for every token the grammar must colour, from the compiler."""
    expected = [
        (t.line, t.column - 1, t.end_column - 1, _TOKEN_SCOPES[t.type], t.type)
        for t in raw_tokens(text)
        if t.type in _TOKEN_SCOPES
    ]
    analysis = Analysis(text, "program.net")
    lines = text.split("\n")
    for occurrence in analysis.occurrences:
        span = occurrence.name_span
        written = lines[span.line - 1][span.column - 1 : span.column - 1 + len(occurrence.name)] == occurrence.name
        if occurrence.kind in ("layer", "branches") and find_op(occurrence.name):
            expected.append((span.line, span.column - 1, span.end_column - 1, "support.function.op", "op"))
        elif occurrence.kind in _NAME_SCOPES and written:  # (a file's implicit network has no written name)
            expected.append(
                (
                    span.line,
                    span.column - 1,
                    span.column - 1 + len(occurrence.name),
                    _NAME_SCOPES[occurrence.kind],
                    occurrence.kind,
                )
            )
        if occurrence.kind in ("layer", "block_use"):
            for kwarg in occurrence.node.kwargs:
                start = kwarg.span.column - 1
                expected.append((kwarg.span.line, start, start + len(kwarg.name), "variable.parameter", "argument"))
    return expected


def test_the_grammar_file_is_generated_from_the_op_declarations() -> None:
    assert GRAMMAR.read_text() == textmate.grammar_text(), (
        "run: python -m netdsl.lsp.textmate editors/vscode/syntaxes/netdsl.tmLanguage.json"
    )
    grammar = json.loads(GRAMMAR.read_text())
    assert grammar["scopeName"] == "source.netdsl"
    assert all("begin" not in p and "include" not in p for p in grammar["patterns"])


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_every_token_gets_its_colour(name: str) -> None:
    text = PROGRAMS[name]
    compiled = _compiled()
    lines = [tokenize(line, compiled) for line in text.split("\n")]
    for line, start, end, scope, what in _expected(text):
        got = set(lines[line - 1][start:end])
        assert len(got) == 1 and next(iter(got)).startswith(scope), (
            name,
            line,
            text.split("\n")[line - 1][start:end],
            what,
            got,
        )
    for occurrence in Analysis(text, "program.net").occurrences:  # a block use is not an op
        if occurrence.kind == "block_use":
            span = occurrence.name_span
            assert "support.function.op.netdsl" not in lines[span.line - 1][span.column - 1 : span.end_column - 1]


def test_the_examples_exercise_every_token_class() -> None:
    hits = Counter(what for text in PROGRAMS.values() for *_, what in _expected(text))
    assert {
        "COMMENT",
        "STRING",
        "SIZE",
        "INT",
        "FLOAT",
        "NETWORK",
        "BLOCK",
        "TRAIN",
        "MINUS",
        "VBAR",
        "STAR",
        "op",
        "block",
        "network",
        "label",
        "setting",
        "argument",
    } <= set(hits), hits


def test_the_vscode_extension_starts_netdsl_lsp() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text())
    [language] = manifest["contributes"]["languages"]
    assert language["id"] == "netdsl" and ".net" in language["extensions"]
    assert (VSCODE / language["configuration"]).is_file()
    [grammar] = manifest["contributes"]["grammars"]
    assert grammar["scopeName"] == "source.netdsl" and (VSCODE / grammar["path"]).resolve() == GRAMMAR.resolve()
    assert "onLanguage:netdsl" in manifest["activationEvents"]
    assert "vscode-languageclient" in manifest["dependencies"]
    main = (VSCODE / manifest["main"]).read_text()
    assert '"lsp"' in main and "netdsl.server.path" in main
    assert manifest["contributes"]["configuration"]["properties"]["netdsl.server.path"]["default"] == "netdsl"
    configuration = json.loads((VSCODE / language["configuration"]).read_text())
    assert configuration["comments"]["lineComment"] == "#"


def test_the_editor_notes_cover_neovim_helix_and_emacs() -> None:
    notes = (ROOT / "docs" / "editors.md").read_text()
    for editor in ("Neovim", "Helix", "Emacs", "VS Code"):
        assert f"## {editor}" in notes
    assert notes.count('"netdsl", "lsp"') >= 2 and "netdsl fmt" in notes


def test_the_vscode_extension_packages_unattended_from_the_repository() -> None:
    assert (VSCODE / "LICENSE").read_text().startswith("MIT License")
    ignored = [line for line in (VSCODE / ".vscodeignore").read_text().splitlines() if not line.startswith("#")]
    assert "*.vsix" in ignored and not any(line.startswith("node_modules") for line in ignored)  # the client ships
    readme = (VSCODE / "README.md").read_text()
    assert "pip install netdsl" not in readme and "pip install ." in readme
    manifest = json.loads((VSCODE / "package.json").read_text())
    assert "repository" in manifest or "--allow-missing-repository" in readme


def test_the_editor_notes_carry_the_fixes_found_in_real_editors() -> None:
    notes = (ROOT / "docs" / "editors.md").read_text()
    neovim = notes[notes.index("## Neovim") : notes.index("## Helix")]
    assert 'vim.api.nvim_create_autocmd("FileType"' in neovim and "vim.bo.commentstring" in neovim
    assert "virtual_text = true" in neovim and ":checkhealth vim.lsp" in neovim and ".venv/bin/netdsl" in neovim
    assert "CTRL-]" in neovim and neovim.count("vim.filetype.add({") == 2  # both setups need the filetype
    emacs = notes[notes.index("## Emacs") :]
    assert "elpa-eglot" in emacs and "plain text" in emacs
