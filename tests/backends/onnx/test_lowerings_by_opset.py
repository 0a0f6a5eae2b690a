"""The section-9 lowerings at opsets 13, 17 and the newest: the full checker, onnxruntime parity with the
NumPy backend, and the native op where the opset has it (its spelled-out form or decomposition below)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from backends.onnx.test_lowering import PARITY, SMALL, batch, numpy_outputs, rel_diff
from helpers import random_weights

import netdsl
from netdsl.backends.onnx.export import build_model, max_opset
from netdsl.backends.onnx.runtime import Session

OPSETS = (13, 17, max_opset())
PROGRAMS = (
    "nonlinear",
    "normalization",
    "resample",
    "sequence",
    "sequence_resample",
    "volume",
    "tokens",
    "tokens_image",
)


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("name", PROGRAMS)
def test_checker_and_onnxruntime_parity(name: str, opset: int) -> None:
    graph = netdsl.loads(SMALL[name], file=f"{name}.net").graph
    weights = random_weights(graph)
    model = build_model(graph, weights, opset)
    onnx.checker.check_model(model, full_check=True)
    x = batch(graph)
    actual = Session(model.SerializeToString(), provider="cpu").run(x)
    assert rel_diff(actual, numpy_outputs(graph, weights, x)) <= PARITY


def op_types(source: str, opset: int) -> list[str]:
    graph = netdsl.loads(source).graph
    return [node.op_type for node in build_model(graph, random_weights(graph), opset).graph.node]


@pytest.mark.parametrize(
    ("layer", "native", "since", "below"),
    [
        ("gelu", "Gelu", 20, "Erf"),
        ("gelu(approximate=tanh)", "Gelu", 20, "Tanh"),
        ("hardswish", "HardSwish", 14, "HardSigmoid"),
        ("mish", "Mish", 18, "Softplus"),
        ("layernorm", "LayerNormalization", 17, "ReduceMean"),
    ],
)
def test_native_from_its_opset_spelled_out_below(layer: str, native: str, since: int, below: str) -> None:
    source = f"input(4, 3, 3)\n{layer}"
    assert native in op_types(source, since) and below not in op_types(source, since)
    assert native not in op_types(source, since - 1) and below in op_types(source, since - 1)
    assert native in op_types(source, max_opset())


def test_gelu_attribute_at_opset_20() -> None:
    graph = netdsl.loads("input(4)\ngelu(approximate=tanh)").graph
    node = build_model(graph, {}, 20).graph.node[-1]
    assert node.op_type == "Gelu" and onnx.helper.get_attribute_value(node.attribute[0]) == b"tanh"


def test_deconv_pads_and_output_padding_reach_conv_transpose() -> None:
    graph = netdsl.loads(
        "input(4, 5, 5)\ndeconv(6, 3, stride=2, pad=1, output_pad=1, groups=2)\ndeconv(3, 1, stride=2, pad=same)"
    ).graph
    nodes = {n.name: n for n in build_model(graph, random_weights(graph)).graph.node}
    first = {a.name: onnx.helper.get_attribute_value(a) for a in nodes["deconv_1"].attribute}
    assert first["pads"] == [1, 1, 1, 1] and first["output_padding"] == [1, 1] and first["group"] == 2
    second = {a.name: onnx.helper.get_attribute_value(a) for a in nodes["deconv_2"].attribute}
    assert second["pads"] == [0, 0, 0, 0] and second["output_padding"] == [1, 1]  # 1x1 kernel: i*s needs 1 more


def test_mostly_positive_and_negative_inputs_agree() -> None:
    """Large |x| too: softplus' threshold, selu's and elu's negative side, gelu's tails."""
    graph = netdsl.loads("input(64)\nsoftplus - selu - elu(alpha=0.3) - gelu - mish").graph
    x = (np.linspace(-30, 30, 64, dtype=np.float32)[None, :]).repeat(2, axis=0)
    for opset in OPSETS:
        actual = Session(build_model(graph, {}, opset).SerializeToString(), provider="cpu").run(x)
        assert rel_diff(actual, numpy_outputs(graph, {}, x)) <= PARITY
