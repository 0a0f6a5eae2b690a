"""deconv kernels: the NCHW references' values, finite-difference gradients."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check, nchw, rel_err

from netdsl import reference as R
from netdsl.backends.numpy.ops import conv as K
from netdsl.ops.conv import deconv_axis

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    "k,s,p,op,d,groups,bias",
    [
        (4, 2, 1, 0, 1, 1, False),  # DCGAN
        (2, 2, 0, 0, 1, 1, True),  # U-Net
        (3, 2, 1, 1, 1, 2, True),
        (3, 1, 0, 0, 2, 2, True),
        (1, 3, 0, 2, 1, 1, True),
        (3, 2, "same", 0, 1, 1, True),
        (1, 2, "same", 0, 1, 1, False),
    ],
)
def test_deconv(k: int, s: int, p, op: int, d: int, groups: int, bias: bool) -> None:
    c, filters, h, w = 4, 6, 3, 4
    x = RNG.standard_normal((2, h, w, c))
    weight = RNG.standard_normal((c, filters // groups, k, k))
    b = RNG.standard_normal(filters) if bias else None
    oh, top, bottom, extra_h = deconv_axis(h, k, s, d, p, op)
    ow, left, right, extra_w = deconv_axis(w, k, s, d, p, op)
    args = ((s, s), (top, left, bottom, right), (extra_h, extra_w), (d, d), groups)
    y, cache = K.deconv2d_forward(x, weight, b, *args)
    assert y.shape == (2, oh, ow, filters)
    assert rel_err(nchw(y), R.deconv2d(nchw(x), weight, b, *args)) < 1e-12
    dy = RNG.standard_normal(y.shape)
    dx, dweight, dbias = K.deconv2d_backward(dy, cache)
    run = lambda: K.deconv2d_forward(x, weight, b, *args)[0]  # noqa: E731
    check(run, dy, x, dx)
    check(run, dy, weight, dweight)
    if bias:
        check(run, dy, b, dbias)
    assert K.deconv2d_backward(dy, cache, need_dx=False)[0] is None
