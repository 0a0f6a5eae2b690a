"""Blocks, repetition, arithmetic, names and every argument rule of LANGUAGE.md section 8."""

from __future__ import annotations

import pytest
from helpers import compile_text, errors, graph_of, only_error

RESNET_STUB = """
block basic(c, stride=1) {                    # a ResNet basic block
    add {
        conv(c, 3, stride=stride, pad=1, bias=false) - bn - relu - conv(c, 3, pad=1, bias=false) - bn
      | conv(c, 1, stride=stride, bias=false) - bn      # projection shortcut
    }
    relu
}

block inception(c1, c3r, c3, c5r, c5, pp) {   # GoogLeNet's module
    concat {
        conv(c1, 1) - relu
      | conv(c3r, 1) - relu - conv(c3, 3, pad=1) - relu
      | conv(c5r, 1) - relu - conv(c5, 5, pad=2) - relu
      | maxpool(3, stride=1, pad=1) - conv(pp, 1) - relu
    }
}

network resnet_stub {
    input(3, 32, 32)
    conv(64, 3, pad=1) - bn - relu
    basic(64) * 2
    basic(128, stride=2)
    inception(64, 96, 128, 16, 32, 32)
}
"""


def test_language_section5_example() -> None:
    graph = graph_of(RESNET_STUB)
    assert graph["basic_3.add_1"].shape == (128, 16, 16)
    assert graph.output.shape == (64 + 128 + 32 + 32, 16, 16)
    assert graph["basic_1.add_1"].inputs == ["basic_1.batchnorm_2", "basic_1.batchnorm_3"]
    assert not graph.is_chain


def test_auto_names_count_per_op_and_labels_name_layers() -> None:
    graph = graph_of("input(1, 8, 8) - conv(2, 3) - relu - c: conv(2, 3) - relu - conv(2, 1) - output(3)")
    names = [n.name for n in graph]
    assert names == [
        "input_1",
        "conv_1",
        "relu_1",
        "c",
        "relu_2",
        "conv_2",
        "output_1_flatten",
        "output_1",
        "output_1_softmax",
    ]


def test_aliases_and_case_are_the_same_op() -> None:
    a = graph_of("INPUT(1, 8, 8) - CONV2D(4, 3) - POOL(2) - MEANPOOL(1) - BN - SILU - DENSE(3)")
    assert [n.op for n in a][1:] == ["conv", "maxpool", "avgpool", "batchnorm", "swish", "flatten", "fc"]


def test_activation_argument_is_a_chained_activation() -> None:
    with_arg = graph_of("input(4) - fc(3, activation=tanh)")
    chained = graph_of("input(4) - fc(3) - tanh")
    assert [n.op for n in with_arg] == [n.op for n in chained] == ["input", "fc", "tanh"]


def test_output_is_fc_then_softmax_and_can_drop_it() -> None:
    assert [n.op for n in graph_of("input(4) - output(3)")] == ["input", "fc", "softmax"]
    assert [n.op for n in graph_of("input(4) - output(3, activation=none)")] == ["input", "fc"]


def test_layout_hwc_reorders_to_chw() -> None:
    assert graph_of("input(28, 28, 1, layout=hwc) - relu").input.shape == (1, 28, 28)


def test_block_arithmetic_and_defaults() -> None:
    graph = graph_of(
        "block b(c, k=3) { conv(c * 4 - 2, k, pad=(k - 1) / 2) }\ninput(3, 8, 8) - b(2) - b(3, k=5) - b(c=1)"
    )
    assert [n.shape for n in graph][1:] == [(6, 8, 8), (10, 8, 8), (2, 8, 8)]


def test_blocks_using_blocks_and_repetition_of_blocks() -> None:
    graph = graph_of(
        "block inner(c) { conv(c, 1) - relu }\nblock outer(c) { inner(c) - inner(c * 2) }\n"
        "input(1, 4, 4) - outer(2) * 2"
    )
    assert graph.output.shape == (4, 4, 4)
    assert "outer_2.inner_2.conv_1" in graph


def test_identity_branch_passes_input_through() -> None:
    graph = graph_of("input(4, 8, 8) - add { conv(4, 3, pad=1) | identity }")
    assert graph.output.inputs == ["conv_1", "input_1"]


