"""The executor over whole graphs: gradients by finite differences, shapes against the IR."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import EXAMPLES, graph_of

import netdsl
from netdsl.backends.numpy.executor import Executor
from netdsl.backends.numpy.objective import Objective


def _loss(executor: Executor, objective: Objective, x, y) -> float:
    out = executor.forward(x, training=True, rng=np.random.default_rng(0), stop_before=objective.stop_before)
    return objective(out, y)[0]


def _check_gradients(text: str, x_shape: tuple, loss: str = "cross_entropy", samples: int = 12) -> None:
    graph = graph_of(text)
    executor = Executor(graph, dtype=np.float64)
    executor.init_params(seed=3)
    rng = np.random.default_rng(1)
    for key in executor.params:  # non-trivial batchnorm affine parameters and biases
        if key.endswith(".bias") or ".weight" in key and executor.params[key].ndim == 1:
            executor.params[key] = rng.normal(0.5, 0.3, executor.params[key].shape)
    x = rng.normal(size=x_shape)
    units = graph.output.shape[0]
    y = rng.integers(0, units, len(x)) if loss == "cross_entropy" else rng.random((len(x), units))
    objective = Objective(graph, loss)
    out = executor.forward(x, training=True, rng=np.random.default_rng(0), stop_before=objective.stop_before)
    _, dout = objective(out, y)
    grads = executor.backward(dout, start=objective.start)
    assert set(grads) == set(executor.params)
    for key, value in executor.params.items():
        flat = value.reshape(-1)
        for index in rng.choice(flat.size, min(samples, flat.size), replace=False):
            saved = flat[index]
            flat[index] = saved + 1e-6
            up = _loss(executor, objective, x, y)
            flat[index] = saved - 1e-6
            down = _loss(executor, objective, x, y)
            flat[index] = saved
            numeric = (up - down) / 2e-6
            analytic = grads[key].reshape(-1)[index]
            assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(numeric), abs(analytic)), (
                key,
                index,
                numeric,
                analytic,
            )


GRAPHS = {
    "same stride 2 + bn + add": (
        "input(3, 9, 9) - conv(4, 3, stride=2, pad=same) - bn - add { conv(4, 3, pad=1) - tanh | identity } - fc(5)",
        (4, 3, 9, 9),
    ),
    "concat dilation groups": (
        "input(4, 10, 10) - concat { conv(4, 3, dilation=2, groups=2, pad=2) | "
        "conv(2, 1) - maxpool(3, stride=1, pad=1) - avgpool(1) } - swish - "
        "globalavgpool - fc(3)",
        (3, 4, 10, 10),
    ),
    "ceil pools lrn leakyrelu": (
        "input(2, 9, 9) - conv(6, 2) - leakyrelu(alpha=0.1) - lrn(size=3) - "
        "maxpool(3, stride=2, ceil=true) - avgpool(2, ceil=true) - output(4)",
        (3, 2, 9, 9),
    ),
    "vectors bn sigmoid": ("input(6) - fc(8) - bn - sigmoid - fc(3)", (5, 6)),
    "global max softmax in the middle": (
        "input(3, 5, 5) - conv(4, 3) - globalmaxpool - flatten - softmax - fc(2)",
        (3, 3, 5, 5),
    ),
    "sequence, Kim's widths": (
        "input(3, 20) - conv(4, 5, stride=2, pad=same) - bn - relu - maxpool(2, ceil=true) "
        "- concat { conv(3, 3, pad=1) - globalmaxpool | conv(2, 2) - globalavgpool } - fc(3)",
        (3, 3, 20),
    ),
    "volume": (
        "input(2, 4, 5, 5) - conv(3, 3, pad=1) - groupnorm(3) - avgpool(2, ceil=true) - "
        "upsample(2, mode=bilinear) - deconv(2, 2, stride=2) - zeropad(1) - dwconv(2x1x3) - globalmaxpool "
        "- fc(3)",
        (2, 2, 4, 5, 5),
    ),
}


@pytest.mark.parametrize("text,shape", GRAPHS.values(), ids=GRAPHS.keys())
def test_graph_gradients_match_finite_differences(text: str, shape: tuple) -> None:
    _check_gradients(text, shape)


def test_mse_and_binary_cross_entropy_gradients() -> None:
    _check_gradients("input(4) - fc(3) - tanh - fc(2)", (6, 4), loss="mse")
    _check_gradients("input(4) - fc(3) - relu - fc(2) - sigmoid", (6, 4), loss="binary_cross_entropy")


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.net")), ids=lambda p: p.stem)
def test_inferred_shapes_equal_numpy_shapes(path) -> None:
    model = netdsl.load(path)
    big = model.totals.macs > 5e8
    executor = Executor(model.graph)
    executor.init_params(0)
    x = np.random.default_rng(0).random((1 if big else 2,) + model.input_shape, dtype=np.float32)
    if model.tokens is not None:  # token ids below the vocabulary (seed001_text)
        x = np.floor(x * model.tokens)
    shapes = executor.layer_shapes(x)
    assert shapes == {n.name: n.shape for n in model.graph}


def test_same_seed_trains_bitwise_identically() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 1, 8, 8), dtype=np.float32), rng.integers(0, 3, 64)
    weights = []
    for _ in range(2):
        model = netdsl.loads(
            "input(1, 8, 8) - conv(4, 3) - relu - dropout(0.3) - output(3)\n"
            "train {\n epochs = 2\n batch = 16\n seed = 5\n}"
        )
        model.fit(x, y, verbose=0)
        weights.append(model.executor.state_dict())
    assert all(np.array_equal(weights[0][k], weights[1][k]) for k in weights[0])
