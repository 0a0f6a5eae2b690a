""".npy and .npz files read as data: headers first (names, dtypes, shapes), arrays only once they fit.

np.load allocates what a header declares before it reads a byte of the data, so an 8.5 MB .npz can ask for
8 GiB. Here every header is read from the zip member (or file) without loading, checked against what the
caller expects and the memory there is, and only then are the arrays read. Nothing is ever unpickled.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from netdsl.memory import available_memory, size_text

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK"
NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float: no objects (pickles), strings or structured records


class ArrayFileError(Exception):
    """A .npy/.npz file that is not safe or not usable; the message is one line naming the file."""


@dataclass(frozen=True)
class ArrayHeader:
    """What a .npy header declares: enough to check an array before allocating it."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def file_kind(path: Path) -> str:
    """'npy', 'npz', 'empty' or 'other', from the first bytes; raises ArrayFileError if unreadable."""
    if path.exists() and not path.is_dir() and not path.is_file():  # a FIFO would block the open
        raise ArrayFileError(f"{path}: not a regular file")
    try:
        with open(path, "rb") as stream:
            head = stream.read(len(NPY_MAGIC))
    except FileNotFoundError:
        raise ArrayFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ArrayFileError(f"{path}: is a directory") from None
    except OSError as err:
        raise ArrayFileError(f"{path}: cannot read ({err.strerror or err})") from None
    if not head:
        return "empty"
    if head.startswith(NPY_MAGIC):
        return "npy"
    return "npz" if head.startswith(ZIP_MAGIC) else "other"


def _read_header(stream: IO[bytes], where: str, kinds: str = NUMERIC_KINDS) -> tuple[ArrayHeader, int]:
    """The header at the stream's position and its length in bytes; refuses object and non-numeric dtypes."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=10_000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=10_000)
        else:
            raise ValueError(f"unknown .npy format version {version}")
    except (ValueError, EOFError, OSError, SyntaxError, TypeError) as err:
        raise ArrayFileError(f"{where}: not a readable .npy array (invalid header: {_first_line(err)})") from None
    if dtype.hasobject:
        raise ArrayFileError(f"{where}: holds Python objects, which are not loaded (pickles are disabled)")
    if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
        raise ArrayFileError(f"{where}: holds {dtype} values, expected numbers")
    if any(not isinstance(d, int) or d < 0 for d in shape):
        raise ArrayFileError(f"{where}: invalid shape {shape}")
    return ArrayHeader(tuple(shape), dtype), stream.tell()


def _first_line(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text[:200]


def npy_header(path: Path) -> ArrayHeader:
    """The header of a .npy file, checked against the file's size (a header may not promise more data)."""
    kind = file_kind(path)
    if kind == "empty":
        raise ArrayFileError(f"{path}: empty file, not a .npy array")
    if kind == "npz":
        raise ArrayFileError(
            f"{path}: an .npz archive named .npy; rename it to .npz (or save one array with numpy.save)"
        )
    if kind != "npy":
        raise ArrayFileError(f"{path}: not a .npy array (save one with numpy.save)")
    with open(path, "rb") as stream:
        header, offset = _read_header(stream, str(path))
    have = path.stat().st_size - offset
    if have < header.nbytes:
        raise ArrayFileError(
            f"{path}: truncated: its header declares shape {list(header.shape)} of "
            f"{header.dtype} ({header.nbytes:,} bytes) but the file holds {have:,}"
        )
    return header


def read_npy(path: Path, header: ArrayHeader) -> np.ndarray:
    """The array of a .npy whose header was checked by npy_header."""
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ArrayFileError(f"{path}: not a readable .npy array ({_first_line(err)})") from None
    if array.shape != header.shape:
        raise ArrayFileError(f"{path}: changed while it was read")
    return array


def npz_headers(path: Path, kinds: str = NUMERIC_KINDS) -> dict[str, ArrayHeader]:
    """Every member's header, read from the archive without loading any array; dtypes of the given kinds."""
    kind = file_kind(path)
    if kind == "empty":
        raise ArrayFileError(f"{path}: empty file, not an .npz archive")
    if kind == "npy":
        raise ArrayFileError(
            f"{path}: a single .npy array, not an .npz archive (save several named arrays with numpy.savez)"
        )
    if kind != "npz":
        raise ArrayFileError(f"{path}: not a valid .npz file (not a zip archive)")
    headers: dict[str, ArrayHeader] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = _member_name(path, info)
                if name in headers:
                    raise ArrayFileError(f"{path}: holds the array {name!r} twice")
                with archive.open(info) as member:
                    header, offset = _read_header(member, f"{path}: array {name!r}", kinds)
                if info.file_size != offset + header.nbytes:
                    raise ArrayFileError(
                        f"{path}: array {name!r}: its header declares {header.nbytes:,} bytes "
                        f"but the archive member holds {max(info.file_size - offset, 0):,}"
                    )
                headers[name] = header
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as err:
        raise ArrayFileError(f"{path}: not a valid .npz file ({_first_line(err)})") from None
    return headers


def _member_name(path: Path, info: zipfile.ZipInfo) -> str:
    if info.is_dir() or not info.filename.endswith(".npy"):
        raise ArrayFileError(f"{path}: member {info.filename!r} is not a .npy array (not an .npz saved by numpy)")
    return info.filename[: -len(".npy")]


def read_npz(path: Path, names: list[str]) -> dict[str, np.ndarray]:
    """The named arrays of an .npz whose headers were checked by npz_headers."""
    try:
        with open(path, "rb") as stream, np.load(stream, allow_pickle=False) as archive:
            return {name: archive[name] for name in names}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as err:
        raise ArrayFileError(f"{path}: not a readable .npz archive ({_first_line(err)})") from None


def check_fits_memory(path: Path, nbytes: int, what: str, factor: int = 1) -> None:
    """Refuse arrays that need (factor times their size) more memory than is available now."""
    need, have = nbytes * factor, available_memory()
    if need > have:
        raise ArrayFileError(
            f"{path}: {what} would take {size_text(need)} of memory once loaded, more than the "
            f"{size_text(have)} available"
        )