ERRORS = [
    # (program, message fragment, hint fragment or None, line, column)
    ("input(1, 8, 8) - conw(3, 3)", "unknown op 'conw'", "did you mean 'conv'?", 1, 18),
    ("input(1, 8, 8) - conv(3, 3, strid=2)", "conv has no argument 'strid'", "did you mean 'stride'?", 1, 29),
    ("block basic(c) { relu }\ninput(4) - basik(2)", "unknown op 'basik'", "did you mean 'basic'?", 2, 12),
    ("input(1, 8, 8) - conv(3)", "conv needs filters and kernel, but kernel is missing", None, 1, 18),
    ("input(1, 8, 8) - conv(3, 3, 1, valid, 1, 1, true, relu, 9)", "at most 8 positional", None, 1, 57),
    ("input(1, 8, 8) - conv(0, 3)", "filters must be at least 1, received filters=0", None, 1, 23),
    ("input(1, 8, 8) - conv(3, 0)", "kernel must be at least 1", None, 1, 26),
    ("input(4) - dropout(1.5)", "rate must satisfy 0.0 <= rate < 1.0, received rate=1.5", None, 1, 20),
    ("input(4) - dropout(rate=-0.1)", "rate must satisfy", None, 1, 20),
    ("input(1, 8, 8) - conv(3, 3, pad=full)", "pad must be valid, same", None, 1, 29),
    ("input(1, 8, 8) - conv(3, 3, bias=1)", "bias must be true or false", None, 1, 29),
    ("input(1, 8, 8) - conv(3, 3, stride=2, stride=1)", "got 'stride' twice", None, 1, 39),
    ("input(4) - fc(2) * 0", "at least 1, received 0", None, 1, 20),
    ("block a { b }\nblock b { a }\ninput(4) - a", "block 'a' uses itself (a -> b -> a)", None, 2, 11),
    ("block a(c) { a(c) }\ninput(4) - a(1)", "block 'a' uses itself", None, 1, 14),
    ("block b(c) { fc(c) }\ninput(4) - b(1, 2)", "block b takes 1 argument", None, 2, 17),
    ("block b(c) { fc(c) }\ninput(4) - b(d=2)", "block b has no parameter 'd'", None, 2, 14),
    ("block b(c) { fc(c) }\ninput(4) - b", "block b needs 'c'", None, 2, 12),
    ("block b(c) { fc(c / 2) }\ninput(4) - b(3)", "3 / 2 is not a whole number", "//", 1, 17),
    ("input(4) - fc(2) - input(3)", "input(...) must be the first layer", None, 1, 20),
    ("conv(3, 3) - relu", "conv has no input", "input(1, 28, 28)", 1, 1),
    ("input(4) - relu(2)", "relu takes at most 0 positional", None, 1, 17),
    ("input(4) - add(2)", "add takes branches", None, 1, 12),
    ("input(4) - relu { fc(2) | fc(2) }", "'relu' does not take branches", None, 1, 12),
    ("input(4) - add { fc(2) }", "at least two branches", None, 1, 12),
    ("input(1, 2, 3, 4, 5)", "input: takes (C, H, W) for images", None, 1, 1),
    ("input(0, 8, 8)", "dimensions must be integers of at least 1, received 0", None, 1, 1),
    ("network n { }", "a network or block needs at least one layer", None, 1, 13),
    ("input(4) - c: fc(2) - c: fc(2)", "the name 'c' is used by two layers", None, 1, 23),
    ("input(4) - [c: fc(2)] * 2", "the name 'c' is used by two layers", "wrap it in a block", 1, 13),
    ("input(4) - fc(2, bias=true, 3)", "positional argument cannot follow a keyword", None, 1, 29),
    ("input(4) - leakyrelu(alpha=x * 2)", "arithmetic works on integers", None, 1, 28),
]


@pytest.mark.parametrize("text,fragment,hint,line,column", ERRORS)
def test_errors_name_the_culprit(text: str, fragment: str, hint: str | None, line: int, column: int) -> None:
    diagnostic = only_error(text)
    assert fragment in diagnostic.message, diagnostic.message
    if hint:
        assert hint in (diagnostic.hint or ""), diagnostic.hint
    assert (diagnostic.span.line, diagnostic.span.column) == (line, column)


def test_independent_networks_report_their_own_errors() -> None:
    found = errors("network a { input(4) - fc(0) }\nnetwork b { input(4) - dropout(2) }")
    assert [d.span.line for d in found] == [1, 2]


def test_block_errors_point_into_the_block_and_note_the_use() -> None:
    text = "block b(c) {\n  conv(c, 9)\n}\ninput(1, 8, 8) - b(3)"
    diagnostic = only_error(text)
    assert diagnostic.span.line == 2
    assert diagnostic.notes and diagnostic.notes[0][1].line == 4


# ---- every error in one run ----


def _errors(text: str) -> list[tuple[int, str]]:
    return [(d.span.line, d.message) for d in errors(text)]


def test_two_independent_mistakes_are_reported_in_one_run() -> None:
    text = (
        "network two {\n    input(1, 28, 28)\n    conv(8, 3) - relu\n    conv(16, kernel_size=3) - relu\n"
        "    maxpool(2)\n    conv(16, 3, padding=1)\n    fc(10)\n}\n"
    )
    assert _errors(text) == [(4, "conv has no argument 'kernel_size'"), (6, "conv has no argument 'padding'")]


def test_errors_in_branches_blocks_and_after_a_bad_layer_are_all_reported() -> None:
    text = (
        "block b(c) {\n  conv(c, 3, pad=1, bogus=1)\n}\n"
        "network n {\n  input(3, 8, 8)\n  add { conv(4, 3, strid=2) | conv(4, 1, dilaton=2) }\n"
        "  b(4) * 3\n  nosuchop(2)\n  fc(10)\n}\n"
    )
    lines = [line for line, _ in _errors(text)]
    assert lines == [6, 6, 2, 8]  # the block's error once, though it is used three times


def test_shape_errors_in_independent_branches_are_both_reported() -> None:
    text = "input(3, 4, 4)\nconcat { conv(4, 5) | maxpool(5) }\n"
    assert [line for line, _ in _errors(text)] == [2, 2]


def test_a_warning_that_explains_an_error_is_shown_before_it() -> None:
    found = [
        (d.severity, d.span.line)
        for d in compile_text("input(28, 28, 1)\nconv(32, 3) - relu\nfc(10)\n").all_diagnostics
    ]
    assert found == [("warning", 1), ("error", 2)]


def test_a_network_with_an_error_has_no_graph() -> None:
    compilation = compile_text("input(1, 8, 8)\nconv(4, kernel_size=3)\nfc(2)\n")
    assert not compilation.ok and compilation.networks[0].graph is None


def test_pixels_left_unread_are_shown_beside_the_error_they_lead_to() -> None:
    found = [
        (d.severity, d.span.line)
        for d in compile_text("input(1, 9, 9)\nmaxpool(2)\nmaxpool(2)\nconv(4, 3)\nfc(2)\n").all_diagnostics
    ]
    assert found == [("warning", 2), ("error", 4)]
