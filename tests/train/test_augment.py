"""Augmentation: each transform against a per-sample loop, seeded and restartable from its state."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from netdsl.train.augment import Augmenter, as_images, cutout, flip, pixels, rotate, translate
from netdsl.train.config import Transform


def batch(n: int = 16, channels: int = 3, h: int = 9, w: int = 7) -> np.ndarray:
    return np.random.default_rng(1).random((n, channels, h, w)).astype(np.float32)


def twin(seed: int = 5) -> tuple[np.random.Generator, np.random.Generator]:
    rng = np.random.default_rng(seed)
    return rng, copy.deepcopy(rng)


def test_flip_mirrors_the_drawn_half() -> None:
    x = batch(200)
    rng, ref = twin()
    out = flip(x, rng)
    chosen = ref.random(len(x)) < 0.5
    assert np.array_equal(out[chosen], x[chosen][..., ::-1]) and np.array_equal(out[~chosen], x[~chosen])
    assert 60 < chosen.sum() < 140


def shifted(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """out[i, j] = image[i - dy, j - dx], zeros where that is outside."""
    out = np.zeros_like(image)
    h, w = image.shape[-2:]
    for i in range(h):
        for j in range(w):
            if 0 <= i - dy < h and 0 <= j - dx < w:
                out[:, i, j] = image[:, i - dy, j - dx]
    return out


@pytest.mark.parametrize("max_dy, max_dx", [(2, 3), (0, 2), (4, 0)])
def test_translate_is_a_zero_filled_shift_within_the_bounds(max_dy: int, max_dx: int) -> None:
    x = batch()
    rng, ref = twin()
    out = translate(x, max_dy, max_dx, rng)
    dy = ref.integers(-max_dy, max_dy + 1, size=len(x))
    dx = ref.integers(-max_dx, max_dx + 1, size=len(x))
    for k in range(len(x)):
        assert np.array_equal(out[k], shifted(x[k], dy[k], dx[k]))
    assert out.flags.c_contiguous or out.shape == x.shape


def test_shift_fraction_and_pixels() -> None:
    assert pixels(0.1, 32) == 3 and pixels(0.5, 9) == 4 and pixels(3, 32) == 3


def rotated(image: np.ndarray, angle: float) -> np.ndarray:
    """A scalar bilinear rotation about the centre (the reference)."""
    c, h, w = image.shape
    out = np.zeros_like(image, dtype=np.float64)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    for i in range(h):
        for j in range(w):
            sy = math.cos(angle) * (i - cy) - math.sin(angle) * (j - cx) + cy
            sx = math.sin(angle) * (i - cy) + math.cos(angle) * (j - cx) + cx
            y0, x0 = math.floor(sy), math.floor(sx)
            for yy, xx in ((y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)):
                if 0 <= yy < h and 0 <= xx < w:
                    weight = (1 - abs(sy - yy)) * (1 - abs(sx - xx))
                    out[:, i, j] += weight * image[:, yy, xx]
    return out


def test_rotate_matches_a_scalar_bilinear_rotation() -> None:
    x = batch(6, 2, 8, 8)
    rng, ref = twin()
    out = rotate(x, 30.0, rng)
    angles = np.deg2rad(ref.uniform(-30, 30, size=len(x)))
    for k in range(len(x)):
        np.testing.assert_allclose(out[k], rotated(x[k], angles[k]), atol=1e-5)
    assert out.dtype == np.float32


def test_rotate_by_90_degrees_is_rot90() -> None:
    x = batch(1, 1, 5, 5)

    class Fixed:
        def uniform(self, low, high, size):
            return np.full(size, 90.0)

    out = rotate(x, 90.0, Fixed())  # type: ignore[arg-type]
    np.testing.assert_allclose(out[0, 0], np.rot90(x[0, 0], k=-1), atol=1e-6)


def test_cutout_zeros_one_clipped_square_per_image() -> None:
    x = batch(32, 3, 10, 10) + 1  # no zeros before
    rng, ref = twin()
    out = cutout(x, 4, rng)
    top = ref.integers(0, 10, size=32) - 2
    left = ref.integers(0, 10, size=32) - 2
    for k in range(32):
        mask = np.zeros((10, 10), bool)
        mask[max(top[k], 0) : max(top[k] + 4, 0), max(left[k], 0) : max(left[k] + 4, 0)] = True
        assert np.array_equal(out[k] == 0, np.broadcast_to(mask, (3, 10, 10)))
        assert np.array_equal(out[k][:, ~mask], x[k][:, ~mask])


SECTION = (
    Transform("flip"),
    Transform("shift", (0.1, 0.1)),
    Transform("crop", (2,)),
    Transform("rotate", (15.0,)),
    Transform("cutout", (3,)),
)


def test_augmenter_is_seeded_and_continues_from_its_state() -> None:
    x = batch(8, 3, 12, 12)
    a, b = Augmenter(SECTION, seed=3), Augmenter(SECTION, seed=3)
    first = a(x)
    assert np.array_equal(first, b(x)) and not np.array_equal(first, Augmenter(SECTION, seed=4)(x))
    saved = copy.deepcopy(a.state)
    expected = a(x)
    c = Augmenter(SECTION, seed=99)
    c.state = saved
    assert np.array_equal(c(x), expected)
    assert not np.array_equal(x, first) and x.dtype == first.dtype == np.float32


def test_square_vectors_are_augmented_as_images_and_others_refused() -> None:
    x = batch(4, 1, 8, 8)
    flat = x.reshape(4, 64)
    out = Augmenter((Transform("crop", (2,)),), seed=0)(flat)
    assert out.shape == (4, 64)
    assert np.array_equal(out.reshape(4, 1, 8, 8), Augmenter((Transform("crop", (2,)),), seed=0)(x))
    with pytest.raises(ValueError, match="square"):
        as_images(np.zeros((2, 10), np.float32))
