"""netdsl.datasets.load: the built-in sets (and files) as the arrays `netdsl train` trains on; Model.fit and
Model.evaluate shape samples of another shape as `train` does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import netdsl
from netdsl.data import DataError, load_dataset

SMALL = """network small {
    input(1, 12, 12)
    conv(4, 3) - relu - maxpool(2)
    fc(10)
}
train {
    data = digits
    epochs = 1
    batch = 64
}
"""


def test_digits_in_their_own_shape() -> None:
    x, y = netdsl.datasets.load("digits")
    x_val, y_val = netdsl.datasets.load("digits", split="val")
    assert x.shape == (1617, 1, 8, 8) and x_val.shape == (180, 1, 8, 8)
    assert x.dtype == np.float32 and y.dtype == np.int64 and 0 <= x.min() and x.max() <= 1
    everything, _ = netdsl.datasets.load("digits", split="all")
    assert len(everything) == len(x) + len(x_val) == 1797


def test_the_arrays_are_what_train_trains_and_validates_on() -> None:
    data = load_dataset("digits", (1, 12, 12), val_split=0.2, seed=3)
    x, y = netdsl.datasets.load("digits", shape=(1, 12, 12), val_split=0.2, seed=3)
    x_val, y_val = netdsl.datasets.load("digits", split="val", shape=(1, 12, 12), val_split=0.2, seed=3)
    np.testing.assert_array_equal(x, data.x_train)
    np.testing.assert_array_equal(y, data.y_train)
    np.testing.assert_array_equal(x_val, data.x_val)
    np.testing.assert_array_equal(y_val, data.y_val)


def test_a_vector_shape_flattens() -> None:
    x, _ = netdsl.datasets.load("digits", split="val", shape=(64,))
    assert x.shape == (180, 64)


def test_a_file_keeps_its_own_shape(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "hwc.npz", x=rng.uniform(0, 1, (20, 6, 5, 3)).astype(np.float32), y=np.arange(20) % 2)
    x, y = netdsl.datasets.load(str(tmp_path / "hwc.npz"), split="all")
    assert x.shape == (20, 3, 6, 5) and list(y[:3]) == [0, 1, 0]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: netdsl.datasets.load("digits", split="validation"), "unknown split 'validation'"),
        (lambda: netdsl.datasets.load("digit"), "did you mean 'digits'"),
        (lambda: netdsl.datasets.load("digits", split="test"), "no official test split"),
    ],
)
def test_mistakes_are_one_line_data_errors(call, message: str) -> None:
    with pytest.raises(DataError, match=message):
        call()


def test_fit_resizes_as_train_does(capsys: pytest.CaptureFixture) -> None:
    native, y = netdsl.datasets.load("digits")
    resized, _ = netdsl.datasets.load("digits", shape=(1, 12, 12))
    first, second = netdsl.loads(SMALL), netdsl.loads(SMALL)
    history = first.fit(native, y, verbose=1)
    assert "x: resized 8x8 -> 12x12 to fit input(1, 12, 12)" in capsys.readouterr().out
    expected = second.fit(resized, y, verbose=0)
    assert history.history["loss"] == expected.history["loss"]
    assert first.evaluate(native[:50], y[:50]) == second.evaluate(resized[:50], y[:50])


def test_fit_still_refuses_what_cannot_be_shaped() -> None:
    with pytest.raises(ValueError, match="cannot fit"):
        netdsl.loads(SMALL).fit(np.zeros((4, 7), dtype=np.float32), np.zeros(4, dtype=np.int64), verbose=0)
