"""Shape rules of LANGUAGE.md section 4 and the shape errors, with params, MACs and receptive fields."""

from __future__ import annotations

import math

import pytest
from helpers import graph_of, only_error


def conv_out(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


@pytest.mark.parametrize(
    "i,k,s,p,d",
    [(28, 5, 1, 0, 1), (224, 11, 4, 0, 1), (7, 3, 2, 1, 1), (9, 3, 1, 0, 2), (10, 4, 3, 2, 1), (5, 5, 1, 0, 1)],
)
def test_valid_and_int_padding(i: int, k: int, s: int, p: int, d: int) -> None:
    graph = graph_of(f"input(2, {i}, {i}) - conv(3, {k}, stride={s}, pad={p}, dilation={d})")
    o = conv_out(i, k, s, p, d)
    assert graph.output.shape == (3, o, o)


@pytest.mark.parametrize("i,k,s", [(28, 5, 1), (7, 3, 2), (8, 3, 2), (224, 7, 2), (5, 1, 2), (6, 4, 4)])
def test_same_is_tensorflow_same(i: int, k: int, s: int) -> None:
    graph = graph_of(f"input(1, {i}, {i}) - conv(1, {k}, stride={s}, pad=same)")
    o = math.ceil(i / s)
    total = max((o - 1) * s + k - i, 0)
    assert graph.output.shape == (1, o, o)
    assert graph.output.attrs["pads"] == (total // 2, total // 2, total - total // 2, total - total // 2)


@pytest.mark.parametrize(
    "i,k,s,expected", [(112, 3, 2, 56), (56, 3, 2, 28), (14, 2, 2, 7), (13, 2, 2, 7), (6, 3, 2, 3)]
)
def test_ceil_pooling(i: int, k: int, s: int, expected: int) -> None:
    graph = graph_of(f"input(1, {i}, {i}) - maxpool({k}, stride={s}, ceil=true)")
    assert graph.output.shape == (1, expected, expected)
    floor = graph_of(f"input(1, {i}, {i}) - maxpool({k}, stride={s})")
    assert floor.output.shape[1] == (i - k) // s + 1


def test_rectangular_kernels_strides_and_pads() -> None:
    graph = graph_of("input(1, 10, 12) - conv(2, 3x1, stride=(2, 1), pad=(1, 0))")
    assert graph.output.shape == (2, 5, 12)


def test_params_and_macs_of_conv_fc_bn() -> None:
    graph = graph_of("input(4, 8, 8) - conv(6, 3, groups=2) - bn - fc(5, bias=false)")
    conv, bn, fc = graph["conv_1"], graph["batchnorm_1"], graph["fc_1"]
    assert conv.params == {"weight": (6, 2, 3, 3), "bias": (6,)}
    assert conv.macs == 6 * 6 * 6 * 3 * 3 * 4 // 2
    assert bn.params == {"weight": (6,), "bias": (6,)} and bn.buffer_count == 12
    assert fc.params == {"weight": (5, 216)} and fc.macs == 216 * 5


def test_receptive_field_sizes_and_strides() -> None:
    graph = graph_of("input(1, 32, 32) - conv(1, 3) - maxpool(2) - conv(1, 3, dilation=2) - conv(1, 3, stride=2)")
    fields = [n.receptive_field for n in graph]
    assert fields == [((1, 1), (1, 1)), ((3, 3), (1, 1)), ((4, 4), (2, 2)), ((12, 12), (2, 2)), ((16, 16), (4, 4))]


def test_concat_adds_channels_and_fc_flattens() -> None:
    graph = graph_of("input(3, 8, 8) - concat { conv(2, 1) | conv(5, 3, pad=1) } - fc(4)")
    assert graph["concat_1"].shape == (7, 8, 8)
    assert graph["fc_1_flatten"].shape == (448,) and graph["fc_1_flatten"].implicit


SHAPE_ERRORS = [
    (
        "input(1, 32, 32) - conv(6, 5) - maxpool(2) - conv(16, 5) - relu - maxpool(2) - conv(16, 7)",
        "conv(16, 7) needs an input of at least 7x7, but maxpool_2 gives 16x5x5",
    ),
    (
        "input(4, 8, 8) - add { conv(4, 3) | identity }",
        "add needs every branch to give the same shape, but conv_1 gives 4x6x6, input_1 gives 4x8x8",
    ),
    (
        "input(4, 8, 8) - concat { conv(4, 3) | identity }",
        "concat joins along channels and needs equal spatial sizes, but conv_1 gives 4x6x6, input_1 gives 4x8x8",
    ),
    ("input(3, 8, 8) - conv(4, 3, groups=2)", "groups=2, which must divide both the input channels (3"),
    ("input(10) - conv(4, 3)", "a sequence (C x L) or a volume (C x D x H x W), but input_1 gives a vector of 10"),
    ("input(10) - maxpool(2)", "needs an image input"),
    ("input(1, 4, 4) - maxpool(2, pad=2)", "pooling pads at most half the window"),
    ("input(10) - lrn", "needs an image input"),
    ("input(1, 3, 3) - conv(1, 2, dilation=3)", "needs an input of at least 4x4, but input_1 gives 1x3x3"),
]


@pytest.mark.parametrize("text,message", SHAPE_ERRORS)
def test_shape_errors_name_both_shapes(text: str, message: str) -> None:
    diagnostic = only_error(text)
    assert message in diagnostic.message, diagnostic.message


def test_shape_error_is_reported_at_the_layer() -> None:
    diagnostic = only_error("input(1, 8, 8)\n    conv(16, 9) - relu")
    assert (diagnostic.span.line, diagnostic.span.column, diagnostic.span.end_column) == (2, 5, 16)
