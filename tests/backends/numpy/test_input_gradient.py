"""The gradient with respect to the input (feature visualization, `netdsl dream`) against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check
from helpers import graph_of

import netdsl
from netdsl.backends.numpy.executor import Executor

IMAGE = "network t { input(2, 6, 6) - conv(3, 3, pad=1) - batchnorm - relu - maxpool(2) - fc(4) - softmax }"
SEQUENCE = "network s { input(2, 16) - conv(3, 5) - tanh - avgpool(2) - fc(4) }"


def _executor(text: str) -> Executor:
    executor = Executor(graph_of(text), dtype=np.float64)
    executor.init_params(seed=2)
    rng = np.random.default_rng(5)
    for key in executor.buffers:  # running statistics away from 0 and 1
        executor.buffers[key] = rng.uniform(0.5, 1.5, executor.buffers[key].shape)
    return executor


@pytest.mark.parametrize(
    "text, shape, layer",
    [
        (IMAGE, (2, 2, 6, 6), None),
        (IMAGE, (2, 2, 6, 6), "relu_1"),
        (IMAGE, (1, 2, 6, 6), "conv_1"),
        (SEQUENCE, (2, 2, 16), None),
        (SEQUENCE, (1, 2, 16), "tanh_1"),
    ],
)
def test_input_gradient_matches_finite_differences(text: str, shape: tuple, layer: str | None) -> None:
    executor = _executor(text)
    rng = np.random.default_rng(7)
    x = rng.normal(size=shape)
    _, activation = executor.input_gradient(x, np.ones_like, layer)
    dout = rng.normal(size=activation.shape)
    grad, _ = executor.input_gradient(x, dout, layer)

    def forward() -> np.ndarray:
        return executor.input_gradient(x, np.zeros_like, layer)[1]

    check(forward, dout, x, grad)


def test_input_gradient_takes_an_objective_of_the_activation() -> None:
    executor = _executor(IMAGE)
    x = np.random.default_rng(1).normal(size=(1, 2, 6, 6))

    def second_filter(activation: np.ndarray) -> np.ndarray:
        dout = np.zeros_like(activation)
        dout[:, 1] = 1.0
        return dout

    grad, activation = executor.input_gradient(x, second_filter, "conv_1")
    assert activation.shape == (1, 3, 6, 6)
    check(lambda: executor.input_gradient(x, np.zeros_like, "conv_1")[1], second_filter(activation), x, grad)


def test_input_gradient_leaves_weights_and_training_state_alone() -> None:
    executor = _executor(IMAGE)
    before = {k: v.copy() for k, v in executor.state_dict().items()}
    executor.input_gradient(np.ones((1, 2, 6, 6)), np.ones_like)
    assert all(np.array_equal(before[k], v) for k, v in executor.state_dict().items())


def test_model_input_gradient_names_a_missing_layer() -> None:
    model = netdsl.loads(IMAGE)
    grad, out = model.input_gradient(np.zeros((1, 2, 6, 6), np.float32))
    assert grad.shape == (1, 2, 6, 6) and out.shape == (1, 4)
    with pytest.raises(ValueError, match="no layer 'conv_9'"):
        model.input_gradient(np.zeros((1, 2, 6, 6)), layer="conv_9")
