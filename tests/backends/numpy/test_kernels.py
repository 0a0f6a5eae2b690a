"""Finite-difference and reference tests for netdsl.backends.numpy.kernels."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from helpers import numeric_gradient
from hypothesis import given, settings
from hypothesis import strategies as st

from netdsl.backends.numpy import kernels as K
from netdsl.backends.numpy.ops import conv as C

RTOL = 1e-6


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """Max-norm relative error between two arrays."""
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-12)
    return float(np.abs(a - b).max(initial=0.0) / scale)


def away(rng: np.random.Generator, shape: tuple[int, ...], lo: float = 0.1) -> np.ndarray:
    """Random float64 values with |v| in [lo, 1] (away from ReLU kinks)."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(lo, 1.0, size=shape)


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Float64 values that are pairwise at least 1e-2 apart (no max-pool ties)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 1e-2 - n * 5e-3).reshape(shape)


def check(fwd: Callable[[], np.ndarray], dy: np.ndarray, x: np.ndarray, ana: np.ndarray) -> None:
    """Compare an analytic gradient with finite differences of sum(fwd() * dy)."""
    num = numeric_gradient(lambda: float((fwd() * dy).sum()), x)
    assert ana.shape == x.shape
    assert rel_err(ana, num) < RTOL


@pytest.fixture(
    params=[(lay, t) for lay in ("pixel", "tap", "row") for t in (False, True)],
    ids=lambda p: f"{p[0]}-{'WxT' if p[1] else 'XxW'}",
)
def conv_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run conv tests with every column layout and both GEMM orientations."""
    layout, transposed = request.param
    monkeypatch.setattr(C, "CONV_LAYOUT", layout)
    monkeypatch.setattr(C, "TRANSPOSED_MIN_K", 0 if transposed else 10**9)
    monkeypatch.setattr(C, "TRANSPOSED_MAX_OUT", 10**9)
    return layout


@pytest.fixture(params=["transposed", "col2im"])
def dx_method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run conv input-gradient tests with both dx algorithms."""
    monkeypatch.setattr(C, "CONV_DX_METHOD", request.param)
    return request.param


# ---------------------------------------------------------------------------
# naive references (straightforward loops)
# ---------------------------------------------------------------------------


def naive_conv(x, w, b, stride, pads, dilation, groups):
    """Direct-loop NHWC convolution with OIHW weights."""
    xp = np.pad(x, ((0, 0), (pads[0], pads[2]), (pads[1], pads[3]), (0, 0)))
    n, hp, wp, _ = xp.shape
    o, cg, kh, kw = w.shape
    ho = (hp - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wp - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    og = o // groups
    y = np.zeros((n, ho, wo, o))
    for b_ in range(n):
        for r in range(ho):
            for s in range(wo):
                for oc in range(o):
                    g = oc // og
                    acc = 0.0
                    for c in range(cg):
                        for i in range(kh):
                            for j in range(kw):
                                acc += (
                                    xp[b_, r * stride[0] + i * dilation[0], s * stride[1] + j * dilation[1], g * cg + c]
                                    * w[oc, c, i, j]
                                )
                    y[b_, r, s, oc] = acc + (0.0 if b is None else b[oc])
    return y


def naive_pool(x, kernel, stride, pads, mode, dilation=(1, 1)):
    """Direct-loop max / average (count_include_pad=0) pooling."""
    n, h, w, c = x.shape
    (kh, kw), (dh, dw) = kernel, dilation
    ho = (h + pads[0] + pads[2] - dh * (kh - 1) - 1) // stride[0] + 1
    wo = (w + pads[1] + pads[3] - dw * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, ho, wo, c))
    for r in range(ho):
        for s in range(wo):
            vals = []
            for i in range(kh):
                for j in range(kw):
                    hi = r * stride[0] - pads[0] + i * dh
                    wi = s * stride[1] - pads[1] + j * dw
                    if 0 <= hi < h and 0 <= wi < w:
                        vals.append(x[:, hi, wi])
            if not vals:  # a dilated window made only of padding
                y[:, r, s] = -np.inf if mode == "max" else 0.0
                continue
            vals = np.stack(vals)
            y[:, r, s] = vals.max(axis=0) if mode == "max" else vals.mean(axis=0)
    return y


