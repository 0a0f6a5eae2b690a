"""deconv references equal torch at float64."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TORCH_REASON

from netdsl import reference as R
from netdsl.ops.conv import deconv_axis

torch = pytest.importorskip("torch", reason=TORCH_REASON)
F = torch.nn.functional

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    "k,s,p,op,d,groups",
    [
        (4, 2, 1, 0, 1, 1),  # DCGAN
        (2, 2, 0, 0, 1, 1),  # U-Net
        (3, 2, 1, 1, 1, 1),
        (3, 1, 0, 0, 2, 2),
        (5, 3, 2, 2, 1, 3),
        (1, 2, 0, 1, 1, 1),
    ],
)
def test_deconv_equals_conv_transpose2d(k: int, s: int, p: int, op: int, d: int, groups: int) -> None:
    x = RNG.standard_normal((2, 6, 4, 3))
    w = RNG.standard_normal((6, 3, k, k))
    b = RNG.standard_normal(3 * groups)
    oh, top, bottom, extra = deconv_axis(4, k, s, d, p, op)
    ow, left, right, extra_w = deconv_axis(3, k, s, d, p, op)
    ours = R.deconv2d(x, w, b, (s, s), (top, left, bottom, right), (extra, extra_w), (d, d), groups)
    expected = F.conv_transpose2d(
        torch.from_numpy(x),
        torch.from_numpy(w),
        torch.from_numpy(b),
        stride=s,
        padding=p,
        output_padding=op,
        dilation=d,
        groups=groups,
    ).numpy()
    assert ours.shape == expected.shape == (2, 3 * groups, oh, ow)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k,s,d", [(3, 2, 1), (4, 2, 1), (2, 2, 1), (1, 3, 1), (3, 1, 1), (3, 2, 2), (2, 1, 1)])
def test_deconv_same_gives_input_times_stride(k: int, s: int, d: int) -> None:
    """pad=same is the transpose of a SAME conv (extra padding bottom/right) and gives i*s."""
    x = RNG.standard_normal((1, 2, 5, 5))
    w = RNG.standard_normal((2, 3, k, k))
    o, top, bottom, extra = deconv_axis(5, k, s, d, "same", 0)
    assert o == 5 * s
    ours = R.deconv2d(x, w, None, (s, s), (top, top, bottom, bottom), (extra, extra), (d, d))
    # the adjoint of the stride-s SAME conv from o x o to 5 x 5: <conv(y), x> == <y, deconv(x)>
    y = RNG.standard_normal((1, 3, o, o))
    span = d * (k - 1) + 1
    total = max((5 - 1) * s + span - o, 0)
    padded = F.pad(torch.from_numpy(y), (total // 2, total - total // 2, total // 2, total - total // 2))
    conv = F.conv2d(padded, torch.from_numpy(w), stride=s, dilation=d).numpy()
    assert conv.shape == x.shape
    np.testing.assert_allclose(np.sum(conv * x), np.sum(y * ours), rtol=1e-10)
