"""Section-9 activation kernels: the NCHW references' values, finite-difference gradients (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check, nchw, nhwc, rel_err

from netdsl import reference as R
from netdsl.backends.numpy.ops import activation as K

RNG = np.random.default_rng(0)
# values away from every kink (0, +-3, 6) and across every piece, including softplus' threshold
POINTS = np.array([-25.0, -7.3, -4.1, -2.9, -1.7, -0.6, -0.2, 0.15, 0.8, 1.9, 2.7, 3.4, 5.2, 6.5, 21.0, 24.0])

CASES = {
    "gelu": (lambda x: K.gelu_forward(x), K.gelu_backward, lambda x: R.gelu(x)),
    "gelu_tanh": (lambda x: K.gelu_forward(x, "tanh"), K.gelu_backward, lambda x: R.gelu(x, "tanh")),
    "relu6": (K.relu6_forward, K.relu6_backward, R.relu6),
    "hardsigmoid": (K.hardsigmoid_forward, K.hardsigmoid_backward, R.hardsigmoid),
    "hardswish": (K.hardswish_forward, K.hardswish_backward, R.hardswish),
    "elu": (lambda x: K.elu_forward(x, 0.7), K.elu_backward, lambda x: R.elu(x, 0.7)),
    "selu": (K.selu_forward, K.selu_backward, R.selu),
    "softplus": (K.softplus_forward, K.softplus_backward, R.softplus),
    "mish": (K.mish_forward, K.mish_backward, R.mish),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("shape", [(2, 4, 3, 2), (3, 5)])
def test_activation_kernel(name: str, shape: tuple) -> None:
    forward, backward, reference = CASES[name]
    x = RNG.choice(POINTS, size=shape) + RNG.uniform(-0.05, 0.05, shape)
    y, cache = forward(x)
    assert rel_err(nchw(y), reference(nchw(x))) < 1e-12
    dy = RNG.standard_normal(shape)
    check(lambda: forward(x)[0], dy, x, backward(dy, cache))


@pytest.mark.parametrize("shape", [(2, 4, 3, 3), (3, 3)])
def test_prelu_kernel(shape: tuple) -> None:
    x = RNG.choice(POINTS, size=shape) + RNG.uniform(-0.05, 0.05, shape)
    weight = RNG.uniform(-0.5, 0.5, shape[-1])
    y, cache = K.prelu_forward(x, weight)
    assert rel_err(nchw(y), R.prelu(nchw(x), weight)) < 1e-12
    dy = RNG.standard_normal(shape)
    dx, dweight = K.prelu_backward(dy, cache)
    check(lambda: K.prelu_forward(x, weight)[0], dy, x, dx)
    check(lambda: K.prelu_forward(x, weight)[0], dy, weight, dweight)


def test_float32_in_float32_out() -> None:
    x = nhwc(RNG.standard_normal((2, 3, 4, 4)).astype(np.float32))
    for forward, backward, _ in CASES.values():
        y, cache = forward(x)
        assert y.dtype == np.float32 and backward(np.ones_like(y), cache).dtype == np.float32
