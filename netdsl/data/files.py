"""Readers for user data files: .npz (arrays x, y) and .csv (numeric columns, the last one the label)."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from netdsl.data import DataError

if TYPE_CHECKING:
    from netdsl.npyfile import ArrayHeader


def _check_exists(path: Path) -> None:
    """Raise DataError unless path is an existing regular file."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")


def _check_pair(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    """Check that x and y hold the same, non-zero number of numeric samples."""
    if x.ndim == 0 or y.ndim == 0:
        raise DataError(f"{path}: x and y must be arrays with one row per sample (x is {x.shape}, y is {y.shape})")
    if len(x) != len(y):
        raise DataError(f"{path}: x has {len(x)} samples but y has {len(y)}")
    if len(x) == 0:
        raise DataError(f"{path}: no samples (x and y are empty)")
    if x.dtype.kind not in "biuf":
        raise DataError(f"{path}: x must be numeric, got dtype {x.dtype}")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DataError(f"{path}: x contains NaN or infinite values")


def _check_zip_magic(path: Path) -> None:
    """Raise DataError unless the file starts like a zip archive (what .npz files are)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(4)
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not head:
        raise DataError(f"{path}: empty file")
    if head[:2] != b"PK":
        kind = "a .npy array, not a .npz archive" if head.startswith(b"\x93NUM") else "not a zip archive"
        raise DataError(f"{path}: not a valid .npz file ({kind}; save with numpy.savez(path, x=..., y=...))")


def load_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read arrays x and y from a .npz file (no pickles), their headers checked before either is loaded."""
    from netdsl import npyfile

    path = Path(path)
    _check_exists(path)
    _check_zip_magic(path)
    try:
        headers = npyfile.npz_headers(path, kinds=npyfile.NUMERIC_KINDS + "US")  # text is refused below, by name
        for key in ("x", "y"):
            if key not in headers:
                have = ", ".join(headers) if headers else "no arrays"
                raise DataError(f"{path}: missing array '{key}' (has: {have})")
        _check_pair_headers(path, headers["x"], headers["y"])
        x, y = npyfile.read_npz(path, ["x", "y"]).values()
    except npyfile.ArrayFileError as exc:
        raise DataError(str(exc)) from None
    _check_pair(path, x, y)
    return x, y


def _check_pair_headers(path: Path, x: ArrayHeader, y: ArrayHeader) -> None:
    """Before loading: one label row per sample, and room for x as float32 beside the file's arrays."""
    from netdsl import npyfile

    if not x.shape or not y.shape:
        raise DataError(f"{path}: x and y must be arrays with one row per sample (x is {x.shape}, y is {y.shape})")
    if x.shape[0] != y.shape[0]:
        raise DataError(f"{path}: x has {x.shape[0]} samples but y has {y.shape[0]}")
    if len(y.shape) > 2:
        raise DataError(f"{path}: y has shape {list(y.shape)}; expected one label (or one-hot row) per sample")
    as_float32 = math.prod(x.shape) * 4
    npyfile.check_fits_memory(path, x.nbytes + y.nbytes + 2 * as_float32, "x and y (with their float32 copies)")


def _read_text(path: Path) -> str:
    """Read a CSV file as text (UTF-8, optional BOM)."""
    _check_exists(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file (byte {exc.start})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _is_number(cell: str) -> bool:
    """Whether a CSV cell parses as a number."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _data_lines(path: Path, text: str) -> tuple[list[tuple[int, str]], int]:
    """Non-blank (line number, line) pairs, without a leading non-numeric header, and the column count."""
    lines = [(i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise DataError(f"{path}: empty file")
    first = [c.strip() for c in lines[0][1].split(",")]
    if not all(_is_number(c) for c in first):
        lines = lines[1:]
        if not lines:
            raise DataError(f"{path}: has a header line but no data rows")
    columns = len(first)
    if columns < 2:
        raise DataError(f"{path}: needs at least 2 columns (features, then the label), found {columns}")
    return lines, columns


def _find_bad_cell(path: Path, lines: list[tuple[int, str]], columns: int) -> DataError:
    """Scan rows cell by cell and describe the first problem (column count or non-numeric cell)."""
    for number, line in lines:
        cells = line.split(",")
        if len(cells) != columns:
            return DataError(f"{path}: row {number} has {len(cells)} columns, expected {columns}")
        for col, cell in enumerate(cells, start=1):
            value = cell.strip()
            if not _is_number(value):
                return DataError(f"{path}: non-numeric cell {_shown_cell(value)} at row {number}, column {col}")
            if not np.isfinite(float(value)):
                return DataError(f"{path}: non-finite cell {_shown_cell(value)} at row {number}, column {col}")
    return DataError(f"{path}: cannot parse as a numeric CSV table")


def load_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a numeric CSV file: every column but the last is a feature, the last is the label."""
    path = Path(path)
    lines, columns = _data_lines(path, _read_text(path))
    body = "\n".join(line for _, line in lines)
    try:
        table = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError:
        raise _find_bad_cell(path, lines, columns) from None
    if table.shape[1] != columns or not np.isfinite(table).all():
        raise _find_bad_cell(path, lines, columns)
    x, y = table[:, :-1], table[:, -1]
    _check_float32_range(path, lines, x)
    _check_pair(path, x, y)
    return x, y


FLOAT32_MAX = float(np.finfo(np.float32).max)
MAX_CELL_SHOWN = 40  # characters of a bad cell quoted in an error (a cell may be 100 KB)


def _check_float32_range(path: Path, lines: list[tuple[int, str]], x: np.ndarray) -> None:
    """Refuse a feature that float32, the type networks compute in, would turn into inf."""
    beyond = np.argwhere(np.abs(x) > FLOAT32_MAX)
    if len(beyond):
        row, col = (int(i) for i in beyond[0])
        number, line = lines[row]
        raise DataError(
            f"{path}: cell {_shown_cell(line.split(',')[col].strip())} at row {number}, column {col + 1} "
            f"is beyond float32's range (+-{FLOAT32_MAX:.3g}), which features are computed in"
        )


def _shown_cell(value: str) -> str:
    """A cell as an error quotes it: repr, at most MAX_CELL_SHOWN characters of it."""
    if len(value) <= MAX_CELL_SHOWN:
        return repr(value)
    return f"{value[:MAX_CELL_SHOWN]!r}... ({len(value):,} characters)"
