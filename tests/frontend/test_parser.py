"""The grammar: every form of LANGUAGE.md parses; syntax errors are named, located and friendly."""

from __future__ import annotations

import pytest
from helpers import graph_of, only_error

from netdsl.diagnostics import render

VALID = {
    "dash": "input(1, 8, 8) - relu - fc(10)",
    "arrow": "input(1, 8, 8) -> relu -> fc(10)",
    "newlines": "input(1, 8, 8)\nrelu\nfc(10)",
    "mixed": "input(1, 8, 8) -\n  relu\n  -> fc(10)",
    "leading dash": "input(1, 8, 8)\n- relu\n- fc(10)",
    "comments": "# a net\ninput(1, 8, 8)  # the input\n\n# blank lines\nrelu - fc(10) # end",
    "case": "INPUT(1, 8, 8) - ReLU - FC(10)",
    "repeat group": "input(1, 8, 8) - [conv(4, 3, pad=same) - relu]*2 - fc(10)",
    "repeat layer": "input(16) - fc(16) * 3",
    "repeat multiline group": "input(1, 8, 8)\n[\n  conv(4, 3)\n  relu\n] * 2\nfc(10)",
    "labels": "input(1, 8, 8) - c1: conv(4, 3) - r: relu - fc(10)",
    "sizes": "input(1x8x8) - conv(4, 3x1) - conv(4, (1, 3)) - fc(10)",
    "floats": "input(4) - dropout(0.5) - leakyrelu(alpha=1e-2) - fc(2)",
    "network block": "network n {\n  input(4)\n  fc(2)\n}",
    "multiline args": "input(1, 8, 8) - conv(4,\n   3,\n   pad=same) - fc(2)",
    "train": 'input(4) - fc(2)\ntrain {\n  epochs = 3\n  optimizer = sgd(lr=0.1, momentum=0.9)\n  data = "a.npz"\n}',
    "branches": "input(4, 8, 8)\nadd {\n  conv(4, 3, pad=1)\n  | identity\n}\nfc(2)",
    "branches one line": "input(4, 8, 8) - concat { relu | tanh } - fc(2)",
}


@pytest.mark.parametrize("text", VALID.values(), ids=VALID.keys())
def test_valid_programs_parse(text: str) -> None:
    assert graph_of(text).output.shape[0] in (2, 10, 16)


def test_separators_mean_the_same() -> None:
    shapes = {tuple(n.shape for n in graph_of(VALID[k])) for k in ("dash", "arrow", "newlines", "mixed")}
    assert len(shapes) == 1


# (program, message fragment, line, column)
SYNTAX_ERRORS = [
    ("input(1, 8, 8) - - relu", "a '-' must be followed by a layer", 1, 18),
    ("input(1, 8, 8) - conv(32 5)", "separated by ','", 1, 26),
    ("input(1, 8, 8)\n  conv(32, 5", "missing ')'", 2, 13),
    ("input(4) - fc(2, )", "an argument value is missing", 1, 18),
    ("network n {\n  input(4) - fc(2)\n", "missing '}'", 2, 19),
    ("input(4) - fc(2) }", "unbalanced '}'", 1, 18),
    ("input(4) - [fc(2) - relu * 2", "missing ']'", 1, 29),
    ("input(4) - fc(2) * 2.5", "repetition count", 1, 20),
    ("network { input(4) }", "network name", 1, 9),
    ("train {\n  epochs 10\n}", "key = value", 2, 10),
    ("input(4) - add { relu | } - fc(2)", "empty branch", 1, 25),
    ("input(4) - fc(2) @ relu", "unexpected character '@'", 1, 18),
    ("block b(c) {\n}\ninput(1) - b(1)", "needs at least one layer", 2, 1),
    ("input(4) - fc('a')", "unexpected character", 1, 15),
]


@pytest.mark.parametrize("text,fragment,line,column", SYNTAX_ERRORS)
def test_syntax_errors_are_named_and_located(text: str, fragment: str, line: int, column: int) -> None:
    diagnostic = only_error(text)
    assert fragment in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (line, column)
    assert "Token(" not in diagnostic.message and "Expected one of" not in diagnostic.message


def test_rendered_error_has_location_source_and_caret() -> None:
    text = "input(1, 8, 8)\n  conv(32 5) - relu"
    diagnostic = only_error(text)
    rendered = render(diagnostic, {"test.net": text}).splitlines()
    assert rendered[0].startswith("test.net:2:")
    assert rendered[1] == "      conv(32 5) - relu"
    assert rendered[2].strip().startswith("^")
    assert rendered[2].index("^") == rendered[1].index("5")


@pytest.mark.parametrize(
    "line", ["epochs = 3, batch = 32", "epochs = 3 batch = 32", "optimizer = adam(lr=0.1) epochs = 3"]
)
def test_two_train_settings_on_one_line_name_the_rule(line: str) -> None:
    error = only_error(f"input(4) - fc(2)\ntrain {{\n  {line}\n}}\n")
    assert "one setting per line" in error.message and error.span.line == 3


def test_a_semicolon_between_settings_names_the_rule() -> None:
    error = only_error("input(4) - fc(2)\ntrain {\n  epochs = 3; batch = 32\n}\n")
    assert error.message == "unexpected character ';'" and error.hint.startswith("one setting per line")
    assert "joined by '-'" in only_error("input(4); fc(2)\n").hint


@pytest.mark.parametrize("separator", [",", ";"])
def test_one_setting_per_line_after_a_network(separator: str) -> None:
    error = only_error(f"network t {{\n  input(4) - fc(2)\n}}\ntrain {{\n  epochs = 3{separator} batch = 32\n}}\n")
    assert "one setting per line" in error.message + (error.hint or "") and error.span.line == 5
