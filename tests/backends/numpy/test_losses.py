"""Tests for netdsl.backends.numpy.losses."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import numeric_gradient

from netdsl.backends.numpy import losses as L


def rel_err(a, b):
    """Max-norm relative error."""
    return np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-12)


def test_cross_entropy_int_labels():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    loss, grad = L.cross_entropy_from_logits(z, y)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert loss == pytest.approx(-np.log(p[np.arange(5), y]).mean(), rel=1e-12)
    assert rel_err(grad, numeric_gradient(lambda: L.cross_entropy_from_logits(z, y)[0], z)) < 1e-6


def test_cross_entropy_probability_rows():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((3, 4))
    t = rng.dirichlet(np.ones(4), size=3)
    loss, grad = L.cross_entropy_from_logits(z, t)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    assert loss == pytest.approx(-(t * logp).sum(1).mean(), rel=1e-12)
    assert rel_err(grad, numeric_gradient(lambda: L.cross_entropy_from_logits(z, t)[0], z)) < 1e-6
    onehot = np.eye(4)[[2, 0, 1]]
    a = L.cross_entropy_from_logits(z, onehot)
    b = L.cross_entropy_from_logits(z, np.array([2, 0, 1]))
    assert a[0] == pytest.approx(b[0], rel=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_huge_logits(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    loss, grad = L.cross_entropy_from_logits(z, np.array([1, 0]))
    assert np.isfinite(loss) and np.isfinite(grad).all()
    assert loss == pytest.approx((2e4 + 2e4 + np.log(2)) / 2, rel=1e-6)
    assert grad.dtype == dtype
    loss, grad = L.cross_entropy_from_logits(z, np.array([0, 1]))
    assert loss == pytest.approx(np.log(2) / 2, rel=1e-4)


def test_cross_entropy_bad_shapes():
    with pytest.raises(ValueError):
        L.cross_entropy_from_logits(np.zeros((3, 4)), np.array([0, 1]))
    with pytest.raises(ValueError):
        L.cross_entropy_from_logits(np.zeros((3, 4)), np.zeros((3, 5)))


def test_mse():
    rng = np.random.default_rng(2)
    p, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss, grad = L.mse(p, t)
    assert loss == pytest.approx(((p - t) ** 2).mean(), rel=1e-12)
    assert rel_err(grad, numeric_gradient(lambda: L.mse(p, t)[0], p)) < 1e-6


def test_binary_cross_entropy():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, (6, 2))
    t = rng.integers(0, 2, (6, 2)).astype(float)
    loss, grad = L.binary_cross_entropy(p, t)
    assert loss == pytest.approx(-(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(), rel=1e-12)
    assert rel_err(grad, numeric_gradient(lambda: L.binary_cross_entropy(p, t)[0], p)) < 1e-6
    loss, grad = L.binary_cross_entropy(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]]))
    assert np.isfinite(loss) and np.isfinite(grad).all()
    assert loss == pytest.approx(-np.log(1e-7), rel=1e-6)


def test_binary_cross_entropy_from_logits():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((5, 3)) * 3
    t = rng.uniform(0, 1, (5, 3))
    loss, grad = L.binary_cross_entropy_from_logits(z, t)
    p = 1 / (1 + np.exp(-z))
    assert loss == pytest.approx(-(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(), rel=1e-10)
    assert rel_err(grad, numeric_gradient(lambda: L.binary_cross_entropy_from_logits(z, t)[0], z)) < 1e-6
    big = np.array([[1e4], [-1e4], [1e4]], dtype=np.float32)
    loss, grad = L.binary_cross_entropy_from_logits(big, np.array([[0.0], [0.0], [1.0]]))
    assert np.isfinite(loss) and np.isfinite(grad).all()
    assert loss == pytest.approx(1e4 / 3, rel=1e-6)
    assert grad.dtype == np.float32


def test_accuracy():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert L.accuracy(scores, np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert L.accuracy(scores, np.eye(2)[[1, 0, 1]]) == 1.0
    assert L.accuracy(np.array([[0.7], [0.2]]), np.array([[1.0], [1.0]])) == 0.5
    assert L.accuracy(np.array([2.0, -1.0]), np.array([1, 0]), threshold=0.0) == 1.0
