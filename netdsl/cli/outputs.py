"""What `predict` and `run` show of a network's outputs: class probabilities, or the values themselves for a net
that is not a classifier (a regression, an autoencoder), and the `-o` file they save them to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from netdsl.cli import InputError
from netdsl.train.settings import FUSED_HEADS

MAX_PRINTED = 20  # samples whose outputs are printed
PROBABILITY_HEADS = tuple(FUSED_HEADS.values())  # final ops whose outputs already are probabilities
MIN_PNG_HEIGHT = 64  # pixels: smaller image outputs are enlarged (nearest neighbour) in a -o .png


def probabilities(outputs: Any) -> tuple[Any, bool]:
    """Rows that already are probabilities as they are, else their softmax; and whether the softmax was taken."""
    import numpy as np

    rows = outputs.reshape(len(outputs), -1).astype(np.float64)
    if np.all(rows >= 0) and np.allclose(rows.sum(axis=1), 1.0, atol=1e-3):
        return rows, False
    shifted = np.exp(rows - rows.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True), True


def print_values(outputs: Any) -> None:
    """One line per sample: its output values (a regression's predictions)."""
    rows = outputs.reshape(len(outputs), -1)
    shape = "x".join(map(str, outputs.shape[1:])) or "1"
    print(f"outputs ({shape} value{'s' if rows.shape[1] != 1 else ''} per sample):")
    for index, row in enumerate(rows[:MAX_PRINTED]):
        values = ", ".join(f"{float(v):.4f}" for v in row[:10]) + (", ..." if len(row) > 10 else "")
        print(f"sample {index}: {values}")
    if len(rows) > MAX_PRINTED:
        print(f"... and {len(rows) - MAX_PRINTED:,} more samples (save all outputs with -o out.npy)")


def save_outputs(path: str, outputs: Any, images: bool = False) -> str:
    """Write the outputs to `path` atomically: .npy as they are; .png (an image-shaped output, e.g. an
    autoencoder's reconstructions) as one picture, the samples side by side. Returns what was written."""
    import numpy as np

    from netdsl.fileio import atomic_write

    suffix = Path(path).suffix.lower()
    if suffix not in (".npy", ".png"):
        raise InputError(f"{path}: -o takes a .npy file (the outputs) or, for image outputs, a .png")
    if suffix == ".png" and not images:
        raise InputError(f"{path}: the outputs {tuple(outputs.shape[1:])} are not images; save them with -o out.npy")
    try:
        if suffix == ".npy":
            atomic_write(path, lambda handle: np.save(handle, np.asarray(outputs, dtype=np.float32)))
            return f"outputs {tuple(outputs.shape)} float32"
        picture = image_strip(outputs)
        atomic_write(path, lambda handle: picture.save(handle, format="PNG"))
        return f"{len(outputs)} image{'s' if len(outputs) != 1 else ''} {picture.width}x{picture.height}"
    except OSError as err:
        raise InputError(f"{path}: cannot write: {err.strerror or err}") from None


def is_image_batch(outputs: Any) -> bool:
    """N x C x H x W with 1 or 3 channels: outputs a PNG can show."""
    return outputs.ndim == 4 and outputs.shape[1] in (1, 3)


def image_strip(outputs: Any, most: int = 64) -> Any:
    """The first `most` samples of an N x C x H x W batch as one PIL image, side by side, values clipped to
    [0, 1] (the range netdsl's image data sets have)."""
    import numpy as np
    from PIL import Image

    batch = np.clip(np.asarray(outputs[:most], dtype=np.float64), 0.0, 1.0)
    pixels = (batch.transpose(0, 2, 3, 1) * 255 + 0.5).astype(np.uint8)  # N x H x W x C
    strip = np.concatenate(list(pixels), axis=1)
    picture = Image.fromarray(strip[:, :, 0] if strip.shape[2] == 1 else strip)
    scale = max(1, MIN_PNG_HEIGHT // picture.height)  # an 8x8 digit is enlarged to be seen; -o .npy keeps values
    return picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
