"""User data files: .npz (x, y) and .csv (last column the label), happy paths and each bad-file case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from netdsl.data import DataError, load_arrays, load_dataset

VALUES_HINT = "(real numbers to fit: target = values in the train section)"


def message(spec: str | Path, shape: tuple[int, ...] = (4,)) -> str:
    """The one-line DataError that loading spec raises."""
    with pytest.raises(DataError) as err:
        load_dataset(str(spec), shape)
    text = str(err.value)
    assert "\n" not in text
    return text


def write_npz(path: Path, **arrays: np.ndarray) -> Path:
    """Save arrays into an .npz file and return its path."""
    np.savez(path, **arrays)
    return path


# ---------------------------------------------------------------- npz


def test_npz_uint8_images(tmp_path: Path) -> None:
    x = np.full((20, 8, 8), 255, dtype=np.uint8)
    y = np.arange(20) % 4
    path = write_npz(tmp_path / "set.npz", x=x, y=y)
    ds = load_dataset(str(path), (1, 8, 8), val_split=0.25, seed=1)
    assert ds.name == "set.npz" and ds.num_classes == 4
    assert ds.notices == ["set.npz: scaled uint8 pixel values 0..255 to [0, 1]"]
    assert ds.x_train.shape == (15, 1, 8, 8) and ds.x_val.shape == (5, 1, 8, 8)
    assert ds.x_train.dtype == np.float32 and np.all(ds.x_train == 1.0)
    assert sorted(np.concatenate([ds.y_train, ds.y_val]).tolist()) == sorted(y.tolist())


def test_npz_float_vectors_kept_as_given(tmp_path: Path) -> None:
    x = np.linspace(-2, 2, 30, dtype=np.float64).reshape(10, 3)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 5], dtype=np.float32)
    path = write_npz(tmp_path / "v.npz", x=x, y=y)
    ds = load_dataset(str(path), (3,), val_split=0.0)
    assert ds.num_classes == 6 and ds.y_train.dtype == np.int64
    assert np.allclose(np.sort(ds.x_train[:, 0]), np.sort(x[:, 0]))


def test_npz_one_hot_labels(tmp_path: Path) -> None:
    y = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]
    path = write_npz(tmp_path / "o.npz", x=np.zeros((4, 2)), y=y)
    ev = load_arrays(str(path), (2,), val_split=0.0)
    assert sorted(ev.y.tolist()) == [0, 1, 2, 2]


def test_npz_hwc_color_images(tmp_path: Path) -> None:
    x = np.zeros((4, 16, 16, 3), dtype=np.uint8)
    x[..., 2] = 255
    path = write_npz(tmp_path / "c.npz", x=x, y=np.arange(4))
    ds = load_dataset(str(path), (3, 16, 16), val_split=0.0)
    assert ds.x_train.shape == (4, 3, 16, 16)
    assert np.all(ds.x_train[:, 2] == 1.0) and np.all(ds.x_train[:, :2] == 0.0)


def test_npz_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.npz"
    assert message(path) == f"{path}: no such file"


def test_npz_directory(tmp_path: Path) -> None:
    path = tmp_path / "dir.npz"
    path.mkdir()
    assert message(path) == f"{path}: not a regular file"


def test_npz_missing_x(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "a.npz", images=np.zeros((2, 2)), y=np.zeros(2))
    assert message(path) == f"{path}: missing array 'x' (has: images, y)"


def test_npz_missing_y(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "a.npz", x=np.zeros((2, 2)))
    assert message(path) == f"{path}: missing array 'y' (has: x)"


def test_npz_length_mismatch(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "a.npz", x=np.zeros((5, 4)), y=np.zeros(4))
    assert message(path) == f"{path}: x has 5 samples but y has 4"


def test_npz_empty(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "a.npz", x=np.zeros((0, 4)), y=np.zeros(0))
    assert message(path) == f"{path}: no samples (x and y are empty)"


def test_npz_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    path.write_text("hello, world\n")
    assert message(path) == (
        f"{path}: not a valid .npz file (not a zip archive; save with numpy.savez(path, x=..., y=...))"
    )
    np.save(tmp_path / "b.npy", np.zeros(3))
    (tmp_path / "b.npy").rename(tmp_path / "b.npz")
    assert "(a .npy array, not a .npz archive;" in message(tmp_path / "b.npz")
    (tmp_path / "c.npz").write_bytes(b"PK\x03\x04 broken")
    assert message(tmp_path / "c.npz").startswith(f"{tmp_path / 'c.npz'}: not a valid .npz file (")
    (tmp_path / "d.npz").write_bytes(b"")
    assert message(tmp_path / "d.npz") == f"{tmp_path / 'd.npz'}: empty file"


def test_npz_pickled_objects_are_refused(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "a.npz", x=np.array([{"a": 1}, None], dtype=object), y=np.zeros(2))
    assert message(path) == f"{path}: array 'x': holds Python objects, which are not loaded (pickles are disabled)"


def test_npz_nan(tmp_path: Path) -> None:
    x = np.zeros((3, 4))
    x[1, 2] = np.nan
    path = write_npz(tmp_path / "a.npz", x=x, y=np.zeros(3))
    assert message(path) == f"{path}: x contains NaN or infinite values"


def test_npz_bad_labels(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "a.npz", x=np.zeros((3, 4)), y=np.array([0.0, 1.5, 2.0]))
    assert message(path) == f"{path}: label 1.5 at index 1 is not an integer {VALUES_HINT}"
    path = write_npz(tmp_path / "b.npz", x=np.zeros((3, 4)), y=np.array([0, -1, 2]))
    assert message(path) == f"{path}: label -1 is negative; labels must be class indices 0, 1, ..."
    path = write_npz(tmp_path / "c.npz", x=np.zeros((3, 4)), y=np.zeros((3, 2)))
    assert message(path) == f"{path}: labels must be 1-D class indices, got shape (3, 2)"
    path = write_npz(tmp_path / "d.npz", x=np.zeros((3, 4)), y=np.array(["a", "b", "c"]))
    assert message(path) == f"{path}: labels must be numeric class indices, got dtype <U1"


def test_npz_scalar_arrays(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "a.npz", x=np.array(3.0), y=np.array(1))
    assert "x and y must be arrays with one row per sample" in message(path)


# ---------------------------------------------------------------- csv


def test_csv_with_header(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    rows = [f"{i},{i + 0.5},{2 * i},{3 * i},{i % 3}" for i in range(10)]
    path.write_text("a,b,c,d,label\n" + "\n".join(rows) + "\n\n")
    ds = load_dataset(str(path), (4,), val_split=0.2, seed=0)
    assert ds.name == "t.csv" and ds.num_classes == 3
    assert ds.x_train.shape == (8, 4) and ds.x_val.shape == (2, 4)
    got = np.concatenate([ds.x_train, ds.x_val])
    assert sorted(got[:, 0].tolist()) == list(range(10))
    assert np.allclose(got[:, 1] - got[:, 0], 0.5)  # values are not rescaled


def test_csv_without_header_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeff1, 2, 0\r\n3, 4, 1\r\n".encode())
    ev = load_arrays(str(path), (2,), val_split=0.0)
    assert ev.x.tolist() == [[1.0, 2.0], [3.0, 4.0]] and ev.y.tolist() == [0, 1]


def test_csv_64_columns_become_an_image(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("\n".join(",".join(["0.5"] * 64 + [str(i)]) for i in range(4)))
    ds = load_dataset(str(path), (1, 16, 16), val_split=0.0)
    assert ds.x_train.shape == (4, 1, 16, 16) and np.allclose(ds.x_train, 0.5)
    assert ds.notices == [
        "d.csv: read vectors of 64 as 1x8x8 images",
        "d.csv: resized 8x8 -> 16x16 to fit input(1, 16, 16)",
    ]


def test_csv_missing(tmp_path: Path) -> None:
    path = tmp_path / "none.csv"
    assert message(path) == f"{path}: no such file"


def test_csv_empty(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("\n  \n")
    assert message(path) == f"{path}: empty file"


def test_csv_header_only(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("a,b,label\n")
    assert message(path) == f"{path}: has a header line but no data rows"


def test_csv_one_column(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("1\n2\n")
    assert message(path) == f"{path}: needs at least 2 columns (features, then the label), found 1"


def test_csv_non_numeric_cell(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("x1,x2,y\n1,2,0\n3,4,1\n5,oops,1\n")
    assert message(path, (2,)) == f"{path}: non-numeric cell 'oops' at row 4, column 2"


def test_csv_ragged_row(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("1,2,0\n3,4,5,1\n")
    assert message(path, (2,)) == f"{path}: row 2 has 4 columns, expected 3"


def test_csv_non_finite_cell(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("1,2,0\n3,nan,1\n")
    assert message(path, (2,)) == f"{path}: non-finite cell 'nan' at row 2, column 2"


def test_csv_fractional_label(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("1,2,0\n3,4,0.5\n")
    assert message(path, (2,)) == f"{path}: label 0.5 at index 1 is not an integer {VALUES_HINT}"


def test_csv_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(b"\x89PNG\r\n\xff\xfe")
    assert message(path) == f"{path}: not a UTF-8 text file (byte 0)"


def test_csv_shape_that_cannot_fit(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("1,2,3,0\n4,5,6,1\n")
    assert message(path, (1, 4, 4)) == "s.csv: cannot fit vectors of 3 to input(1, 4, 4)"
    assert message(path, (4,)) == "s.csv: cannot fit vectors of 3 to input(4)"


def test_file_too_small_for_the_split(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("1,2,0\n3,4,1\n")
    with pytest.raises(DataError, match="one.csv: 2 samples are too few to keep 2 for validation"):
        load_dataset(str(path), (2,), val_split=0.9)
    ds = load_dataset(str(path), (2,), val_split=0.1)
    assert ds.x_train.shape == (1, 2) and ds.x_val.shape == (1, 2)  # at least one validation sample


def test_csv_huge_label_is_not_reported_as_negative(tmp_path: Path) -> None:
    """Issue 11 D8: a label of 1e300 wrapped to a negative int64 and was reported as negative."""
    path = tmp_path / "a.csv"
    path.write_text("1,2,3,4,0\n1,2,3,4,1e300\n")
    assert message(path) == f"{path}: label 1e+300 at index 1 is too large for a class index (at most 2,147,483,647)"


def test_csv_feature_beyond_float32_is_refused_naming_the_cell(tmp_path: Path) -> None:
    """Issue 21 L5: 1e308 became inf in float32, warned from inside NumPy, then blamed the learning rate."""
    path = tmp_path / "a.csv"
    path.write_text("a,b,c,d,label\n1,2,3,4,0\n1,-1e308,3,4,1\n")
    assert message(path) == (
        f"{path}: cell '-1e308' at row 3, column 2 is beyond float32's range (+-3.4e+38), "
        "which features are computed in"
    )


def test_csv_bad_cell_is_quoted_truncated(tmp_path: Path) -> None:
    """Issue 21 L5: a 100 KB bad cell was quoted whole."""
    path = tmp_path / "a.csv"
    path.write_text("1,2,3,4,0\n1," + "x" * 100_000 + ",3,4,1\n")
    text = message(path)
    assert len(text) < len(str(path)) + 200 and "(100,000 characters)" in text and "row 2, column 2" in text
