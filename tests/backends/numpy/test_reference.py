"""netdsl/reference.py, each op's NCHW NumPy reference (the generated NumPy module's helpers), is the
oracle of the NumPy backend's fast NHWC kernels."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from backends.numpy.ops import test_activation as activation_kernels
from backends.numpy.ops import test_conv as conv_kernels
from backends.numpy.ops import test_embedding as embedding_kernels
from backends.numpy.ops import test_normalization as normalization_kernels
from backends.numpy.ops import test_resample as resample_kernels
from hypothesis import given, settings
from hypothesis import strategies as st

from netdsl import reference as R
from netdsl.backends.numpy import kernels as K


def nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def close(kernel_nhwc: np.ndarray, reference_nchw: np.ndarray) -> None:
    np.testing.assert_allclose(nchw(kernel_nhwc), reference_nchw, rtol=1e-10, atol=1e-12)


pads_st = st.tuples(*[st.integers(0, 2)] * 4)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    h=st.integers(3, 8),
    w=st.integers(3, 8),
    cg=st.integers(1, 3),
    og=st.integers(1, 3),
    groups=st.integers(1, 2),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    sh=st.integers(1, 2),
    sw=st.integers(1, 3),
    dh=st.integers(1, 2),
    dw=st.integers(1, 2),
    pads=pads_st,
    bias=st.booleans(),
)
def test_conv(h, w, cg, og, groups, kh, kw, sh, sw, dh, dw, pads, bias) -> None:
    if h + pads[0] + pads[2] < dh * (kh - 1) + 1 or w + pads[1] + pads[3] < dw * (kw - 1) + 1:
        return
    rng = np.random.default_rng(h * 31 + w)
    x = rng.standard_normal((2, cg * groups, h, w))
    weight = rng.standard_normal((og * groups, cg, kh, kw))
    b = rng.standard_normal(og * groups) if bias else None
    y, _ = K.conv2d_forward(nhwc(x), weight, b, (sh, sw), pads, (dh, dw), groups)
    close(y, R.REFERENCES["conv"](x, weight, b, (sh, sw), pads, (dh, dw), groups))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    h=st.integers(2, 8),
    w=st.integers(2, 8),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    pads=st.tuples(*[st.integers(0, 1)] * 4),
    op=st.sampled_from(["maxpool", "avgpool"]),
)
def test_pools(h, w, kh, kw, sh, sw, pads, op) -> None:
    if max(pads[0], pads[2]) > kh // 2 or max(pads[1], pads[3]) > kw // 2 or h < kh or w < kw:
        return  # netdsl pads a pool by at most half its window
    x = np.random.default_rng(h * 13 + w).standard_normal((2, 3, h, w))
    kernel = K.maxpool2d_forward if op == "maxpool" else K.avgpool2d_forward
    y, _ = kernel(nhwc(x), (kh, kw), (sh, sw), pads)
    close(y, R.REFERENCES[op](x, (kh, kw), (sh, sw), pads))


def test_batchnorm_at_inference() -> None:
    rng = np.random.default_rng(4)
    x, gamma, beta, mean = (rng.standard_normal(s) for s in ((3, 5, 4, 4), 5, 5, 5))
    var = rng.uniform(0.5, 2.0, 5)
    y, *_ = K.batchnorm_forward(nhwc(x), gamma, beta, mean, var, 1e-3, 0.1, training=False)
    close(y, R.REFERENCES["batchnorm"](x, gamma, beta, mean, var, 1e-3))


def test_lrn_odd_and_even_windows() -> None:
    x = np.random.default_rng(5).standard_normal((2, 7, 3, 3))
    for size in (1, 2, 3, 4, 5, 8):
        y, _ = K.lrn_forward(nhwc(x), size, 0.3, 0.75, 1.5)
        close(y, R.REFERENCES["lrn"](x, size, 0.3, 0.75, 1.5))


def test_sigmoid_and_softmax_over_channels() -> None:
    x = np.random.default_rng(6).standard_normal((2, 5, 3, 4)) * 40  # large |x| too
    close(K.sigmoid(nhwc(x)), R.REFERENCES["sigmoid"](x))
    close(K.softmax_forward(nhwc(x))[0], R.REFERENCES["softmax"](x))
    vectors = x[:, :, 0, 0]
    np.testing.assert_allclose(K.softmax_forward(vectors)[0], R.REFERENCES["softmax"](vectors), rtol=1e-12)


ORACLE_TESTS: dict[str, Callable] = {
    "conv": test_conv,
    "maxpool": test_pools,
    "avgpool": test_pools,
    "batchnorm": test_batchnorm_at_inference,
    "lrn": test_lrn_odd_and_even_windows,
    "sigmoid": test_sigmoid_and_softmax_over_channels,
    "softmax": test_sigmoid_and_softmax_over_channels,
    # the section-9 ops: their kernels' tests hold them to these references
    **dict.fromkeys(
        ("gelu", "relu6", "hardsigmoid", "hardswish", "elu", "selu", "softplus", "mish"),
        activation_kernels.test_activation_kernel,
    ),
    "prelu": activation_kernels.test_prelu_kernel,
    "layernorm": normalization_kernels.test_layernorm,
    "groupnorm": normalization_kernels.test_groupnorm,
    "scale": normalization_kernels.test_scale,
    "upsample": resample_kernels.test_upsample_bilinear,
    "deconv": conv_kernels.test_deconv,
    "dwconv": test_conv,  # dwconv runs conv's kernel and reference
    "zeropad": resample_kernels.test_zeropad,
    "embedding": embedding_kernels.test_embedding_kernel,
    "shuffle": resample_kernels.test_shuffle,
}


def test_every_reference_is_an_oracle_here() -> None:
    assert set(R.REFERENCES) <= set(ORACLE_TESTS), sorted(set(R.REFERENCES) - set(ORACLE_TESTS))
