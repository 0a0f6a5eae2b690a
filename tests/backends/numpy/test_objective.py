"""The loss head with class labels: one-hot targets for mse and binary cross-entropy with K outputs."""

from __future__ import annotations

import numpy as np
import pytest

import netdsl
from netdsl.backends.numpy.objective import Objective, targets_like


@pytest.mark.parametrize("loss,head", [("mse", "softmax"), ("binary_cross_entropy", "sigmoid")])
def test_class_labels_train_like_one_hot_rows(loss: str, head: str) -> None:
    text = f"input(4) - fc(3) - {head}\ntrain {{\n loss = {loss}\n seed = 2\n batch = 4\n}}"
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 4), dtype=np.float32), rng.integers(0, 3, 12)
    labels, rows = netdsl.loads(text), netdsl.loads(text)
    history = labels.fit(x, y, epochs=3, verbose=0)
    rows.fit(x, np.eye(3, dtype=np.float32)[y], epochs=3, verbose=0)
    assert np.array_equal(labels.predict(x), rows.predict(x))
    assert 0 <= history.history["accuracy"][-1] <= 1


def test_one_output_keeps_the_label_as_its_target() -> None:
    out = np.zeros((3, 1), np.float32)
    assert np.array_equal(targets_like(out, np.array([0, 1, 1])), [[0], [1], [1]])


@pytest.mark.parametrize(
    "y,fragment",
    [
        (np.array([0, 3, 1]), r"integers in \[0, 3\), received int64 labels from 0 to 3"),
        (np.array([0.5, 1, 2]), "received float64 labels"),
        (np.zeros((3, 2)), r"targets of shape \(3, 2\) do not fit outputs of shape \(3, 3\)"),
    ],
)
def test_targets_that_fit_no_output_are_named(y: np.ndarray, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        targets_like(np.zeros((3, 3), np.float32), y)


def test_mse_of_class_labels_is_mse_of_one_hot_rows() -> None:
    graph = netdsl.loads("input(2) - fc(3)").graph
    objective = Objective(graph, "mse")
    out = np.array([[0.2, 0.5, 0.1], [0.9, 0.0, 0.3]], np.float32)
    loss, grad = objective(out, np.array([1, 0]))
    target = np.array([[0, 1, 0], [1, 0, 0]], np.float32)
    assert loss == pytest.approx(float(((out - target) ** 2).mean()), rel=1e-6)
    assert np.allclose(grad, 2 * (out - target) / out.size)
