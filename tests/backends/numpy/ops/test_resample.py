"""upsample and zeropad kernels: the NCHW references' values, finite-difference gradients."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check, nchw, nhwc, rel_err

from netdsl import reference as R
from netdsl.backends.numpy.ops import resample as K

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("scale", [(2, 2), (3, 1)])
def test_upsample_nearest(scale: tuple) -> None:
    x = RNG.standard_normal((2, 3, 4, 2))
    y, cache = K.upsample_nearest_forward(x, scale)
    assert rel_err(nchw(y), R.upsample(nchw(x), scale, "nearest")) == 0
    dy = RNG.standard_normal(y.shape)
    check(lambda: K.upsample_nearest_forward(x, scale)[0], dy, x, K.upsample_nearest_backward(dy, cache))


@pytest.mark.parametrize("scale", [(2, 2), (3, 2), (1, 4)])
def test_upsample_bilinear(scale: tuple) -> None:
    x = RNG.standard_normal((2, 3, 4, 2))
    y, cache = K.upsample_bilinear_forward(x, scale)
    assert rel_err(nchw(y), R.upsample(nchw(x), scale, "bilinear")) < 1e-12
    dy = RNG.standard_normal(y.shape)
    check(lambda: K.upsample_bilinear_forward(x, scale)[0], dy, x, K.upsample_bilinear_backward(dy, cache))


def test_zeropad() -> None:
    x = np.ascontiguousarray(nhwc(RNG.standard_normal((2, 3, 4, 5))))
    pads = (1, 0, 2, 3)
    y, cache = K.zeropad_forward(x, pads)
    assert rel_err(nchw(y), R.zeropad(nchw(x), pads)) == 0
    dy = RNG.standard_normal(y.shape)
    check(lambda: K.zeropad_forward(x, pads)[0], dy, x, K.zeropad_backward(dy, cache))


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_shuffle(groups: int) -> None:
    """The kernel equals the reference, its gradient finite differences, and a shuffle by C/groups undoes it."""
    x = np.ascontiguousarray(nhwc(RNG.standard_normal((2, 6, 3, 4))))
    y, cache = K.shuffle_forward(x, groups)
    assert rel_err(nchw(y), R.shuffle(nchw(x), groups)) == 0
    assert np.array_equal(K.shuffle_forward(y, 6 // groups)[0], x)
    dy = RNG.standard_normal(y.shape)
    check(lambda: K.shuffle_forward(x, groups)[0], dy, x, K.shuffle_backward(dy, cache))
