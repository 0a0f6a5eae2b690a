"""Sequences (N, L, C) and volumes (N, D, H, W, C) through the NumPy kernels: values against
torch.nn.functional (float64, 1e-12) and gradients against finite differences (float64, rel < 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check, rel_err

from netdsl.backends.numpy.ops import conv as C
from netdsl.backends.numpy.ops import normalization as Nm
from netdsl.backends.numpy.ops import pool as P
from netdsl.backends.numpy.ops import resample as R

RNG = np.random.default_rng(0)
TOL = 1e-12


def first(a: np.ndarray) -> np.ndarray:
    """Channels-last -> channels-first, as torch holds it."""
    return np.moveaxis(a, -1, 1)


def torch_functional():
    """torch.nn.functional, the reference these tests compare with; without torch the test skips, saying so."""
    return pytest.importorskip("torch.nn.functional", reason="torch.nn.functional is the reference")


def torch_of(a: np.ndarray):
    torch = pytest.importorskip("torch", reason="torch.nn.functional is the reference")
    return torch.from_numpy(np.ascontiguousarray(first(a)))


def back(t) -> np.ndarray:
    return np.moveaxis(t.detach().numpy(), 1, -1)


# (sizes, kernel, stride, pads (begins + ends), dilation, groups)
CONVS = [
    ((11,), (3,), (2,), (1, 1), (1,), 1),
    ((9,), (4,), (1,), (2, 1), (2,), 2),
    ((5, 6, 4), (3, 2, 3), (2, 1, 1), (1, 0, 1, 1, 0, 1), (1, 2, 1), 1),
    ((4, 5, 5), (2, 3, 1), (1, 2, 1), (0, 1, 0, 0, 1, 0), (2, 1, 1), 2),
]


def _torch_pads(x, pads: tuple):
    """Asymmetric pads as F.pad takes them (last axis first)."""
    F = torch_functional()

    rank = len(pads) // 2
    widths = [w for axis in reversed(range(rank)) for w in (pads[axis], pads[rank + axis])]
    return F.pad(x, widths)


@pytest.mark.parametrize("sizes,kernel,stride,pads,dilation,groups", CONVS)
def test_conv_matches_torch_and_finite_differences(sizes, kernel, stride, pads, dilation, groups) -> None:
    x = RNG.standard_normal((2, *sizes, 4))
    w = RNG.standard_normal((6, 4 // groups, *kernel))
    b = RNG.standard_normal(6)
    y, cache = C.conv_forward(x, w, b, stride, pads, dilation, groups)
    F = torch_functional()

    conv = F.conv1d if len(sizes) == 1 else F.conv3d
    expected = conv(
        _torch_pads(torch_of(x), pads),
        torch_of_weight(w),
        torch_of_weight(b),
        stride=stride,
        dilation=dilation,
        groups=groups,
    )
    assert rel_err(y, back(expected)) < TOL
    dy = RNG.standard_normal(y.shape)
    dx, dw, db = C.conv_backward(dy, cache)

    def run():
        return C.conv_forward(x, w, b, stride, pads, dilation, groups, keep_cols=False)[0]

    check(run, dy, x, dx)
    check(run, dy, w, dw)
    check(run, dy, b, db)


def torch_of_weight(a: np.ndarray):
    torch = pytest.importorskip("torch", reason="torch.nn.functional is the reference")
    return torch.from_numpy(a)


# (sizes, kernel, stride, pads, output_padding, dilation, groups)
DECONVS = [
    ((6,), (3,), (2,), (1, 1), (1,), (1,), 1),
    ((4, 3, 5), (2, 3, 2), (2, 1, 2), (0, 1, 1, 0, 1, 1), (1, 0, 0), (1, 1, 1), 2),
]


@pytest.mark.parametrize("sizes,kernel,stride,pads,output_padding,dilation,groups", DECONVS)
def test_deconv_matches_torch_and_finite_differences(
    sizes, kernel, stride, pads, output_padding, dilation, groups
) -> None:
    rank = len(sizes)
    x = RNG.standard_normal((2, *sizes, 4))
    w = RNG.standard_normal((4, 6 // groups, *kernel))
    b = RNG.standard_normal(6)
    y, cache = C.deconv2d_forward(x, w, b, stride, pads, output_padding, dilation, groups)
    F = torch_functional()

    deconv = F.conv_transpose1d if rank == 1 else F.conv_transpose3d
    assert pads[:rank] == pads[rank:]  # torch's padding is symmetric
    expected = deconv(
        torch_of(x),
        torch_of_weight(w),
        torch_of_weight(b),
        stride=stride,
        padding=pads[:rank],
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
    )
    assert rel_err(y, back(expected)) < TOL
    dy = RNG.standard_normal(y.shape)
    dx, dw, db = C.deconv2d_backward(dy, cache)

    def run():
        return C.deconv2d_forward(x, w, b, stride, pads, output_padding, dilation, groups)[0]

    check(run, dy, x, dx)
    check(run, dy, w, dw)
    check(run, dy, b, db)


# (sizes, kernel, stride, pads)
POOLS = [
    ((10,), (3,), (2,), (1, 1)),
    ((9,), (2,), (2,), (0, 1)),  # ceil mode's extra pad at the end
    ((5, 6, 7), (2, 3, 2), (2, 2, 1), (1, 1, 0, 1, 1, 0)),
    ((4, 4, 4), (2, 2, 2), (2, 2, 2), (0, 0, 0, 0, 0, 0)),
]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("sizes,kernel,stride,pads", POOLS)
def test_pools_match_torch_and_finite_differences(kind, sizes, kernel, stride, pads) -> None:
    rank = len(sizes)
    x = RNG.standard_normal((2, *sizes, 3))
    forward, backward = (
        (P.maxpool2d_forward, P.maxpool2d_backward) if kind == "max" else (P.avgpool2d_forward, P.avgpool2d_backward)
    )
    y, cache = P.pool_forward(forward, x, kernel, stride, pads)
    F = torch_functional()

    begins, ends = pads[:rank], pads[rank:]
    ceil = begins != ends
    name = f"{kind}_pool{rank}d"
    extra = {} if kind == "max" else {"count_include_pad": False}
    expected = getattr(F, name)(torch_of(x), kernel, stride, begins, ceil_mode=ceil, **extra)
    assert rel_err(y, back(expected)) < TOL
    dy = RNG.standard_normal(y.shape)
    check(lambda: P.pool_forward(forward, x, kernel, stride, pads)[0], dy, x, P.pool_backward(backward, dy, cache))


@pytest.mark.parametrize("shape", [(2, 7, 3), (2, 3, 4, 5, 3)])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_global_pools(shape, kind) -> None:
    x = RNG.standard_normal(shape)
    forward, backward = (
        (P.global_maxpool_forward, P.global_maxpool_backward)
        if kind == "max"
        else (P.global_avgpool_forward, P.global_avgpool_backward)
    )
    y, cache = forward(x)
    axes = tuple(range(1, x.ndim - 1))
    assert rel_err(y, x.max(axis=axes, keepdims=True) if kind == "max" else x.mean(axis=axes, keepdims=True)) < TOL
    dy = RNG.standard_normal(y.shape)
    check(lambda: forward(x)[0], dy, x, backward(dy, cache))


@pytest.mark.parametrize("scale", [(3,), (2, 1, 3)])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_upsample(scale, mode) -> None:
    x = RNG.standard_normal((2, *(4,) * len(scale), 3))
    forward, backward = (
        (R.upsample_nearest_forward, R.upsample_nearest_backward)
        if mode == "nearest"
        else (R.upsample_bilinear_forward, R.upsample_bilinear_backward)
    )
    y, cache = forward(x, scale)
    F = torch_functional()

    torch_mode = mode if mode == "nearest" else ("linear" if len(scale) == 1 else "trilinear")
    extra = {} if mode == "nearest" else {"align_corners": False}
    expected = F.interpolate(torch_of(x), scale_factor=tuple(float(s) for s in scale), mode=torch_mode, **extra)
    assert rel_err(y, back(expected)) < TOL
    dy = RNG.standard_normal(y.shape)
    check(lambda: forward(x, scale)[0], dy, x, backward(dy, cache))


@pytest.mark.parametrize("shape,pads", [((2, 5, 3), (1, 2)), ((2, 3, 4, 2, 3), (1, 0, 2, 0, 3, 1))])
def test_zeropad(shape, pads) -> None:
    x = RNG.standard_normal(shape)
    y, cache = R.zeropad_forward(x, pads)
    expected = _torch_pads(torch_of(x), pads)
    assert rel_err(y, back(expected)) == 0
    dy = RNG.standard_normal(y.shape)
    check(lambda: R.zeropad_forward(x, pads)[0], dy, x, R.zeropad_backward(dy, cache))


@pytest.mark.parametrize("shape", [(3, 6, 4), (2, 3, 4, 3, 4)])
def test_batchnorm_and_groupnorm(shape) -> None:
    F = torch_functional()

    x = RNG.standard_normal(shape)
    c = shape[-1]
    gamma, beta = RNG.uniform(0.5, 1.5, c), RNG.standard_normal(c)
    y, cache, _, _ = Nm.batchnorm_forward(x, gamma, beta, np.zeros(c), np.ones(c))
    expected = F.batch_norm(torch_of(x), None, None, torch_of_weight(gamma), torch_of_weight(beta), training=True)
    assert rel_err(y, back(expected)) < TOL
    dy = RNG.standard_normal(y.shape)
    dx, dgamma, _ = Nm.batchnorm_backward(dy, cache)
    check(lambda: Nm.batchnorm_forward(x, gamma, beta, np.zeros(c), np.ones(c))[0], dy, x, dx)
    y, cache = Nm.groupnorm_forward(x, gamma, beta, 2)
    expected = F.group_norm(torch_of(x), 2, torch_of_weight(gamma), torch_of_weight(beta))
    assert rel_err(y, back(expected)) < TOL
    dx, _, _ = Nm.groupnorm_backward(dy, cache)
    check(lambda: Nm.groupnorm_forward(x, gamma, beta, 2)[0], dy, x, dx)


@pytest.mark.parametrize("sizes,kernel,stride,pads,dilation,groups", CONVS)
def test_references_are_rank_generic(sizes, kernel, stride, pads, dilation, groups) -> None:
    """netdsl.reference (what generated NumPy modules run) at 1-D and 3-D equals the kernels."""
    from netdsl import reference as Ref

    x = RNG.standard_normal((2, *sizes, 4))
    w = RNG.standard_normal((6, 4 // groups, *kernel))
    b = RNG.standard_normal(6)
    y = C.conv_forward(x, w, b, stride, pads, dilation, groups, keep_cols=False)[0]
    assert rel_err(y, np.moveaxis(Ref.conv2d(first(x), w, b, stride, pads, dilation, groups), 1, -1)) < TOL
    window = tuple(min(k, 2) for k in kernel)
    half = tuple(min(p, k // 2) for p, k in zip(pads, window * 2))
    for forward, reference in ((P.maxpool2d_forward, Ref.maxpool2d), (P.avgpool2d_forward, Ref.avgpool2d)):
        y = P.pool_forward(forward, x, window, stride, half)[0]
        assert rel_err(y, np.moveaxis(reference(first(x), window, stride, half), 1, -1)) < TOL
    for mode in ("nearest", "bilinear"):
        scale = (2,) * len(sizes)
        y = (R.upsample_nearest_forward if mode == "nearest" else R.upsample_bilinear_forward)(x, scale)[0]
        assert rel_err(y, np.moveaxis(Ref.upsample(first(x), scale, mode), 1, -1)) < TOL
    y = R.zeropad_forward(x, pads)[0]
    assert rel_err(y, np.moveaxis(Ref.zeropad(first(x), pads), 1, -1)) == 0
    wt = RNG.standard_normal((4, 6 // groups, *kernel))
    y = C.deconv2d_forward(x, wt, b, stride, pads, (0,) * len(sizes), dilation, groups)[0]
    expected = Ref.deconv2d(first(x), wt, b, stride, pads, (0,) * len(sizes), dilation, groups)
    assert rel_err(y, np.moveaxis(expected, 1, -1)) < TOL
