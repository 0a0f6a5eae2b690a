"""layernorm, groupnorm and scale kernels: the NCHW references' values, finite-difference gradients."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check, nchw, rel_err

from netdsl import reference as R
from netdsl.backends.numpy.ops import normalization as K

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(2, 3, 4, 6), (3, 6)])
def test_layernorm(shape: tuple) -> None:
    x, dy = RNG.standard_normal(shape) * 2 + 0.5, RNG.standard_normal(shape)
    weight, bias = RNG.uniform(0.5, 1.5, shape[-1]), RNG.normal(0, 0.3, shape[-1])
    y, cache = K.layernorm_forward(x, weight, bias, 1e-6)
    assert rel_err(nchw(y), R.layernorm(nchw(x), weight, bias, 1e-6)) < 1e-12
    dx, dweight, dbias = K.layernorm_backward(dy, cache)
    run = lambda: K.layernorm_forward(x, weight, bias, 1e-6)[0]  # noqa: E731
    check(run, dy, x, dx)
    check(run, dy, weight, dweight)
    check(run, dy, bias, dbias)


@pytest.mark.parametrize("shape,groups", [((2, 3, 4, 6), 3), ((2, 2, 2, 6), 1), ((2, 3, 1, 6), 6), ((3, 8), 2)])
def test_groupnorm(shape: tuple, groups: int) -> None:
    x, dy = RNG.standard_normal(shape) * 2 + 0.5, RNG.standard_normal(shape)
    weight, bias = RNG.uniform(0.5, 1.5, shape[-1]), RNG.normal(0, 0.3, shape[-1])
    y, cache = K.groupnorm_forward(x, weight, bias, groups)
    assert rel_err(nchw(y), R.groupnorm(nchw(x), weight, bias, groups)) < 1e-12
    dx, dweight, dbias = K.groupnorm_backward(dy, cache)
    run = lambda: K.groupnorm_forward(x, weight, bias, groups)[0]  # noqa: E731
    check(run, dy, x, dx)
    check(run, dy, weight, dweight)
    check(run, dy, bias, dbias)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 5)])
def test_scale(shape: tuple) -> None:
    x, dy, weight = RNG.standard_normal(shape), RNG.standard_normal(shape), RNG.standard_normal(shape[-1])
    y, cache = K.scale_forward(x, weight)
    assert rel_err(nchw(y), R.layer_scale(nchw(x), weight)) < 1e-15
    dx, dweight = K.scale_backward(dy, cache)
    check(lambda: K.scale_forward(x, weight)[0], dy, x, dx)
    check(lambda: K.scale_forward(x, weight)[0], dy, weight, dweight)
