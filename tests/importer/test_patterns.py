"""Each exporter spelling the importer reads: the op it becomes, and the same numbers as onnxruntime."""

from __future__ import annotations

import math

import numpy as np
import pytest
from onnx import helper
from onnx_graphs import agrees, const, save, weights

N = helper.make_node
CONV_W = const("w", weights(4, 3, 3, 3))


def conv(out: str = "c", **attrs) -> object:
    return N("Conv", ["x", "w"], [out], name="block1/conv", **attrs)


@pytest.mark.parametrize(
    "attrs,expected",
    [
        ({"pads": [1, 1, 1, 1], "strides": [2, 2]}, "conv(4, 3, stride=2, pad=1, bias=false)"),
        ({"auto_pad": "SAME_UPPER", "strides": [2, 2]}, "conv(4, 3, stride=2, pad=same, bias=false)"),
        ({"pads": [0, 1, 2, 1], "dilations": [2, 2]}, "zeropad((0, 2, 1, 1))"),
        ({"auto_pad": "SAME_LOWER", "strides": [2, 2]}, "zeropad("),
    ],
)
def test_conv_pads(tmp_path, attrs: dict, expected: str) -> None:
    path = save(tmp_path / "m.onnx", [conv("y", **attrs)], [CONV_W], [None, 3, 9, 8], None)
    assert expected in agrees(path, (3, 9, 8))


def test_conv_bias_from_a_following_add_and_batchnorm_with_scale_and_shift(tmp_path) -> None:
    nodes = [
        conv(),
        N("Add", ["c", "b"], ["cb"]),
        N("BatchNormalization", ["cb", "s", "t", "m", "v"], ["n"], epsilon=1e-3),
        N("Mul", ["n", "k"], ["nk"]),
        N("Add", ["nk", "o"], ["y"]),
    ]
    inits = [
        CONV_W,
        const("b", weights(1, 4, 1, 1)),
        const("s", weights(4) + 1),
        const("t", weights(4)),
        const("m", weights(4)),
        const("v", np.abs(weights(4)) + 0.5),
        const("k", weights(4, 1, 1)),
        const("o", weights(4, 1, 1)),
    ]
    text = agrees(save(tmp_path / "m.onnx", nodes, inits, [None, 3, 6, 6], None), (3, 6, 6))
    assert "conv(4, 3)" in text and "batchnorm(eps=0.001)" in text and "scale" not in text


@pytest.mark.parametrize(
    "spelling,op",
    [
        (lambda: [N("Sigmoid", ["x"], ["g"]), N("Mul", ["x", "g"], ["y"])], "swish"),
        (lambda: [N("HardSigmoid", ["x"], ["g"], alpha=1 / 6), N("Mul", ["g", "x"], ["y"])], "hardswish"),
        (lambda: [N("Softplus", ["x"], ["s"]), N("Tanh", ["s"], ["t"]), N("Mul", ["x", "t"], ["y"])], "mish"),
        (
            lambda: [
                N("Div", ["x", "sqrt2"], ["d"]),
                N("Erf", ["d"], ["e"]),
                N("Add", ["e", "one"], ["p"]),
                N("Mul", ["x", "p"], ["h"]),
                N("Mul", ["h", "half"], ["y"]),
            ],
            "gelu",
        ),
        (lambda: [N("Clip", ["x", "zero", "six"], ["y"])], "relu6"),
        (lambda: [N("LeakyRelu", ["x"], ["y"], alpha=0.2)], "leakyrelu(alpha=0.2)"),
        (lambda: [N("Elu", ["x"], ["y"], alpha=0.5)], "elu(alpha=0.5)"),
        (lambda: [N("Selu", ["x"], ["y"])], "selu"),
        (lambda: [N("HardSwish", ["x"], ["y"])], "hardswish"),
        (lambda: [N("Gelu", ["x"], ["y"], approximate="tanh")], "gelu(approximate=tanh)"),
        (lambda: [N("PRelu", ["x", "slope"], ["y"])], "prelu"),
        (lambda: [N("Dropout", ["x"], ["y"])], "dropout(0.5)"),
        (lambda: [N("Identity", ["x"], ["i"]), N("Softmax", ["i"], ["y"], axis=1)], "softmax"),
    ],
)
def test_activations(tmp_path, spelling, op: str) -> None:
    inits = [
        const("sqrt2", np.float32(math.sqrt(2))),
        const("one", np.float32(1)),
        const("half", np.float32(0.5)),
        const("zero", np.float32(0)),
        const("six", np.float32(6)),
        const("slope", weights(3, 1, 1)),
    ]
    opset = 20 if op.startswith("gelu(") else 17
    text = agrees(save(tmp_path / "m.onnx", spelling(), inits, [None, 3, 5, 4], None, opset=opset), (3, 5, 4))
    assert f"- {op}\n" in text or f"{op}\n" in text.split("input(3, 5, 4)")[1]


def test_squeeze_excitation_and_residual_branches(tmp_path) -> None:
    nodes = [
        conv(pads=[1, 1, 1, 1]),
        N("Relu", ["c"], ["r"]),
        N("GlobalAveragePool", ["r"], ["p"]),
        N("Conv", ["p", "w2"], ["q"]),
        N("Sigmoid", ["q"], ["g"]),
        N("Mul", ["r", "g"], ["se"]),
        N("Conv", ["r", "w3"], ["side"]),
        N("Add", ["se", "side"], ["y"]),
    ]
    inits = [CONV_W, const("w2", weights(4, 4, 1, 1)), const("w3", weights(4, 4, 1, 1))]
    text = agrees(save(tmp_path / "m.onnx", nodes, inits, [None, 3, 6, 6], None), (3, 6, 6))
    assert "add {" in text and "mul {" in text and "identity" in text


