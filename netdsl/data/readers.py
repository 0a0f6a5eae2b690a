"""Readers for the standard binary formats: IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary batches."""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from netdsl.data import DataError

IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (count, rows, columns)
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (count)
CIFAR_IMAGE_BYTES = 3 * 32 * 32
CIFAR_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES
NUM_CLASSES = 10
MAX_FILE_BYTES = 512 * 2**20  # a data file once gunzipped; MNIST's largest is 45 MiB, a CIFAR-10 batch 29 MiB


def _read_bytes(path: Path, name: str) -> bytes:
    """The contents of path, gunzipped when it ends in .gz; errors name the file."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)  # a gzip bomb stops here
        if len(data) > MAX_FILE_BYTES:
            raise DataError(
                f"{name}: {path}: larger than {MAX_FILE_BYTES // 2**20} MiB"
                f"{' once decompressed' if path.suffix == '.gz' else ''}; not a data file of this set"
            )
        return data
    except FileNotFoundError:
        raise DataError(f"{name}: {path}: no such file") from None
    except EOFError:
        raise DataError(f"{name}: {path}: truncated gzip file (ends before its end marker)") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{name}: {path}: not a valid gzip file ({exc})") from None
    except OSError as exc:
        raise DataError(f"{name}: {path}: cannot read ({exc.strerror or exc})") from None


def read_idx(path: str | Path, magic: int, name: str) -> np.ndarray:
    """Read an IDX file of unsigned bytes with the given magic number, checking header and size."""
    path = Path(path)
    data = _read_bytes(path, name)
    kind = "labels" if magic == IDX_LABELS_MAGIC else "images"
    if len(data) < 4:
        raise DataError(f"{name}: {path}: {len(data)} bytes, too short for an IDX header")
    got = int.from_bytes(data[:4], "big")
    if got != magic:
        raise DataError(f"{name}: {path}: bad magic number 0x{got:08X}, expected 0x{magic:08X} (IDX {kind})")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{name}: {path}: truncated IDX header ({len(data)} of {header} bytes)")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected, have = math.prod(dims), len(data) - header
    if have < expected:
        raise DataError(f"{name}: {path}: truncated: {have} data bytes, header {dims} needs {expected}")
    if have > expected:
        raise DataError(f"{name}: {path}: {have - expected} bytes more than header {dims} describes (corrupt file?)")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_idx_pair(images: str | Path, labels: str | Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Read matching IDX image and label files: uint8 (n, H, W) and labels (n,) in 0..9."""
    x = read_idx(images, IDX_IMAGES_MAGIC, name)
    y = read_idx(labels, IDX_LABELS_MAGIC, name)
    if len(x) != len(y):
        raise DataError(f"{name}: {images} has {len(x)} images but {labels} has {len(y)} labels")
    _check_labels(y, Path(labels), name)
    return x, y


def _check_labels(y: np.ndarray, path: Path, name: str) -> None:
    """Raise DataError if any label is not a class index below NUM_CLASSES."""
    bad = np.flatnonzero(y >= NUM_CLASSES)
    if bad.size:
        raise DataError(
            f"{name}: {path}: label {int(y[bad[0]])} at record {int(bad[0])} is not in 0..{NUM_CLASSES - 1}"
        )


def read_cifar_batch(path: str | Path, name: str = "cifar10") -> tuple[np.ndarray, np.ndarray]:
    """Read a CIFAR-10 binary batch: records of 1 label byte + 3072 CHW pixel bytes."""
    path = Path(path)
    data = _read_bytes(path, name)
    if not data or len(data) % CIFAR_RECORD_BYTES:
        raise DataError(
            f"{name}: {path}: {len(data)} bytes is not a whole number of {CIFAR_RECORD_BYTES}-byte records "
            "(truncated or not a CIFAR-10 binary batch)"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, CIFAR_RECORD_BYTES)
    y = records[:, 0].copy()
    _check_labels(y, path, name)
    x = records[:, 1:].reshape(-1, 3, 32, 32)
    return x, y
