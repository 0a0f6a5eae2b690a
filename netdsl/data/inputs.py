"""Inputs for `predict` and `run`: an .npy array or an image file, shaped to the network's input."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


class InputFileError(Exception):
    """An input file that cannot be used; one line naming the file and the problem."""


def show_shape(shape: tuple) -> str:
    """`(1, 28, 28)`, with `?` for an unknown dimension."""
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def read_input(path: str | os.PathLike[str], input_shape: tuple[int | None, ...]) -> tuple[np.ndarray, list[str]]:
    """An input file as an array: .npy as stored, an image converted to the model's input; plus notices."""
    file = Path(path)
    if not file.exists():
        raise InputFileError(f"{file}: no such file")
    if file.is_dir():
        raise InputFileError(f"{file}: is a directory, not an input file")
    if not file.is_file():  # a FIFO or a device: reading it could block or never end
        raise InputFileError(f"{file}: not a regular file")
    suffix = file.suffix.lower()
    if suffix == ".npy":
        return _read_npy(file), []
    if suffix in IMAGE_SUFFIXES:
        return read_image(file, input_shape)
    raise InputFileError(
        f"{file}: unsupported input file type '{suffix}': use .npy or an image ({', '.join(IMAGE_SUFFIXES)})"
    )


def _read_npy(file: Path) -> np.ndarray:
    """The array of an .npy, its header checked first: numbers, backed by the file's bytes, fits in memory.

    (The shape is then checked against the model, with the hints that go with it, by the caller.)"""
    from netdsl import npyfile

    try:
        header = npyfile.npy_header(file)
        npyfile.check_fits_memory(file, header.nbytes + 4 * math.prod(header.shape), "the array and its float32 copy")
        return npyfile.read_npy(file, header)
    except npyfile.ArrayFileError as err:
        raise InputFileError(str(err)) from None


def read_image(path: str | os.PathLike[str], input_shape: tuple[int | None, ...]) -> tuple[np.ndarray, list[str]]:
    """An image as one float32 sample in [0, 1], converted to the model's channels and size, with a notice.
    For a vector input of C*S*S values (input(784)), the image is made C x S x S and flattened, as train does."""
    if len(input_shape) == 1 and isinstance(input_shape[0], int) and _square_image(input_shape[0]):
        channels, side = _square_image(input_shape[0])
        x, notices = read_image(path, (channels, side, side))
        note = f"flattened to {input_shape[0]} values to fit input({input_shape[0]}), as train does"
        notices = [f"{notice}, {note}" for notice in notices] or [f"{Path(path).name}: {note}"]
        return x.reshape(-1), notices
    from PIL import Image, UnidentifiedImageError

    if len(input_shape) != 3 or input_shape[0] not in (1, 3) or None in input_shape:
        raise InputFileError(
            f"{path}: an image input needs a model taking 1 or 3 x H x W images; "
            f"this one takes {show_shape(input_shape)}"
        )
    channels, height, width = input_shape
    try:
        with Image.open(path) as image:
            image.load()
            original = f"{image.width}x{image.height} {image.mode}"
            mode = "L" if channels == 1 else "RGB"
            converted = image.convert(mode) if image.mode != mode else image
            if converted.size != (width, height):
                converted = converted.resize((width, height), Image.BILINEAR)  # type: ignore[attr-defined]  # Image.Resampling needs Pillow 9.1
            pixels = np.asarray(converted, dtype=np.float32) / 255.0
    except Image.DecompressionBombError as err:
        raise InputFileError(
            f"{path}: refused: the image is larger than Pillow's decompression-bomb limit "
            f"({Image.MAX_IMAGE_PIXELS:,} pixels) ({err})"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise InputFileError(f"{path}: cannot read the image: {err}") from None
    x = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
    notices = []
    target = f"{channels}x{height}x{width}"
    if original != f"{width}x{height} {mode}":
        kind = "grayscale" if channels == 1 else "RGB"
        notices.append(f"{Path(path).name}: converted {original} to {target} ({kind}, values in [0, 1])")
    return np.ascontiguousarray(x), notices


def as_batch(x: np.ndarray, shape: tuple[int, ...], source: str) -> np.ndarray:
    """One sample or a batch of `shape`, as a float32 batch; one line naming both shapes otherwise."""
    if not np.issubdtype(x.dtype, np.number):
        raise InputFileError(f"{source}: holds {x.dtype} values, expected numbers")
    if tuple(x.shape) == shape:
        x = x[None]
    if tuple(x.shape[1:]) != shape:
        wanted = "x".join(map(str, shape))
        raise InputFileError(f"{source}: has shape {list(x.shape)}, the network wants {wanted} or a batch n x {wanted}")
    return x.astype(np.float32)


def top_k(probabilities: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
    """The k best classes of each row with their scores."""
    rows = probabilities.reshape(len(probabilities), -1)
    order = np.argsort(-rows, axis=1, kind="stable")[:, :k]
    return [[(int(c), float(row[c])) for c in best] for row, best in zip(rows, order)]


def _square_image(size: int) -> tuple[int, int] | None:
    """The (channels, side) of a gray (then RGB) square image with `size` values, if there is one."""
    for channels in (1, 3):
        side = math.isqrt(size // channels)
        if size % channels == 0 and side > 0 and channels * side * side == size:
            return channels, side
    return None
