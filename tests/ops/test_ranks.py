"""Rank-generic windows (LANGUAGE.md section 10): sequences (C x L) and volumes (C x D x H x W) get the shapes,
parameters and MACs of PyTorch's Conv1d/Conv3d and friends, and a window that names the wrong number of axes is
a located error."""

from __future__ import annotations

import math

import pytest

from tests.helpers import compile_text, graph_of, only_error

SEQUENCE = "input(2, 100) - conv(16, 5, pad=same) - relu - maxpool(2) - deconv(8, 4, stride=2) - conv(16, 3)"
VOLUME = "input(3, 8, 16, 16) - conv(4, 3x3x3, pad=1) - batchnorm - avgpool(2) - upsample(2) - zeropad(1)"


def shapes(text: str) -> dict[str, tuple]:
    return {node.name: node.shape for node in graph_of(text)}


def test_sequence_shapes_params_macs() -> None:
    graph = graph_of(SEQUENCE)
    assert [n.shape for n in graph] == [(2, 100), (16, 100), (16, 100), (16, 50), (8, 102), (16, 100)]
    conv, deconv, conv2 = graph["conv_1"], graph["deconv_1"], graph["conv_2"]
    assert conv.params == {"weight": (16, 2, 5), "bias": (16,)}
    assert deconv.params == {"weight": (16, 8, 4), "bias": (8,)}
    assert conv.macs == 100 * 16 * 5 * 2 and deconv.macs == 50 * 16 * 8 * 4 and conv2.macs == 100 * 16 * 3 * 8
    assert conv.attrs["pads"] == (2, 2) and conv2.attrs["kernel"] == (3,)
    assert graph["maxpool_1"].receptive_field == ((6,), (2,))


def test_volume_shapes_params_macs() -> None:
    graph = graph_of(VOLUME)
    assert [n.shape for n in graph] == [
        (3, 8, 16, 16),
        (4, 8, 16, 16),
        (4, 8, 16, 16),
        (4, 4, 8, 8),
        (4, 8, 16, 16),
        (4, 10, 18, 18),
    ]
    assert graph["conv_1"].params == {"weight": (4, 3, 3, 3, 3), "bias": (4,)}
    assert graph["conv_1"].macs == 8 * 16 * 16 * 4 * 27 * 3
    assert graph["conv_1"].attrs["pads"] == (1, 1, 1, 1, 1, 1)
    assert graph["conv_1"].receptive_field == ((3, 3, 3), (1, 1, 1))
    assert graph["zeropad_1"].attrs["pads"] == (1,) * 6


def test_per_axis_kernels_and_pads() -> None:
    graph = graph_of(
        "input(1, 9, 20, 30) - conv(2, 3x5x1, stride=(1, 2, 3), pad=(1, 2, 0)) - zeropad((1, 2, 0, 0, 3, 4))"
    )
    assert graph["conv_1"].shape == (2, 9, 10, 10)
    assert graph["zeropad_1"].shape == (2, 12, 10, 17)
    assert graph["zeropad_1"].attrs["pads"] == (1, 0, 3, 2, 0, 4)


@pytest.mark.parametrize(
    "text,rank",
    [
        ("input(4, 50) - conv(8, 3x3)", "a sequence (C x L)"),
        ("input(1, 4, 8, 8) - maxpool(2x2)", "a volume (C x D x H x W)"),
        ("input(1, 20) - zeropad((1, 2, 3))", "a sequence (C x L)"),
        ("input(3, 8, 8) - conv(4, 3x3x3)", "an image (C x H x W)"),
    ],
)
def test_a_window_for_another_rank_is_a_located_error(text: str, rank: str) -> None:
    diagnostic = only_error(text)
    assert rank in diagnostic.message
    assert diagnostic.span.line == 1 and diagnostic.span.column > 1


def test_the_table_heading_names_the_axes() -> None:
    from netdsl.table import headers_for

    assert "Output (CxL)" in headers_for(graph_of(SEQUENCE))
    assert "Output (CxDxHxW)" in headers_for(graph_of(VOLUME))
    assert "Output (CxHxW)" in headers_for(graph_of("input(1, 8, 8) - conv(2, 3)"))


def test_unread_lint_speaks_of_each_axis() -> None:
    found = [d.message for d in compile_text("input(1, 12) - conv(2, 3, stride=2) - fc(2)").all_diagnostics]
    assert any("the last position of its input are never read" in m for m in found), found


@pytest.mark.parametrize("rank", [1, 3])
def test_figures_match_pytorch(rank: int) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch gives the reference parameter counts and shapes")
    nn = torch.nn
    size = (3, 20) if rank == 1 else (3, 6, 10, 10)
    dims = ", ".join(map(str, size))
    text = (
        f"input({dims}) - conv(8, 3, stride=2, pad=1, groups=1) - batchnorm - dwconv(3, multiplier=2) "
        f"- deconv(4, 3, stride=2, pad=1, output_pad=1) - groupnorm(2) - maxpool(2, ceil=true) - globalavgpool"
    )
    graph = graph_of(text)
    conv, bn, pool = (
        [nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d] if rank == 1 else [nn.Conv3d, nn.BatchNorm3d, nn.MaxPool3d]
    )
    deconv = nn.ConvTranspose1d if rank == 1 else nn.ConvTranspose3d
    model = nn.Sequential(
        conv(3, 8, 3, stride=2, padding=1),
        bn(8),
        conv(8, 16, 3, groups=8),
        deconv(16, 4, 3, stride=2, padding=1, output_padding=1),
        nn.GroupNorm(2, 4),
        pool(2, ceil_mode=True),
        nn.AdaptiveAvgPool1d(1) if rank == 1 else nn.AdaptiveAvgPool3d(1),
    )
    x = torch.zeros(1, *size)
    expected = []
    for layer in model:
        x = layer(x)
        expected.append(tuple(x.shape[1:]))
    layers = [n for n in graph if n.op != "input"]
    assert [n.shape for n in layers] == expected
    ours = [sum(math.prod(s) for s in n.params.values()) for n in layers]
    assert ours == [sum(p.numel() for p in layer.parameters()) for layer in model]
