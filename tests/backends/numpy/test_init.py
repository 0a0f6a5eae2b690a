"""Tests for netdsl.backends.numpy.init."""

from __future__ import annotations

import numpy as np
import pytest

from netdsl.backends.numpy import init as I


def test_fans():
    assert I.compute_fans((64, 32, 5, 5)) == (800, 1600)
    assert I.compute_fans((32, 1, 3, 3)) == (9, 288)  # depthwise: C/groups = 1
    assert I.compute_fans((10, 1024)) == (1024, 10)
    assert I.compute_fans((7,)) == (7, 7)


def test_deterministic_for_seed():
    for fn in (
        lambda r: I.he_normal((8, 4, 3, 3), 36, r, np.float32),
        lambda r: I.glorot_uniform((8, 4, 3, 3), 36, 72, r, np.float32),
    ):
        a, b = fn(np.random.default_rng(7)), fn(np.random.default_rng(7))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, fn(np.random.default_rng(8)))
        assert a.dtype == np.float32 and a.shape == (8, 4, 3, 3)


def test_he_normal_variance():
    w = I.he_normal((256, 64, 3, 3), 576, np.random.default_rng(0), np.float64)
    assert abs(w.mean()) < 0.002
    assert w.var() == pytest.approx(2 / 576, rel=0.02)


def test_glorot_uniform_variance_and_bounds():
    w = I.glorot_uniform((512, 300), 300, 512, np.random.default_rng(1), np.float64)
    limit = np.sqrt(6 / 812)
    assert np.abs(w).max() <= limit
    assert w.var() == pytest.approx(2 / 812, rel=0.02)


def test_init_weight():
    rng = np.random.default_rng(2)
    w = I.init_weight((128, 256), rng, "he_normal", np.float64)
    assert w.var() == pytest.approx(2 / 256, rel=0.05)
    with pytest.raises(ValueError, match="valid"):
        I.init_weight((2, 2), rng, "orthogonal")
    assert I.zeros((3,)).sum() == 0 and I.ones((3,), np.float64).dtype == np.float64