def test_flatten_gemm_is_an_fc_and_matmul_add_too(tmp_path) -> None:
    nodes = [
        N("Flatten", ["x"], ["f"]),
        N("Gemm", ["f", "a", "ab"], ["g"], transB=1, alpha=0.5),
        N("MatMul", ["g", "b"], ["m"]),
        N("Add", ["m", "bb"], ["l"]),
        N("Softmax", ["l"], ["y"], axis=-1),
    ]
    inits = [const("a", weights(6, 36)), const("ab", weights(6)), const("b", weights(6, 5)), const("bb", weights(5))]
    text = agrees(save(tmp_path / "m.onnx", nodes, inits, [None, 4, 3, 3], None), (4, 3, 3))
    assert "fc(6)" in text and "output(5)" in text and "flatten" not in text


def test_reshape_from_shape_gather_concat_is_a_flatten(tmp_path) -> None:
    nodes = [
        N("Shape", ["x"], ["s"]),
        N("Gather", ["s", "zero"], ["n"], axis=0),
        N("Unsqueeze", ["n", "axes"], ["nn"]),
        N("Concat", ["nn", "minus1"], ["shape"], axis=0),
        N("Reshape", ["x", "shape"], ["f"]),
        N("Gemm", ["f", "a"], ["y"], transB=1),
    ]
    inits = [
        const("zero", np.int64(0)),
        const("axes", np.array([0], np.int64)),
        const("minus1", np.array([-1], np.int64)),
        const("a", weights(3, 24)),
    ]
    text = agrees(save(tmp_path / "m.onnx", nodes, inits, [None, 2, 3, 4], None), (2, 3, 4), batch=3)
    assert "fc(3, bias=false)" in text


def test_channel_shuffle(tmp_path) -> None:
    nodes = [
        N("Reshape", ["x", "split"], ["r"]),
        N("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
        N("Reshape", ["t", "merge"], ["y"]),
    ]
    inits = [const("split", np.array([1, 3, 2, 4, 4], np.int64)), const("merge", np.array([1, 6, 4, 4], np.int64))]
    text = agrees(save(tmp_path / "m.onnx", nodes, inits, [1, 6, 4, 4], None), (6, 4, 4), batch=1)
    assert "shuffle(3)" in text


@pytest.mark.parametrize(
    "node,expected",
    [
        (
            N("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1),
            "maxpool(3, stride=2, pad=1, ceil=true)",
        ),
        (
            N("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
            "avgpool(3, stride=1, pad=1)",
        ),
        (
            N("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1),
            "zeropad((1, 1, 1, 1))",
        ),
        (
            N("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1]),
            "maxpool(3, stride=2, ceil=true)",
        ),
        (N("AveragePool", ["x"], ["y"], kernel_shape=[7, 7], pads=[0, 0, 1, 1]), "globalavgpool"),
        (N("Pad", ["x", "pads"], ["y"], mode="constant"), "zeropad((1, 0, 2, 3))"),
        (N("Resize", ["x", "", "scales"], ["y"], mode="nearest"), "upsample"),
        (N("Resize", ["x", "", "scales"], ["y"], mode="linear"), "upsample(2, mode=bilinear)"),
        (N("LRN", ["x"], ["y"], size=3, alpha=0.01, beta=0.5, bias=2.0), "lrn(size=3, alpha=0.01, beta=0.5, k=2.0)"),
    ],
)
def test_windows_pads_and_resampling(tmp_path, node, expected: str) -> None:
    inits = [
        const("pads", np.array([0, 0, 1, 2, 0, 0, 0, 3], np.int64)),
        const("scales", np.array([1, 1, 2, 2], np.float32)),
    ]
    text = agrees(save(tmp_path / "m.onnx", [node], inits, [None, 3, 6, 6], None), (3, 6, 6))
    assert expected in text


def test_conv_transpose_and_layernorm_in_a_channels_last_region(tmp_path) -> None:
    nodes = [
        N("ConvTranspose", ["x", "wt", "bt"], ["d"], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
        N("Transpose", ["d"], ["t"], perm=[0, 2, 3, 1]),
        N("LayerNormalization", ["t", "g", "b"], ["n"], epsilon=1e-6),
        N("MatMul", ["n", "m"], ["mm"]),
        N("Add", ["mm", "mb"], ["a"]),
        N("Transpose", ["a"], ["y"], perm=[0, 3, 1, 2]),
    ]
    inits = [
        const("wt", weights(3, 4, 3, 3)),
        const("bt", weights(4)),
        const("g", weights(4)),
        const("b", weights(4)),
        const("m", weights(4, 5)),
        const("mb", weights(5)),
    ]
    text = agrees(save(tmp_path / "m.onnx", nodes, inits, [None, 3, 4, 4], None), (3, 4, 4))
    assert "deconv(4, 3, stride=2, pad=1, output_pad=1)" in text and "layernorm(eps=1e-06)" in text
    assert "conv(5, 1)" in text
