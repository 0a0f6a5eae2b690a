"""Blocks as classes and functions: expressions for what differs between uses, classes of their own where
the code differs, names that clash with Python, and outputs equal to the backend's."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from codegen.test_numpy_target import TOLERANCE, backend, import_file, relative, sample
from helpers import random_weights

import netdsl
from netdsl.codegen import generate, render, write
from netdsl.codegen.values import Candidate, Fitter, NotUniform, Varying, merge


def _fitter() -> Fitter:
    return Fitter([Candidate("c", (64, 128)), Candidate("stride", (1, 2)), Candidate("in_channels", (256, 512))])


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ((256, 512), "in_channels"),
        ((32, 64), "c // 2"),
        ((640, 1280), "c * 10"),
        ((65, 129), "c + 1"),
        ((1, 2), "stride"),
        (((1, 1), (2, 2)), "(stride, stride)"),
        (((3, 1), (3, 2)), "(3, stride)"),
        ((64, 256), "c * stride"),
        ((63, 127), "c - 1"),
        ((31, 63), "(c - 1) // 2"),
    ],
)
def test_values_that_differ_are_named_by_an_expression(values: tuple, text: str) -> None:
    fitter = _fitter()
    assert Varying(values, fitter).text() == text
    assert fitter.used <= {"c", "stride", "in_channels"} and fitter.used


@pytest.mark.parametrize("values", [(0.5, 0.25), (7, 3), ("a", "b"), (True, False)])
def test_values_no_expression_gives_are_refused(values: tuple) -> None:
    with pytest.raises(NotUniform):
        Varying(values, _fitter()).text()


def test_comparisons_are_answered_only_when_every_use_agrees() -> None:
    fitter = _fitter()
    stride = Varying((1, 2), fitter)
    assert stride != 1  # leaving out a default argument: the argument is written
    assert (stride > 0) and not (stride > 5) and stride * 2 == Varying((2, 4), fitter)
    with pytest.raises(NotUniform):
        _ = stride == 1
    with pytest.raises(NotUniform):
        bool(stride - 1)
    assert merge((3, 3), fitter) == 3 and isinstance(merge((3, 4), fitter), Varying)
    assert list(Varying(((1, 1), (2, 1)), fitter))[1] == 1
    assert render.py_literal(stride + 1) == "stride + 1"


CLASHES = """
block forward(x, self, lambda=1, k=2) {
    np: conv(x, 3, pad=lambda) - scope: relu
    params: conv(self * k, 1)
    training: bn
}
block same(k) { conv(4, k, pad=same) - relu }
network clash {
    input(3, 8, 8)
    forward(4, 3) - forward(6, 2, lambda=0) - forward(6, 2, lambda=0) * 2
    same(3) - same(2) - same(3)
    globalavgpool - fc(5) - softmax
}
"""


def _clash_module(target: str, tmp_path: Path):
    model = netdsl.loads(CLASHES, file="clash.net")
    write(generate(model, target, source="clash.net"), tmp_path)
    text = (tmp_path / "clash.py").read_text()
    return model, text, import_file(tmp_path / "clash.py", f"generated_{target}_clash_{abs(hash(tmp_path))}")


def test_names_that_clash_with_python_stay_apart_in_numpy(tmp_path: Path) -> None:
    model, text, module = _clash_module("numpy", tmp_path)
    functions = {node.name: node for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)}
    assert {"forward_5", "same"} <= set(functions) and "same_2" not in functions  # forward_1 ... are layers
    assert [arg.arg for arg in functions["same"].args.args] == ["params", "x", "k"]
    pads = next(line for line in text.splitlines() if 'params["conv_1.weight"]' in line).split("pads=")[1]
    assert "k" in pads  # the pads of pad=same follow the kernel size
    tensors = random_weights(model.graph)
    x = sample(model)
    assert relative(module.forward(tensors, x), backend(model, tensors).predict(x)) <= TOLERANCE


def test_names_that_clash_with_python_stay_apart_in_pytorch(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch", reason="the PyTorch target needs torch")
    model, text, module = _clash_module("pytorch", tmp_path)
    classes = [node.name for node in ast.parse(text).body if isinstance(node, ast.ClassDef)]
    assert classes == ["Forward", "Same", "Same2", "Clash"]  # an even kernel pads its input with F.pad
    assert "self.same_1 = Same()" in text and "self.same_3 = Same()" in text and "self.same_2 = Same2()" in text
    assert "def __init__(self, in_channels: int, x_: int, self_: int, lambda_: int) -> None:" in text
    renamed = {
        f"forward_{k}.{layer}.{p}": f"forward_{k}.{layer}_.{p}"
        for k in range(1, 5)
        for layer, params in (
            ("np", ("weight", "bias")),
            ("params", ("weight", "bias")),
            ("training", ("weight", "bias", "running_mean", "running_var")),
        )
        for p in params
    }
    assert module.RENAMED == renamed  # the layers named like Python or nn.Module names, and only those
    tensors = random_weights(model.graph)
    net = module.Clash().eval()
    net.load_netdsl_state_dict(tensors)
    x = sample(model)
    with torch.no_grad():
        got = net(torch.from_numpy(x)).numpy()
    assert relative(got, backend(model, tensors).predict(x)) <= TOLERANCE
    assert set(net.netdsl_state_dict()) == set(tensors)
    assert np.array_equal(net.netdsl_state_dict()["forward_3.np.weight"], tensors["forward_3.np.weight"])
