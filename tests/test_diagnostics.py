"""Issue 11 S6: diagnostics show control characters from the source visibly, never send them to the terminal."""

from __future__ import annotations

import pytest
from helpers import compile_text

from netdsl.diagnostics import Diagnostic, Span, render, visible

ESC = "\x1b"


def test_escape_sequence_in_a_string_argument_is_shown_not_sent() -> None:
    text = f'input(8) - fc(10, activation="{ESC}[2J{ESC}]0;pwned\x07")\n'
    compilation = compile_text(text)
    assert not compilation.ok
    rendered = "\n".join(render(d, compilation.sources) for d in compilation.all_diagnostics)
    assert ESC not in rendered and "\x07" not in rendered
    assert "\\x1b[2J" in rendered and "\\x07" in rendered


def test_caret_stays_under_the_span_after_escapes() -> None:
    source = f"# {ESC}[31m\u202e\nab{ESC}cd - fc(\n"
    span = Span("f.net", 2, 4, 2, 6)  # "cd"
    lines = render(Diagnostic("error", "here", span), {"f.net": source}).splitlines()
    assert lines[1] == "    ab\\x1bcd - fc("
    assert lines[2] == "    " + " " * len("ab\\x1b") + "^~"


def test_message_hint_notes_and_file_name_are_escaped() -> None:
    span = Span(f"evil{ESC}.net", 1, 1, 1, 2)
    diagnostic = Diagnostic("error", f"bad {ESC}[1m", span, hint="try \u202eevil", notes=((f"n{ESC}", span),))
    rendered = render(diagnostic, {})
    assert ESC not in rendered and "\u202e" not in rendered
    assert "evil\\x1b.net:1:1: error: bad \\x1b[1m" in rendered and "\\u202e" in rendered


def test_lines_are_counted_as_the_parser_counts_them() -> None:
    """A form feed or \\x1c ends a line for str.splitlines but not for the parser: the excerpt must agree."""
    source = "input(8) \x0c- relu\ninput(8)\n"
    span = Span("f.net", 2, 1, 2, 9)
    assert render(Diagnostic("error", "x", span), {"f.net": source}).splitlines()[1] == "    input(8)"


def test_visible_keeps_what_is_asked() -> None:
    assert visible("a\nb\tc") == "a\\x0ab\\x09c"
    assert visible("a\nb", keep="\n") == "a\nb"
    assert visible("plain ascii, é, 中文") == "plain ascii, é, 中文"


def test_line_and_paragraph_separators_are_escaped_in_diagnostics() -> None:
    """Issue 21 L4: U+2028 and U+2029 passed raw (a terminal or editor may break the line there)."""
    span = Span("a\u2028netdsl: error: forged.net", 1, 1, 1, 2)
    rendered = render(Diagnostic("error", "bad\u2029name", span), {})
    assert "\u2028" not in rendered and "\u2029" not in rendered
    assert "a\\u2028netdsl: error: forged.net:1:1: error: bad\\u2029name" in rendered


@pytest.mark.parametrize("breaker", ["\n", "\u2028", "\u2029", "\r"])
def test_a_file_name_cannot_forge_a_second_error_line(tmp_path, breaker: str) -> None:
    """Issue 21 L4: a newline in a file name printed a second `netdsl: error:` line in one-line errors."""
    import subprocess
    import sys

    name = f"x{breaker}netdsl: error: all is fine.net"
    run = subprocess.run(
        [sys.executable, "-m", "netdsl", "check", str(tmp_path / name)], capture_output=True, text=True
    )
    assert run.returncode in (1, 2)
    assert run.stderr.count("netdsl: error:") == 2 and len(run.stderr.splitlines()) == 1, run.stderr
