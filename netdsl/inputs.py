"""Inputs for `predict` and `run`: an .npy array or an image file, shaped to the network's input."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class InputFileError(Exception):
    """An input file that cannot be used; one line naming the file and the problem."""


def _image(path: Path, shape: tuple[int, ...]) -> tuple[np.ndarray, list[str]]:
    from PIL import Image, UnidentifiedImageError

    if len(shape) != 3:
        raise InputFileError(f"{path}: an image needs a network with an image input, this one takes {shape}")
    channels, height, width = shape
    try:
        with Image.open(path) as image:
            original = image.size
            image = image.convert("L" if channels == 1 else "RGB").resize((width, height), Image.BILINEAR)
            array = np.asarray(image, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError) as err:
        raise InputFileError(f"{path}: not a readable image ({err})") from None
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    if channels not in (1, 3):
        raise InputFileError(f"{path}: an image has 1 or 3 channels, the network wants {channels}")
    notes = [f"{path.name}: resized {original[0]}x{original[1]} -> {width}x{height}"] if original != (width, height) \
        else []
    return array[None], notes


def load_input(path: str | Path, shape: tuple[int, ...]) -> tuple[np.ndarray, list[str]]:
    """A batch (n, *shape) of float32 from `x.npy` (one sample or a batch) or an image."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such input file")
    if path.suffix.lower() != ".npy":
        return _image(path, shape)
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise InputFileError(f"{path}: not a readable .npy file ({err})") from None
    if not np.issubdtype(array.dtype, np.number):
        raise InputFileError(f"{path}: holds {array.dtype} values, expected numbers")
    if tuple(array.shape) == shape:
        array = array[None]
    if tuple(array.shape[1:]) != shape:
        wanted = "x".join(map(str, shape))
        raise InputFileError(f"{path}: has shape {list(array.shape)}, the network wants {wanted} "
                             f"or a batch n x {wanted}")
    return array.astype(np.float32), []


def top_k(probabilities: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
    """The k best classes of each row with their scores."""
    rows = probabilities.reshape(len(probabilities), -1)
    order = np.argsort(-rows, axis=1, kind="stable")[:, :k]
    return [[(int(c), float(row[c])) for c in best] for row, best in zip(rows, order)]
