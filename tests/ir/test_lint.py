"""The reviewer's warnings, and their absence on clean nets."""

from __future__ import annotations

import pytest
from helpers import warnings

WARNS = [
    ("input(3, 224, 224) - conv(96, 11, stride=4)", "the last row and the last column of its input are never read"),
    ("input(1, 11, 11) - maxpool(2)", "pools an odd size 11x11"),
    ("input(4) - softmax - fc(2)", "softmax_1 applies softmax but is not the last layer"),
    ("input(28, 28, 1) - relu", "reads as 28 channels of 28x1"),
    ("input(1, 8, 8) - conv(4, 3) - bn", "conv_1's bias is cancelled by batchnorm_1"),
    ("input(4) - relu - relu", "relu_2 repeats the relu of relu_1"),
    ("input(4) - fc(8) - fc(2)", "fc_1 and fc_2 have no activation between them"),
    ("input(4) - dropout(0)", "rate 0 and does nothing"),
    ("input(1, 9, 9) - maxpool(2, stride=3)", "stride 3x3 larger than its 2x2 window"),
    ("block unused(c) { fc(c) }\ninput(4) - fc(2)", "block 'unused' is never used"),
    # issue 21 M2: padding that dwarfs the input
    ("input(1, 8, 8) - maxpool(3000, pad=same)", "maxpool_1's 3000x3000 window is larger than its 8x8 input"),
    ("input(1, 8, 8) - conv(4, 1000, pad=same)", "padding of 999x999 makes up most of what it reads"),
]


@pytest.mark.parametrize("text,fragment", WARNS)
def test_warning(text: str, fragment: str) -> None:
    messages = [w.message for w in warnings(text)]
    assert any(fragment in m for m in messages), messages


@pytest.mark.parametrize(
    "text",
    [
        "input(1, 28, 28) - conv(8, 3, pad=same) - relu - maxpool(2) - fc(10) - relu - output(2)",
        "input(3, 8, 8) - add { conv(3, 1, stride=2, bias=false) - bn | avgpool(2) }",
        "input(1, 12, 12) - maxpool(2, ceil=true) - maxpool(3, stride=2, pad=same)",
        "input(3, 2, 2) - conv(8, 3, pad=same) - relu - flatten - output(2)",  # a 3x3 window on 2x2: padding 2 of 4
    ],
)
def test_clean_nets_have_no_warnings(text: str) -> None:
    assert warnings(text) == []


@pytest.mark.parametrize(
    "chain", ["conv(8, 3) - conv(8, 3)", "conv(8, 3) - bn - conv(8, 3)", "conv(8, 3) - dropout(0.2) - conv(8, 1)"]
)
def test_stacked_convs_without_an_activation_warn(chain: str) -> None:
    found = [w for w in warnings(f"input(3, 16, 16)\n{chain}\nfc(2)") if "no activation between" in w.message]
    assert len(found) == 1 and found[0].message.startswith("conv_1 and conv_2 are convolutions")
    assert found[0].span.line == 2 and "add an activation such as relu after conv_1" in found[0].hint


@pytest.mark.parametrize(
    "chain",
    [
        "conv(8, 3) - relu - conv(8, 3)",
        "conv(8, 3, activation=relu) - conv(8, 3)",
        "conv(8, 3) - maxpool(2) - conv(8, 3)",
        "conv(8, 3, groups=1) - leakyrelu - conv(4, 1)",
        "conv(6, 3, groups=3) - conv(8, 1)",
        "conv(2, 1) - bn - conv(8, 1)",  # a linear bottleneck: 3 -> 2 -> 8
        "add { conv(3, 3, pad=1) | identity } - conv(8, 3)",
    ],
)
def test_convs_with_a_nonlinearity_or_a_depthwise_factorization_do_not(chain: str) -> None:
    assert not [w for w in warnings(f"input(3, 16, 16)\n{chain}\nfc(2)") if "no activation between" in w.message]


def test_mobilenet_v2s_linear_bottlenecks_do_not_warn() -> None:
    from helpers import EXAMPLES

    import netdsl

    assert not [w for w in netdsl.load(EXAMPLES / "mobilenet_v2.net").warnings if "no activation between" in w.message]


BLOCK_USED = """block basic(c) {{
    conv(c, 3, pad=same) - bn - relu
}}
network t {{
    input(3, 16, 16)
    {uses}
    gap - fc(10)
}}
"""


def test_a_block_warning_is_given_once_for_all_its_uses() -> None:
    [warning] = warnings(BLOCK_USED.format(uses="basic(8) - basic(8) - basic(8) - basic(8)"))
    assert warning.message == (
        "conv_1's bias is cancelled by batchnorm_1, which subtracts the mean (in 4 uses of block `basic`)"
    )
    assert warning.span.line == 2 and warning.hint == "write bias=false to save the parameters"


def test_a_block_used_once_keeps_its_instance_name() -> None:
    [warning] = warnings(BLOCK_USED.format(uses="basic(8)"))
    assert warning.message.startswith("basic_1.conv_1's bias is cancelled by basic_1.batchnorm_1")


def test_block_warnings_that_differ_are_not_merged() -> None:
    text = """block down(c) {
    conv(c, 3, stride=2)
}
network t {
    input(3, 17, 17)
    down(4) - down(4) - down(4)
    fc(2)
}
"""
    found = [w.message for w in warnings(text)]
    assert len(found) == 3 and all("(in " not in message for message in found)
