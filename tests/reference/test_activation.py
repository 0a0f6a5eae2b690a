"""The activation references equal torch.nn.functional at float64, kinks and tails included."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TORCH_REASON

from netdsl import reference as R

torch = pytest.importorskip("torch", reason=TORCH_REASON)
F = torch.nn.functional

X = np.concatenate([np.linspace(-30.0, 30.0, 601), [-3.0, 0.0, 3.0, 6.0, 20.0, 20.5, -1e-8, 1e-8]])
CASES = {
    "gelu": (lambda x: R.gelu(x), lambda t: F.gelu(t)),
    "gelu_tanh": (lambda x: R.gelu(x, "tanh"), lambda t: F.gelu(t, approximate="tanh")),
    "relu6": (R.relu6, F.relu6),
    "hardsigmoid": (R.hardsigmoid, F.hardsigmoid),
    "hardswish": (R.hardswish, F.hardswish),
    "elu": (lambda x: R.elu(x, 0.7), lambda t: F.elu(t, 0.7)),
    "selu": (R.selu, F.selu),
    "softplus": (R.softplus, F.softplus),
    "mish": (R.mish, F.mish),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_activation_equals_torch(name: str) -> None:
    ours, theirs = CASES[name]
    expected = theirs(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(ours(X), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (4, 3)])
def test_prelu_has_one_slope_per_channel(shape: tuple) -> None:
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal(shape), rng.uniform(-0.5, 0.5, shape[1])
    expected = F.prelu(torch.from_numpy(x), torch.from_numpy(weight)).numpy()
    np.testing.assert_allclose(R.prelu(x, weight), expected, rtol=1e-12, atol=1e-15)


def test_float32_stays_float32() -> None:
    x = X.astype(np.float32)
    assert {fn(x).dtype for fn, _ in CASES.values()} == {np.dtype(np.float32)}
