"""The embedded digits data set, the entry points and the cheap import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import netdsl.data as data
from netdsl.data import DataError, load_arrays, load_dataset
from netdsl.data import download as dl
from netdsl.data.builtin import load_digits

SKLEARN_CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that would open a URL."""

    def refuse(url: str, timeout: float = 0.0) -> None:
        raise AssertionError(f"test tried to open {url}")

    monkeypatch.setattr(dl, "urlopen", refuse)


def test_raw_digits_match_scikit_learn() -> None:
    raw = load_digits()
    assert raw.x.shape == (1797, 8, 8) and raw.x.dtype == np.uint8
    assert raw.y.shape == (1797,)
    assert raw.x.min() == 0 and raw.x.max() == 16
    assert np.bincount(raw.y, minlength=10).tolist() == SKLEARN_CLASS_COUNTS
    # First row of scikit-learn's digits.csv.gz (a zero).
    assert raw.x[0, 1].tolist() == [0, 0, 13, 15, 10, 15, 5, 0]
    assert int(raw.y[0]) == 0


def test_digits_dataset_as_vectors() -> None:
    ds = load_dataset("digits", (64,))
    assert ds.name == "digits" and ds.num_classes == 10
    assert ds.notices == ["digits: flattened 8x8 images to vectors of 64 to fit input(64)"]
    assert ds.x_train.shape == (1617, 64) and ds.x_val.shape == (180, 64)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.y_val.dtype == np.int64
    both = np.concatenate([ds.x_train, ds.x_val])
    assert both.min() == 0.0 and both.max() == 1.0
    counts = np.bincount(np.concatenate([ds.y_train, ds.y_val]), minlength=10)
    assert counts.tolist() == SKLEARN_CLASS_COUNTS


def test_digits_pixels_are_scaled_by_16() -> None:
    raw = load_digits()
    ds = load_dataset("digits", (1, 8, 8), val_split=0.0)
    assert ds.x_train.shape == (1797, 1, 8, 8)
    restored = np.rint(ds.x_train[:, 0] * 16).astype(np.uint8)
    assert np.allclose(ds.x_train[:, 0] * 16, restored)
    assert sorted(map(bytes, restored)) == sorted(map(bytes, raw.x))


def test_digits_split_is_deterministic_and_seeded() -> None:
    a = load_dataset("digits", (64,), seed=3)
    b = load_dataset("digits", (64,), seed=3)
    c = load_dataset("digits", (64,), seed=4)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.x_val, c.x_val)


def test_digits_val_split_sizes() -> None:
    assert load_dataset("digits", (64,), val_split=0.25).x_val.shape == (449, 64)
    none = load_dataset("digits", (64,), val_split=0.0)
    assert none.x_train.shape == (1797, 64)
    assert none.x_val.shape == (0, 64) and none.y_val.shape == (0,)
    assert none.x_val.dtype == np.float32 and none.y_val.dtype == np.int64


def test_digits_resized_for_a_28x28_net() -> None:
    ds = load_dataset("digits", (1, 28, 28))
    assert ds.x_train.shape == (1617, 1, 28, 28)
    assert ds.notices == ["digits: resized 8x8 -> 28x28 to fit input(1, 28, 28)"]
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0


def test_digits_to_3_channels_is_noted() -> None:
    ds = load_dataset("digits", (3, 32, 32), val_split=0.0)
    assert ds.x_train.shape == (1797, 3, 32, 32)
    assert np.array_equal(ds.x_train[:, 0], ds.x_train[:, 2])
    assert "digits: replicated 1 channel -> 3 to fit input(3, 32, 32)" in ds.notices
    assert "digits: resized 8x8 -> 32x32 to fit input(3, 32, 32)" in ds.notices


def test_digits_cannot_fit_a_vector_of_10() -> None:
    with pytest.raises(DataError) as err:
        load_dataset("digits", (10,))
    assert str(err.value) == "digits: cannot fit 8x8 images (64 values) to input(10)"


def test_load_arrays_returns_the_validation_portion() -> None:
    ds = load_dataset("digits", (64,), seed=7)
    ev = load_arrays("digits", (64,), seed=7)
    assert np.array_equal(ev.x, ds.x_val) and np.array_equal(ev.y, ds.y_val)
    assert ev.num_classes == 10 and ev.name == "digits"
    assert load_arrays("digits", (64,), val_split=0.0).x.shape == (1797, 64)


def test_unknown_names_suggest_the_close_one() -> None:
    with pytest.raises(DataError) as err:
        load_dataset("mnsit", (64,))
    message = str(err.value)
    assert "did you mean 'mnist'?" in message
    for name in ("digits", "mnist", "fashion_mnist", "cifar10"):
        assert name in message
    with pytest.raises(DataError, match="unknown data set 'zzz'; known: digits"):
        load_dataset("zzz", (64,))
    with pytest.raises(DataError, match=r"unknown data file type 'data\.txt'"):
        load_dataset("data.txt", (64,))


def test_name_aliases_and_case() -> None:
    assert load_dataset("DIGITS", (64,)).name == "digits"


def test_bad_input_shape() -> None:
    with pytest.raises(DataError, match=r"input\(1, 2, 8, 8, 8\)"):
        load_dataset("digits", (1, 2, 8, 8, 8))
    with pytest.raises(DataError, match=r"samples of shape \(8, 8\) do not fit input\(2, 8, 8, 8\)"):
        load_dataset("digits", (2, 8, 8, 8))


def test_a_sequence_input_takes_samples_of_its_shape() -> None:
    """input(8, 8) is a sequence (8 channels of length 8): the 8x8 digits fit it as they are."""
    data = load_dataset("digits", (8, 8))
    assert data.x_train.shape[1:] == (8, 8)


def test_bad_val_split() -> None:
    with pytest.raises(DataError, match="val_split must be in"):
        load_dataset("digits", (64,), val_split=1.0)


def test_package_data_and_license_ship_together() -> None:
    here = Path(data.__file__).parent
    assert (here / "digits.npz").stat().st_size < 100_000
    text = (here / "DIGITS_LICENSE.txt").read_text()
    assert "CC BY 4.0" in text and "Alpaydin" in text


def test_import_pulls_only_stdlib_and_numpy() -> None:
    # netdsl.data itself adds only stdlib modules (numpy loads on first use); the parent package is excluded.
    code = (
        "import sys, netdsl; before = set(sys.modules); import netdsl.data; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "bad = new - set(sys.stdlib_module_names) - {'numpy', 'netdsl'}; "
        "print(sorted(bad))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_load_arrays_portions_partition_the_data() -> None:
    val = load_arrays("digits", (64,), val_split=0.25, seed=3)
    train = load_arrays("digits", (64,), val_split=0.25, seed=3, portion="train")
    every = load_arrays("digits", (64,), val_split=0.25, seed=3, portion="all")
    split = load_dataset("digits", (64,), val_split=0.25, seed=3)
    assert np.array_equal(val.x, split.x_val) and np.array_equal(train.x, split.x_train)
    assert len(every.x) == len(val.x) + len(train.x) == 1797
    with pytest.raises(DataError, match="unknown portion 'validation'"):
        load_arrays("digits", (64,), portion="validation")
    with pytest.raises(DataError, match="digits has no official test split"):
        load_arrays("digits", (64,), portion="test")
