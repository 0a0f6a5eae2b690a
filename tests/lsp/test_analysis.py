"""One analysis per edit: what it finds in the source, and what it does not import."""

from __future__ import annotations

import subprocess
import sys

from helpers import EXAMPLES

from netdsl.lsp.analysis import Analysis


def test_occurrences_of_blocks_parameters_labels_and_settings() -> None:
    text = (EXAMPLES / "resnet50.net").read_text()
    analysis = Analysis(text, "resnet50.net")
    kinds = {(o.kind, o.name) for o in analysis.occurrences}
    assert {
        ("block", "branch"),
        ("block_use", "branch"),
        ("param", "stride"),
        ("param_use", "c"),
        ("layer", "conv"),
        ("branches", "add"),
        ("network", "resnet50"),
    } <= kinds
    line = text.split("\n").index("    bottleneck_down(128) - bottleneck(128) * 3") + 1
    [use, *_] = analysis.at(line, 10)
    assert use.kind == "block_use" and use.name == "bottleneck_down"
    assert len(analysis.by_call[use.span]) == 12  # the layers of one bottleneck_down


def test_a_broken_text_has_diagnostics_and_no_ast() -> None:
    analysis = Analysis("network n {\n    input(1, 8, 8\n", "draft.net")
    assert analysis.program is None and analysis.occurrences == [] and analysis.placed == []
    assert analysis.compilation.all_diagnostics[0].message.startswith("syntax error")


def test_the_analysis_imports_nothing_heavy() -> None:
    probe = (
        "import sys\nfrom netdsl.lsp import server\nfrom netdsl.lsp.analysis import Analysis\n"
        "from netdsl.lsp import hints, hover, navigation, completion, diagnostics\n"
        "from lsprotocol import types\n"
        "a = Analysis(open(sys.argv[1]).read(), 'r.net')\n"
        "whole = types.Range(types.Position(0, 0), types.Position(99, 0))\n"
        "hints.inlay_hints(a, whole); hover.hover(a, types.Position(22, 6)); navigation.document_symbols(a)\n"
        "completion.completions(a.text, 100); diagnostics.convert(a, 'file:///r.net')\n"
        "print(' '.join(m for m in ('numpy', 'onnx', 'onnxruntime', 'jinja2', 'PIL', 'rich') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(EXAMPLES / "resnet50.net")], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_a_document_over_the_cap_gets_one_diagnostic_and_no_work() -> None:
    from netdsl.lsp.analysis import MAX_CHARS

    analysis = Analysis("input(1, 8, 8) - " + "relu - " * (MAX_CHARS // 7) + "relu\n", "huge.net")
    [error] = analysis.compilation.all_diagnostics
    assert error.message.startswith("the file has ") and f"at most {MAX_CHARS:,}" in error.message
    assert analysis.program is None and analysis.placed == []


def test_inlay_shapes_stay_up_to_the_first_error() -> None:
    from lsprotocol import types

    from netdsl.lsp import hints

    text = (EXAMPLES / "lenet5.net").read_text()
    whole = types.Range(types.Position(0, 0), types.Position(99, 0))
    good = {h.position.line: h.label for h in hints.inlay_hints(Analysis(text, "l.net"), whole)}
    broken = text.replace("conv(16, 5)", "conv(16, 5, strid=2)")
    error_line = broken.splitlines().index("    c3: conv(16, 5, strid=2) - relu")
    kept = {h.position.line: h.label for h in hints.inlay_hints(Analysis(broken, "l.net"), whole)}
    assert kept == {line: label for line, label in good.items() if line < error_line} and len(kept) == 3