def naive_lrn(x, size, alpha, beta, k):
    """Direct-loop ONNX LRN over the last axis."""
    c = x.shape[-1]
    y = np.empty_like(x)
    for ch in range(c):
        lo = max(0, ch - (size - 1) // 2)
        hi = min(c - 1, ch + int(np.ceil((size - 1) / 2)))
        sq = (x[..., lo : hi + 1] ** 2).sum(axis=-1)
        y[..., ch] = x[..., ch] / (k + alpha / size * sq) ** beta
    return y


# ---------------------------------------------------------------------------
# convolution
# ---------------------------------------------------------------------------

CONV_CASES = [
    # (N, H, W, C, O, kh, kw, stride, pads, dilation, groups, bias)
    (2, 5, 5, 3, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1, True),
    (2, 6, 6, 3, 4, 3, 3, (2, 2), (0, 0, 1, 1), (1, 1), 1, True),  # TF SAME, stride 2
    (1, 7, 7, 2, 3, 3, 3, (1, 1), (2, 2, 2, 2), (2, 2), 1, True),  # dilation 2
    (2, 5, 6, 4, 6, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 2, True),  # groups 2
    (2, 5, 5, 3, 6, 3, 3, (1, 2), (1, 0, 2, 1), (1, 1), 3, False),  # depthwise x2
    (2, 4, 5, 3, 5, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 1, True),  # 1x1
    (2, 6, 5, 2, 3, 3, 2, (2, 1), (1, 0, 0, 1), (1, 1), 1, True),  # kh != kw
    (1, 7, 6, 2, 2, 2, 3, (3, 2), (1, 2, 2, 0), (2, 1), 2, True),  # mixed
    (1, 5, 5, 2, 3, 1, 1, (2, 2), (1, 1, 0, 0), (1, 1), 1, False),  # 1x1 stride 2 padded
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_forward_matches_naive(case, conv_mode):
    n, h, w, c, o, kh, kw, stride, pads, dil, groups, bias = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, w, c))
    wt = rng.standard_normal((o, c // groups, kh, kw))
    b = rng.standard_normal(o) if bias else None
    y, _ = K.conv2d_forward(x, wt, b, stride, pads, dil, groups)
    ref = naive_conv(x, wt, b, stride, pads, dil, groups)
    assert y.shape == ref.shape
    assert rel_err(y, ref) < 1e-12


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_gradients(case, conv_mode, dx_method):
    n, h, w, c, o, kh, kw, stride, pads, dil, groups, bias = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, h, w, c))
    wt = rng.standard_normal((o, c // groups, kh, kw))
    b = rng.standard_normal(o) if bias else None
    y, cache = K.conv2d_forward(x, wt, b, stride, pads, dil, groups)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = K.conv2d_backward(dy, cache)

    def fwd():
        return K.conv2d_forward(x, wt, b, stride, pads, dil, groups)[0]

    check(fwd, dy, x, dx)
    check(fwd, dy, wt, dw)
    if bias:
        check(fwd, dy, b, db)
    else:
        assert db is None


def test_conv_backward_twice_and_without_dx():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 6, 3))
    w = rng.standard_normal((4, 3, 3, 3))
    y, cache = K.conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    dy = rng.standard_normal(y.shape)
    dx1, dw1, _ = K.conv2d_backward(dy, cache)
    # another conv of the same geometry must not disturb a released cache
    K.conv2d_forward(x + 1, w, None, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    dx2, dw2, _ = K.conv2d_backward(dy, cache, need_dx=False)
    assert dx2 is None
    np.testing.assert_allclose(dw1, dw2, rtol=1e-12)


@pytest.mark.parametrize("layout", ["pixel", "tap", "row"])
def test_conv_non_contiguous_inputs(layout, monkeypatch):
    monkeypatch.setattr(C, "CONV_LAYOUT", layout)
    rng = np.random.default_rng(19)
    x = rng.standard_normal((2, 5, 6, 4))
    w = rng.standard_normal((3, 4, 3, 1))
    y, cache = K.conv2d_forward(x, w, None, (1, 1), (1, 0, 1, 0), (1, 1), 1)
    dy = rng.standard_normal(y.shape)
    ref = K.conv2d_backward(dy, cache)
    xf, dyf = np.asfortranarray(x), np.asfortranarray(dy)
    y2, cache2 = K.conv2d_forward(xf, w, None, (1, 1), (1, 0, 1, 0), (1, 1), 1)
    np.testing.assert_allclose(y2, y, rtol=1e-12)
    for a, b in zip(K.conv2d_backward(dyf, cache2)[:2], ref[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_conv_caches_are_independent():
    """Two pending forwards of the same geometry keep separate column buffers."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 3, 1, 1))
    xa, xb = rng.standard_normal((2, 2, 5, 5, 3))
    ya, ca = K.conv2d_forward(xa, w, None, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    _, cb = K.conv2d_forward(xb, w, None, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    dy = rng.standard_normal(ya.shape)
    _, dwa, _ = K.conv2d_backward(dy, ca)
    _, dwb, _ = K.conv2d_backward(dy, cb)
    ref_a = np.einsum("nhwo,nhwc->oc", dy, np.pad(xa, ((0, 0), (1, 1), (1, 1), (0, 0))))
    np.testing.assert_allclose(dwa[:, :, 0, 0], ref_a, rtol=1e-10)
    assert not np.allclose(dwa, dwb)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 2),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    cg=st.integers(1, 3),
    og=st.integers(1, 3),
    groups=st.integers(1, 2),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    dh=st.integers(1, 2),
    dw=st.integers(1, 2),
    pads=st.tuples(*[st.integers(0, 2)] * 4),
    layout=st.sampled_from(["pixel", "tap", "row", "auto"]),
    min_k=st.sampled_from([0, 10**9]),
)
def test_conv_property(n, h, w, cg, og, groups, kh, kw, sh, sw, dh, dw, pads, layout, min_k):
    if h + pads[0] + pads[2] < dh * (kh - 1) + 1 or w + pads[1] + pads[3] < dw * (kw - 1) + 1:
        return
    old = C.CONV_LAYOUT, C.TRANSPOSED_MIN_K, C.TRANSPOSED_MAX_OUT
    C.CONV_LAYOUT, C.TRANSPOSED_MIN_K, C.TRANSPOSED_MAX_OUT = layout, min_k, 10**9
    try:
        rng = np.random.default_rng(n * 100 + h * 10 + w)
        x = rng.standard_normal((n, h, w, cg * groups))
        wt = rng.standard_normal((og * groups, cg, kh, kw))
        b = rng.standard_normal(og * groups)
        y, cache = K.conv2d_forward(x, wt, b, (sh, sw), pads, (dh, dw), groups)
        ref = naive_conv(x, wt, b, (sh, sw), pads, (dh, dw), groups)
        assert rel_err(y, ref) < 1e-12
        dy = rng.standard_normal(y.shape)
        dx, dw_, _ = K.conv2d_backward(dy, cache)
        # adjoint identity: <conv(x), dy> is linear in x and in w
        assert np.isclose((dx * x).sum(), ((ref - b) * dy).sum())
        assert np.isclose((dw_ * wt).sum(), ((ref - b) * dy).sum())
    finally:
        C.CONV_LAYOUT, C.TRANSPOSED_MIN_K, C.TRANSPOSED_MAX_OUT = old


def test_conv_bad_channels():
    with pytest.raises(ValueError, match="channels"):
        K.conv2d_forward(np.zeros((1, 3, 3, 4)), np.zeros((2, 3, 1, 1)), None, (1, 1), (0, 0, 0, 0), (1, 1), 1)


# ---------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------

POOL_CASES = [
    # (kernel, stride, pads)
    ((2, 2), (2, 2), (0, 0, 0, 0)),  # non-overlapping
    ((3, 3), (2, 2), (1, 1, 1, 1)),  # overlapping, padded
    ((2, 2), (2, 2), (0, 0, 1, 1)),  # ceil-mode-like asymmetric pad
    ((3, 2), (1, 2), (1, 0, 1, 1)),  # kh != kw
    ((3, 3), (1, 1), (1, 1, 1, 1)),  # stride 1 same
]


@pytest.mark.parametrize("kernel,stride,pads", POOL_CASES)
def test_maxpool(kernel, stride, pads):
    rng = np.random.default_rng(4)
    x = distinct(rng, (2, 5, 7, 3))
    y, cache = K.maxpool2d_forward(x, kernel, stride, pads)
    np.testing.assert_array_equal(y, naive_pool(x, kernel, stride, pads, "max"))
    dy = rng.standard_normal(y.shape)
    dx = K.maxpool2d_backward(dy, cache)
    check(lambda: K.maxpool2d_forward(x, kernel, stride, pads)[0], dy, x, dx)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    dh=st.integers(1, 2),
    dw=st.integers(1, 2),
    pads=st.tuples(*[st.integers(0, 1)] * 4),
    mode=st.sampled_from(["max", "avg"]),
)
def test_pool_property(h, w, kh, kw, sh, sw, dh, dw, pads, mode):
    if pads[0] >= kh or pads[2] >= kh or pads[1] >= kw or pads[3] >= kw:
        return  # ONNX requires pads smaller than the window
    if h + pads[0] + pads[2] < dh * (kh - 1) + 1 or w + pads[1] + pads[3] < dw * (kw - 1) + 1:
        return
    rng = np.random.default_rng(h * 7 + w)
    x = distinct(rng, (2, h, w, 3))
    args = ((kh, kw), (sh, sw), pads, (dh, dw))
    fwd, bwd = (
        (K.maxpool2d_forward, K.maxpool2d_backward) if mode == "max" else (K.avgpool2d_forward, K.avgpool2d_backward)
    )
    y, cache = fwd(x, *args)
    ref = naive_pool(x, (kh, kw), (sh, sw), pads, mode, (dh, dw))
    assert y.shape == ref.shape
    finite = np.isfinite(ref)
    assert np.array_equal(finite, np.isfinite(y))
    assert rel_err(y[finite], ref[finite]) < 1e-12
    dy = rng.standard_normal(y.shape)
    dx = bwd(dy, cache)
    if mode == "avg":  # adjoint identity of a linear map
        assert np.isclose((dx * x).sum(), (dy * y).sum())
    elif finite.all():  # every window routes its gradient to exactly one input
        assert np.isclose(dx.sum(), dy.sum())


def test_maxpool_ties_go_to_first_element():
    x = np.ones((1, 4, 4, 2))
    y, cache = K.maxpool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
    dx = K.maxpool2d_backward(np.ones_like(y), cache)
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(dx[0, :, :, 0], expected)
    np.testing.assert_array_equal(dx[0, :, :, 1], expected)
    # overlapping windows: each window still sends its gradient to exactly one element
    y, cache = K.maxpool2d_forward(x, (3, 3), (1, 1), (1, 1, 1, 1))
    dx = K.maxpool2d_backward(np.ones_like(y), cache)
    assert dx.sum() == y.size


@pytest.mark.parametrize("kernel,stride,pads", POOL_CASES)
def test_avgpool(kernel, stride, pads):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 5, 7, 3))
    y, cache = K.avgpool2d_forward(x, kernel, stride, pads)
    assert rel_err(y, naive_pool(x, kernel, stride, pads, "avg")) < 1e-12
    dy = rng.standard_normal(y.shape)
    dx = K.avgpool2d_backward(dy, cache)
    check(lambda: K.avgpool2d_forward(x, kernel, stride, pads)[0], dy, x, dx)


def test_global_pools():
    rng = np.random.default_rng(6)
    x = distinct(rng, (2, 3, 4, 5))
    dy = rng.standard_normal((2, 1, 1, 5))
    y, cache = K.global_avgpool_forward(x)
    np.testing.assert_allclose(y[:, 0, 0], x.mean(axis=(1, 2)))
    check(lambda: K.global_avgpool_forward(x)[0], dy, x, K.global_avgpool_backward(dy, cache))
    y, cache = K.global_maxpool_forward(x)
    np.testing.assert_array_equal(y[:, 0, 0], x.max(axis=(1, 2)))
    check(lambda: K.global_maxpool_forward(x)[0], dy, x, K.global_maxpool_backward(dy, cache))


def test_global_maxpool_tie():
    x = np.zeros((1, 2, 2, 1))
    y, cache = K.global_maxpool_forward(x)
    dx = K.global_maxpool_backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(dx.reshape(-1), [1, 0, 0, 0])


# ---------------------------------------------------------------------------
# dense, flatten, merges
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
def test_fc(bias):
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    b = rng.standard_normal(4) if bias else None
    y, cache = K.fc_forward(x, w, b)
    np.testing.assert_allclose(y, x @ w.T + (0 if b is None else b))
    dy = rng.standard_normal(y.shape)
    dx, dw, db = K.fc_backward(dy, cache)
    check(lambda: K.fc_forward(x, w, b)[0], dy, x, dx)
    check(lambda: K.fc_forward(x, w, b)[0], dy, w, dw)
    if bias:
        check(lambda: K.fc_forward(x, w, b)[0], dy, b, db)
    else:
        assert db is None
    assert K.fc_backward(dy, cache, need_dx=False)[0] is None


def test_flatten_matches_onnx_nchw_order():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 4, 5))
    y, cache = K.flatten_forward(x)
    np.testing.assert_array_equal(y, x.transpose(0, 3, 1, 2).reshape(2, -1))
    dy = rng.standard_normal(y.shape)
    dx = K.flatten_backward(dy, cache)
    check(lambda: K.flatten_forward(x)[0], dy, x, dx)
    v, vc = K.flatten_forward(y)
    assert v is y and K.flatten_backward(dy, vc) is dy


def test_add():
    rng = np.random.default_rng(9)
    a, b, c = (rng.standard_normal((2, 3, 3, 4)) for _ in range(3))
    bias = rng.standard_normal((4,))
    y, cache = K.add_forward(a, b, c, bias)
    np.testing.assert_allclose(y, a + b + c + bias)
    dy = rng.standard_normal(y.shape)
    grads = K.add_backward(dy, cache)
    for x, g in zip((a, b, c, bias), grads):
        check(lambda: K.add_forward(a, b, c, bias)[0], dy, x, g)
    assert not np.shares_memory(grads[0], grads[1])
    assert not np.shares_memory(grads[1], grads[2])


def test_concat():
    rng = np.random.default_rng(10)
    a, b = rng.standard_normal((2, 3, 3, 2)), rng.standard_normal((2, 3, 3, 5))
    y, cache = K.concat_forward(a, b)
    assert y.shape == (2, 3, 3, 7)
    dy = rng.standard_normal(y.shape)
    da, db = K.concat_backward(dy, cache)
    check(lambda: K.concat_forward(a, b)[0], dy, a, da)
    check(lambda: K.concat_forward(a, b)[0], dy, b, db)


@pytest.mark.parametrize("gate_first", [False, True])
def test_mul_with_a_channel_gate(gate_first: bool):
    rng = np.random.default_rng(11)
    a, c = rng.standard_normal((2, 3, 3, 4)), rng.standard_normal((2, 3, 3, 4))
    gate = rng.standard_normal((2, 1, 1, 4))  # C x 1 x 1 in NHWC
    xs = (gate, a, c) if gate_first else (a, gate, c)
    y, cache = K.mul_forward(*xs)
    np.testing.assert_allclose(y, a * c * gate)
    dy = rng.standard_normal(y.shape)
    grads = K.mul_backward(dy, cache)
    for x, g in zip(xs, grads):
        check(lambda: K.mul_forward(*xs)[0], dy, x, g)


# ---------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------

ACTIVATIONS = {
    "relu": (K.relu_forward, K.relu_backward, lambda x: np.maximum(x, 0)),
    "sigmoid": (K.sigmoid_forward, K.sigmoid_backward, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (K.tanh_forward, K.tanh_backward, np.tanh),
    "swish": (K.swish_forward, K.swish_backward, lambda x: x / (1 + np.exp(-x))),
    "softmax": (K.softmax_forward, K.softmax_backward, lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(3, 6), (2, 3, 3, 4)])
def test_activation(name, shape):
    fwd, bwd, ref = ACTIVATIONS[name]
    rng = np.random.default_rng(11)
    x = away(rng, shape) * 3
    y, cache = fwd(x)
    np.testing.assert_allclose(y, ref(x), rtol=1e-12, atol=1e-15)
    dy = rng.standard_normal(shape)
    check(lambda: fwd(x)[0], dy, x, bwd(dy, cache))


@pytest.mark.parametrize("alpha", [0.01, 0.3])
def test_leakyrelu(alpha):
    rng = np.random.default_rng(12)
    x = away(rng, (4, 5))
    y, cache = K.leakyrelu_forward(x, alpha)
    np.testing.assert_allclose(y, np.where(x > 0, x, alpha * x))
    dy = rng.standard_normal(x.shape)
    check(lambda: K.leakyrelu_forward(x, alpha)[0], dy, x, K.leakyrelu_backward(dy, cache))


def test_activations_stable_at_extremes():
    x = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=np.float32)
    for name in ("sigmoid", "swish", "softmax", "tanh"):
        fwd, bwd, _ = ACTIVATIONS[name]
        y, cache = fwd(x)
        g = bwd(np.ones_like(x), cache)
        assert np.isfinite(y).all() and np.isfinite(g).all(), name
    y, _ = K.sigmoid_forward(x)
    np.testing.assert_allclose(y[0, [0, 2, 4]], [0.0, 0.5, 1.0])
    far = np.array([-30.0, -700.0, 30.0])
    np.testing.assert_allclose(K.sigmoid_forward(far)[0], 1 / (1 + np.exp(-far)), rtol=1e-13)


# ---------------------------------------------------------------------------
# dropout, batch norm, LRN
# ---------------------------------------------------------------------------


def test_dropout():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((50, 40))
    y, cache = K.dropout_forward(x, 0.25, np.random.default_rng(0), training=True)
    kept = y != 0
    assert 0.65 < kept.mean() < 0.85
    np.testing.assert_allclose(y[kept], x[kept] / 0.75)
    dy = rng.standard_normal(x.shape)
    dx = K.dropout_backward(dy, cache)

    def fwd():
        return K.dropout_forward(x, 0.25, np.random.default_rng(0), training=True)[0]

    check(fwd, dy, x, dx)
    y, cache = K.dropout_forward(x, 0.25, np.random.default_rng(0), training=False)
    assert y is x and K.dropout_backward(dy, cache) is dy


def test_dropout_deterministic_for_seed():
    x = np.ones((8, 8), dtype=np.float32)
    a, _ = K.dropout_forward(x, 0.5, np.random.default_rng(42), training=True)
    b, _ = K.dropout_forward(x, 0.5, np.random.default_rng(42), training=True)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 3, 4)])
def test_batchnorm_training(shape):
    rng = np.random.default_rng(14)
    x = rng.standard_normal(shape) * 2 + 1
    c = shape[-1]
    gamma, beta = rng.uniform(0.5, 1.5, c), rng.standard_normal(c)
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    y, cache, nm, nv = K.batchnorm_forward(x, gamma, beta, rm, rv, 1e-5, 0.1, True)
    x2 = x.reshape(-1, c)
    ref = (x2 - x2.mean(0)) / np.sqrt(x2.var(0) + 1e-5) * gamma + beta
    np.testing.assert_allclose(y.reshape(-1, c), ref, rtol=1e-12)
    np.testing.assert_allclose(nm, 0.9 * rm + 0.1 * x2.mean(0))
    np.testing.assert_allclose(nv, 0.9 * rv + 0.1 * x2.var(0, ddof=1))
    dy = rng.standard_normal(shape)
    dx, dgamma, dbeta = K.batchnorm_backward(dy, cache)

    def fwd():
        return K.batchnorm_forward(x, gamma, beta, rm, rv, 1e-5, 0.1, True)[0]

    check(fwd, dy, x, dx)
    check(fwd, dy, gamma, dgamma)
    check(fwd, dy, beta, dbeta)


def test_batchnorm_inference():
    rng = np.random.default_rng(15)
    x = rng.standard_normal((2, 3, 3, 4))
    gamma, beta = rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    y, cache, nm, nv = K.batchnorm_forward(x, gamma, beta, rm, rv, 1e-3, 0.1, False)
    np.testing.assert_allclose(y, (x - rm) / np.sqrt(rv + 1e-3) * gamma + beta, rtol=1e-12)
    assert nm is rm and nv is rv
    dy = rng.standard_normal(x.shape)
    dx, dgamma, dbeta = K.batchnorm_backward(dy, cache)

    def fwd():
        return K.batchnorm_forward(x, gamma, beta, rm, rv, 1e-3, 0.1, False)[0]

    check(fwd, dy, x, dx)
    check(fwd, dy, gamma, dgamma)
    check(fwd, dy, beta, dbeta)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 16])  # 16: a window wider than the 7 channels
def test_lrn(size):
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, 2, 3, 7))
    args = (size, 0.5, 0.75, 2.0)
    y, cache = K.lrn_forward(x, *args)
    np.testing.assert_allclose(y, naive_lrn(x, *args), rtol=1e-12)
    dy = rng.standard_normal(x.shape)
    check(lambda: K.lrn_forward(x, *args)[0], dy, x, K.lrn_backward(dy, cache))


# ---------------------------------------------------------------------------
# dtype contract
# ---------------------------------------------------------------------------


def test_float32_stays_float32():
    rng = np.random.default_rng(17)
    f32 = np.float32
    x = rng.standard_normal((2, 6, 6, 4)).astype(f32)
    w = rng.standard_normal((8, 4, 3, 3)).astype(f32)
    b = np.zeros(8, f32)
    outs = []
    y, c = K.conv2d_forward(x, w, b, (2, 2), (0, 0, 1, 1), (1, 1), 1)
    outs += [y, *K.conv2d_backward(y, c)]
    y, c = K.conv2d_forward(x, w, b, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    outs += [y, *K.conv2d_backward(y, c)]
    for fwd, bwd in [(K.maxpool2d_forward, K.maxpool2d_backward), (K.avgpool2d_forward, K.avgpool2d_backward)]:
        y, c = fwd(x, (3, 3), (2, 2), (1, 1, 1, 1))
        outs += [y, bwd(y, c)]
    for fwd, bwd in [
        (K.global_avgpool_forward, K.global_avgpool_backward),
        (K.global_maxpool_forward, K.global_maxpool_backward),
        (K.flatten_forward, K.flatten_backward),
    ]:
        y, c = fwd(x)
        outs += [y, bwd(y, c)]
    for fwd, bwd, _ in ACTIVATIONS.values():
        y, c = fwd(x)
        outs += [y, bwd(y, c)]
    y, c = K.leakyrelu_forward(x, 0.2)
    outs += [y, K.leakyrelu_backward(y, c)]
    y, c = K.dropout_forward(x, 0.3, np.random.default_rng(0), True)
    outs += [y, K.dropout_backward(y, c)]
    ones, zeros = np.ones(4, f32), np.zeros(4, f32)
    for training in (True, False):
        y, c, nm, nv = K.batchnorm_forward(x, ones, zeros, zeros, ones, 1e-5, 0.1, training)
        outs += [y, nm, nv, *K.batchnorm_backward(y, c)]
    y, c = K.lrn_forward(x, 3, 1e-4, 0.75, 1.0)
    outs += [y, K.lrn_backward(y, c)]
    y, c = K.fc_forward(x.reshape(2, -1), rng.standard_normal((3, 144)).astype(f32), zeros[:3])
    outs += [y, *K.fc_backward(y, c)]
    y, c = K.add_forward(x, x)
    outs += [y, *K.add_backward(y, c)]
    y, c = K.concat_forward(x, x)
    outs += [y, *K.concat_backward(y, c)]
    assert all(o.dtype == f32 for o in outs), [o.dtype for o in outs]


def test_clear_buffers_keeps_results():
    rng = np.random.default_rng(18)
    x = rng.standard_normal((1, 5, 5, 2))
    w = rng.standard_normal((3, 2, 3, 3))
    y1, _ = K.conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    K.clear_buffers()
    y2, _ = K.conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    np.testing.assert_array_equal(y1, y2)
