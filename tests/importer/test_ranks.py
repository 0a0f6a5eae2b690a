"""1-D (sequence) and 3-D (volume) windows imported from ONNX: the NumPy backend gives onnxruntime's outputs."""

from __future__ import annotations

import numpy as np
from onnx import helper
from onnx_graphs import agrees, const, save, weights


def _batchnorm(name: str, source: str, channels: int) -> tuple:
    tensors = [
        const(f"{name}_s", weights(channels) + 1),
        const(f"{name}_b", weights(channels)),
        const(f"{name}_m", weights(channels)),
        const(f"{name}_v", np.abs(weights(channels)) + 0.5),
    ]
    node = helper.make_node("BatchNormalization", [source, *(t.name for t in tensors)], [name], epsilon=1e-3)
    return node, tensors


def test_a_sequence_network_imports(tmp_path) -> None:
    """Conv1d with asymmetric pads (a zeropad), dilation and stride, batchnorm, pools, deconv, global pool."""
    bn, bn_tensors = _batchnorm("n", "c", 6)
    nodes = [
        helper.make_node("Conv", ["x", "w", "wb"], ["c"], kernel_shape=[3], pads=[2, 1], strides=[2], dilations=[2]),
        bn,
        helper.make_node("Relu", ["n"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[3], strides=[1], pads=[1, 1]),
        helper.make_node("AveragePool", ["p"], ["a"], kernel_shape=[2], strides=[2]),
        helper.make_node("ConvTranspose", ["a", "dw"], ["d"], kernel_shape=[4], strides=[2], pads=[1, 1]),
        helper.make_node("GlobalAveragePool", ["d"], ["y"]),
    ]
    tensors = [const("w", weights(6, 3, 3)), const("wb", weights(6)), *bn_tensors, const("dw", weights(6, 4, 4))]
    text = agrees(save(tmp_path / "seq.onnx", nodes, tensors, [None, 3, 20]), (3, 20))
    assert "input(3, 20)" in text and "zeropad((2, 1))" in text and "deconv(4, 4" in text, text


def test_a_volume_network_imports(tmp_path) -> None:
    """Conv3d with per-axis kernel, stride and pads, batchnorm, a max pool with ceil, a global max pool."""
    bn, bn_tensors = _batchnorm("n", "c", 4)
    nodes = [
        helper.make_node(
            "Conv", ["x", "w"], ["c"], kernel_shape=[3, 3, 1], pads=[1, 0, 0, 1, 0, 0], strides=[1, 2, 1], group=2
        ),
        bn,
        helper.make_node("MaxPool", ["n"], ["p"], kernel_shape=[2, 2, 2], strides=[2, 2, 2], ceil_mode=1),
        helper.make_node("ConvTranspose", ["p", "dw", "db"], ["d"], kernel_shape=[2, 2, 2], strides=[2, 2, 2]),
        helper.make_node("GlobalMaxPool", ["d"], ["y"]),
    ]
    tensors = [
        const("w", weights(4, 1, 3, 3, 1)),
        *bn_tensors,
        const("dw", weights(4, 3, 2, 2, 2)),
        const("db", weights(3)),
    ]
    text = agrees(save(tmp_path / "vol.onnx", nodes, tensors, [None, 2, 5, 7, 4]), (2, 5, 7, 4))
    assert "input(2, 5, 7, 4)" in text and "3x3x1" in text and "stride=(1, 2, 1)" in text, text
