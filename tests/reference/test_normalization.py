"""layernorm over channels, groupnorm and layer scale equal torch at float64."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TORCH_REASON

from netdsl import reference as R

torch = pytest.importorskip("torch", reason=TORCH_REASON)
F = torch.nn.functional

RNG = np.random.default_rng(0)


def _affine(c: int) -> tuple[np.ndarray, np.ndarray]:
    return RNG.uniform(0.5, 1.5, c), RNG.normal(0.0, 0.3, c)


def test_layernorm_normalizes_channels_at_each_position_like_convnext() -> None:
    x = RNG.standard_normal((2, 6, 3, 4)) * 3 + 1
    weight, bias = _affine(6)
    # torchvision's LayerNorm2d: permute to NHWC, F.layer_norm over C, permute back
    expected = (
        F.layer_norm(
            torch.from_numpy(x).permute(0, 2, 3, 1), (6,), torch.from_numpy(weight), torch.from_numpy(bias), 1e-6
        )
        .permute(0, 3, 1, 2)
        .numpy()
    )
    np.testing.assert_allclose(R.layernorm(x, weight, bias, 1e-6), expected, rtol=1e-12, atol=1e-12)


def test_layernorm_of_vectors_is_torch_layernorm() -> None:
    x = RNG.standard_normal((5, 7))
    weight, bias = _affine(7)
    expected = F.layer_norm(torch.from_numpy(x), (7,), torch.from_numpy(weight), torch.from_numpy(bias)).numpy()
    np.testing.assert_allclose(R.layernorm(x, weight, bias), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,groups", [((2, 6, 3, 4), 3), ((2, 6, 3, 4), 1), ((2, 6, 3, 4), 6), ((3, 8), 4)])
def test_groupnorm_equals_torch(shape: tuple, groups: int) -> None:
    x = RNG.standard_normal(shape) * 2 - 1
    weight, bias = _affine(shape[1])
    expected = F.group_norm(torch.from_numpy(x), groups, torch.from_numpy(weight), torch.from_numpy(bias)).numpy()
    np.testing.assert_allclose(R.groupnorm(x, weight, bias, groups), expected, rtol=1e-12, atol=1e-12)


def test_scale_multiplies_each_channel() -> None:
    x, weight = RNG.standard_normal((2, 4, 3, 3)), RNG.standard_normal(4)
    expected = (torch.from_numpy(x) * torch.from_numpy(weight).view(1, 4, 1, 1)).numpy()
    np.testing.assert_allclose(R.layer_scale(x, weight), expected, rtol=1e-15)
