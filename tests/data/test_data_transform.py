"""Shaping to the network input (layout, channels, bilinear resize), labels and validation splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netdsl.data import DataError, fit_to_input
from netdsl.data.transform import labels_to_classes, resize_bilinear, split_indices


def fit_error(x: np.ndarray, shape: tuple[int, ...], name: str = "data") -> str:
    """The one-line DataError that fitting x to shape raises."""
    with pytest.raises(DataError) as err:
        fit_to_input(x, shape, name)
    assert "\n" not in str(err.value)
    return str(err.value)


# ---------------------------------------------------------------- resize


@settings(max_examples=40, deadline=None)
@given(
    value=st.floats(-100, 100, allow_nan=False),
    h_in=st.integers(1, 12),
    w_in=st.integers(1, 12),
    h_out=st.integers(1, 40),
    w_out=st.integers(1, 40),
)
def test_resize_keeps_a_constant_image_constant(value: float, h_in: int, w_in: int, h_out: int, w_out: int) -> None:
    x = np.full((2, 1, h_in, w_in), value, dtype=np.float32)
    out = resize_bilinear(x, h_out, w_out)
    assert out.shape == (2, 1, h_out, w_out) and out.dtype == np.float32
    assert np.allclose(out, value, atol=1e-4 * max(1.0, abs(value)))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 10), st.integers(2, 40), st.integers(0, 2**31 - 1))
def test_resize_stays_within_the_input_range(n_in: int, n_out: int, seed: int) -> None:
    x = np.random.default_rng(seed).random((1, n_in, n_in), dtype=np.float32)
    out = resize_bilinear(x, n_out, n_out)
    assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6


def test_resize_half_pixel_centers() -> None:
    x = np.array([[0.0, 1.0]], dtype=np.float32)
    assert np.allclose(resize_bilinear(x, 1, 4), [[0.0, 0.25, 0.75, 1.0]])
    assert np.allclose(resize_bilinear(np.array([[0.0, 1.0, 2.0, 3.0]]), 1, 2), [[0.5, 2.5]])


def test_resize_same_size_is_identity() -> None:
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    assert np.array_equal(resize_bilinear(x, 4, 4), x)


def test_resize_separable_ramp() -> None:
    ramp = np.tile(np.arange(8, dtype=np.float32), (8, 1))[None]
    out = resize_bilinear(ramp, 28, 28)
    assert np.allclose(out[0], out[0, :1])  # every row the same
    assert np.all(np.diff(out[0, 0]) >= 0)


# ---------------------------------------------------------------- fit_to_input


def test_gray_images_get_one_channel() -> None:
    x = np.random.default_rng(0).random((5, 8, 8))
    out, notices = fit_to_input(x, (1, 8, 8))
    assert out.shape == (5, 1, 8, 8) and out.dtype == np.float32 and notices == []
    assert np.allclose(out[:, 0], x)


def test_flatten_8x8_to_64() -> None:
    x = np.arange(2 * 64).reshape(2, 8, 8)
    out, notices = fit_to_input(x, (64,))
    assert out.shape == (2, 64) and out[1, 9] == x[1, 1, 1]
    assert notices == ["data: flattened 8x8 images to vectors of 64 to fit input(64)"]


def test_resize_notice_text() -> None:
    out, notices = fit_to_input(np.ones((3, 8, 8), np.uint8), (1, 28, 28), "digits")
    assert out.shape == (3, 1, 28, 28) and np.allclose(out, 1.0)
    assert notices == ["digits: resized 8x8 -> 28x28 to fit input(1, 28, 28)"]


def test_vector_of_10_from_8x8_is_an_error() -> None:
    assert fit_error(np.zeros((3, 8, 8)), (10,), "digits") == "digits: cannot fit 8x8 images (64 values) to input(10)"


def test_square_vector_input_resizes_then_flattens() -> None:
    out, notices = fit_to_input(np.zeros((2, 8, 8)), (784,), "digits")
    assert out.shape == (2, 784)
    assert notices == ["digits: resized 8x8 -> 28x28 and flattened to fit input(784)"]


def test_hwc_color_images_become_chw() -> None:
    x = np.random.default_rng(1).random((4, 32, 32, 3)).astype(np.float32)
    out, notices = fit_to_input(x, (3, 32, 32))
    assert out.shape == (4, 3, 32, 32)
    assert notices == ["data: moved the channels of 32x32x3 images first (HxWxC -> CxHxW) to fit input(3, 32, 32)"]
    assert out[2, 1, 5, 7] == x[2, 5, 7, 1]


def test_hwc_single_channel() -> None:
    x = np.random.default_rng(2).random((4, 28, 28, 1))
    out, _ = fit_to_input(x, (1, 28, 28))
    assert np.allclose(out[:, 0], x[..., 0])


def test_chw_kept_and_hwc_resized() -> None:
    x = np.random.default_rng(3).random((2, 3, 10, 10))
    out, notices = fit_to_input(x, (3, 10, 10))
    assert np.allclose(out, x) and notices == []
    out, notices = fit_to_input(np.zeros((2, 16, 16, 3)), (3, 32, 32), "pics")
    assert out.shape == (2, 3, 32, 32)
    assert notices == [
        "pics: moved the channels of 16x16x3 images first (HxWxC -> CxHxW) to fit input(3, 32, 32)",
        "pics: resized 16x16 -> 32x32 to fit input(3, 32, 32)",
    ]


def test_hwc_flattened_in_chw_order() -> None:
    x = np.random.default_rng(4).random((2, 4, 4, 3))
    out, _ = fit_to_input(x, (48,))
    assert np.allclose(out, np.moveaxis(x, 3, 1).reshape(2, 48))


def test_gray_to_three_channels_is_noted() -> None:
    out, notices = fit_to_input(np.ones((2, 28, 28)), (3, 28, 28), "mnist")
    assert out.shape == (2, 3, 28, 28) and np.allclose(out, 1.0)
    assert notices == ["mnist: replicated 1 channel -> 3 to fit input(3, 28, 28)"]


def test_color_to_gray_uses_luma() -> None:
    x = np.zeros((1, 3, 2, 2), np.float32)
    x[:, 1] = 1.0  # pure green
    out, notices = fit_to_input(x, (1, 2, 2), "c")
    assert np.allclose(out, 0.587)
    assert notices == ["c: converted 3 channels (RGB) -> 1 (gray) to fit input(1, 2, 2)"]


def test_channel_count_that_cannot_fit() -> None:
    assert (
        fit_error(np.zeros((2, 3, 8, 8)), (2, 8, 8)) == "data: cannot fit 3x8x8 images (3 channels) to input(2, 8, 8)"
    )
    assert fit_error(np.zeros((2, 5, 8, 8)), (3, 8, 8)) == (
        "data: cannot tell the channel axis of 5x8x8 images (expected CHW or HWC with 1 or 3 channels) "
        "for input(3, 8, 8)"
    )


def test_flat_vectors_reshaped_when_sizes_match() -> None:
    x = np.arange(2 * 784, dtype=np.float32).reshape(2, 784)
    out, notices = fit_to_input(x, (1, 28, 28))
    assert notices == ["data: read vectors of 784 as 1x28x28 images to fit input(1, 28, 28)"]
    assert np.array_equal(out.reshape(2, 784), x)


def test_unusable_arrays_and_input_shapes() -> None:
    assert "got an array of shape (5,)" in fit_error(np.zeros(5), (5,))
    assert (
        fit_error(np.zeros((2, 8, 8)), (1, 2, 8, 8, 8))
        == "network input(1, 2, 8, 8, 8): data can be shaped only to (C, H, W), (C, L), (C, D, H, W) or (N,)"
    )
    assert fit_error(np.zeros((2, 8, 8)), (2, 8, 8, 8)).startswith(
        "data: samples of shape (8, 8) do not fit input(2, 8, 8, 8): volumes take samples"
    )
    assert fit_to_input(np.zeros((2, 8, 8)), (8, 8))[0].shape == (2, 8, 8)  # a sequence: 8 channels of 8
    assert fit_to_input(np.zeros((2, 24)), (3, 8))[1] == ["data: read vectors of 24 as 3x8 samples"]
    assert "input(0)" in fit_error(np.zeros((2, 4)), (0,))
    assert fit_error(np.zeros((2, 5)), (1, 4, 4)) == "data: cannot fit vectors of 5 to input(1, 4, 4)"


def test_output_never_aliases_the_input() -> None:
    x = np.ones((2, 4), dtype=np.float32)
    out, _ = fit_to_input(x, (4,))
    assert out.dtype == np.float32 and out.flags["C_CONTIGUOUS"]


# ---------------------------------------------------------------- labels and splits


def test_labels_to_classes() -> None:
    assert labels_to_classes(np.array([[1], [0]]), "d").tolist() == [1, 0]
    assert labels_to_classes(np.array([2.0, 0.0]), "d").dtype == np.int64
    assert labels_to_classes(np.eye(4)[[3, 1]], "d").tolist() == [3, 1]
    with pytest.raises(DataError, match="d: label 2.5 at index 0 is not an integer"):
        labels_to_classes(np.array([2.5]), "d")
    with pytest.raises(DataError, match="d: label -3 is negative"):
        labels_to_classes(np.array([1, -3]), "d")


@pytest.mark.parametrize(
    ("n", "val_split", "n_val"),
    [(100, 0.1, 10), (1797, 0.1, 180), (1797, 0.0, 0), (10, 0.25, 2), (3, 0.01, 1), (1, 0.1, 0)],
)
def test_split_sizes(n: int, val_split: float, n_val: int) -> None:
    train, val = split_indices(n, val_split, 0, "d")
    assert len(val) == n_val and len(train) == n - n_val
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(n))


def test_split_is_seeded_and_shuffled() -> None:
    a = split_indices(50, 0.2, 5, "d")
    b = split_indices(50, 0.2, 5, "d")
    c = split_indices(50, 0.2, 6, "d")
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[1], c[1])
    assert not np.array_equal(a[0], np.sort(a[0]))


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5])
def test_split_rejects_bad_fractions(bad: float) -> None:
    with pytest.raises(DataError, match=r"d: val_split must be in \[0, 1\)"):
        split_indices(10, bad, 0, "d")
