"""What `netdsl check` shows for each layer: every argument that differs from its default."""

from __future__ import annotations

import pytest
from helpers import graph_of

from netdsl.table import args_json, layer_json, op_text

CASES = {
    "maxpool(3, stride=1, pad=1)": "maxpool(3x3, stride=1, pad=1)",
    "avgpool(2, stride=1)": "avgpool(2x2, stride=1)",
    "maxpool(2)": "maxpool(2x2)",
    "maxpool(2, ceil=true)": "maxpool(2x2, ceil=true)",
    "conv(4, 3, bias=false)": "conv(4, 3x3, bias=false)",
    "conv(4, 3, stride=3)": "conv(4, 3x3, stride=3)",
    "conv(4, 3, stride=(1, 2), dilation=2)": "conv(4, 3x3, stride=1x2, dilation=2)",
    "conv(4, 3, pad=same, groups=2)": "conv(4, 3x3, pad=same, groups=2)",
    "lrn": "lrn",
    "lrn(size=3, k=1)": "lrn(size=3, k=1.0)",
    "leakyrelu(alpha=0.2)": "leakyrelu(alpha=0.2)",
    "batchnorm(eps=0.001)": "batchnorm(eps=0.001)",
}


@pytest.mark.parametrize("layer", CASES)
def test_every_argument_that_differs_from_its_default_is_shown(layer: str) -> None:
    graph = graph_of(f"input(4, 12, 12)\n{layer}")
    assert op_text(graph.nodes[1]) == CASES[layer]


def test_fc_without_bias() -> None:
    graph = graph_of("input(8)\nfc(3, bias=false)")
    assert op_text(graph.nodes[1]) == "fc(3, bias=false)"


def test_json_args_are_structured_with_the_display_string_beside_them() -> None:
    node = graph_of("input(4, 12, 12)\nmaxpool(3, stride=1, pad=1)").nodes[1]
    assert args_json(node) == {"kernel": [3, 3], "stride": [1, 1], "pad": [1, 1], "ceil": False}
    layer = layer_json(node)
    assert layer["args"] == args_json(node) and layer["display"] == "maxpool(3x3, stride=1, pad=1)"
    conv = graph_of("input(4, 12, 12)\nconv(8, 3, bias=false)").nodes[1]
    assert args_json(conv) == {
        "filters": 8,
        "kernel": [3, 3],
        "stride": [1, 1],
        "pad": "valid",
        "dilation": [1, 1],
        "groups": 1,
        "bias": False,
    }
