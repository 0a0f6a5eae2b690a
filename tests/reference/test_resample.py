"""upsample and zeropad references equal torch at float64."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TORCH_REASON

from netdsl import reference as R

torch = pytest.importorskip("torch", reason=TORCH_REASON)
F = torch.nn.functional

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("scale", [(2, 2), (3, 1), (1, 4)])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_upsample_equals_torch(scale: tuple, mode: str) -> None:
    x = RNG.standard_normal((2, 3, 4, 5))
    ours = R.upsample(x, scale, "nearest") if mode == "nearest" else R.upsample(x, scale, "bilinear")
    expected = F.interpolate(
        torch.from_numpy(x), scale_factor=scale, mode=mode, **({"align_corners": False} if mode == "bilinear" else {})
    ).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


def test_zeropad_takes_top_left_bottom_right() -> None:
    x = RNG.standard_normal((1, 2, 3, 3))
    expected = F.pad(torch.from_numpy(x), (3, 4, 1, 2)).numpy()  # torch: (left, right, top, bottom)
    np.testing.assert_array_equal(R.zeropad(x, (1, 3, 2, 4)), expected)


@pytest.mark.parametrize("groups", [2, 3])
def test_shuffle_equals_torch_channel_shuffle(groups: int) -> None:
    x = RNG.standard_normal((2, 6, 3, 4))
    expected = torch.nn.ChannelShuffle(groups)(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(R.shuffle(x, groups), expected)
    assert R.shuffle(x, groups)[0, 1, 0, 0] == x[0, 1 * (6 // groups) if groups > 1 else 1, 0, 0]
