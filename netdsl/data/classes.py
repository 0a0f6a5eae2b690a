"""Class names: the built-in sets', a names file (`classes = "a.txt"`), inline names, or a .npz's `classes` array."""

from __future__ import annotations

import zipfile
from pathlib import Path

from netdsl.data import DataError
from netdsl.diagnostics import visible
from netdsl.fileio import NotARegularFile, read_regular

DIGITS = tuple(str(i) for i in range(10))
BUILTIN_CLASSES: dict[str, tuple[str, ...]] = {
    "digits": DIGITS,
    "mnist": DIGITS,
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    "waves": ("sine", "square", "sawtooth", "noise"),
    "spectrograms": ("sine", "square", "sawtooth", "noise"),
    "sentences": ("sport", "weather", "food", "computers"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}
MAX_NAMES_BYTES = 1 << 20  # a names file is text; refuse anything larger than 1 MiB
ONNX_METADATA_KEY = "netdsl.classes"  # exported models carry their class names here (a JSON list)


def read_names_file(path: str | Path) -> tuple[str, ...]:
    """One class name per line (blank lines and surrounding spaces dropped)."""
    path = Path(path)
    try:
        data = read_regular(path, MAX_NAMES_BYTES)  # as data files: no FIFO, no /dev/zero, bounded
        if len(data) > MAX_NAMES_BYTES:
            raise DataError(f"{path}: a class names file over 1 MiB; expected one name per line")
        text = data.decode("utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such class names file") from None
    except NotARegularFile:
        raise DataError(f"{path}: not a regular file (class names are a text file, one per line)") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file (class names, one per line)") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not names:
        raise DataError(f"{path}: no class names (expected one per line)")
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise DataError(f"{path}: class name {twice!r} appears twice")
    return names


def npz_names(path: str | Path) -> tuple[str, ...] | None:
    """The string array `classes` of a data .npz, if it has one (never unpickled)."""
    import numpy as np

    try:
        with open(path, "rb") as stream, np.load(stream, allow_pickle=False) as archive:
            if "classes" not in archive.files:
                return None
            names = archive["classes"]
    except ValueError:
        raise DataError(f"{path}: its 'classes' array must hold strings, not objects (pickles are disabled)") from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: not a valid .npz file ({err})") from None
    if names.ndim != 1 or names.dtype.kind not in "US":
        raise DataError(f"{path}: 'classes' must be a 1-D array of strings, got {names.dtype} {names.shape}")
    return tuple(str(n.decode() if isinstance(n, bytes) else n) for n in names)


def class_names(
    classes: str | tuple[str, ...] | None, data: str, program_file: str | None = None
) -> tuple[str, ...] | None:
    """The names a train section gives its classes: `classes` (a file beside the .net file, or inline), else
    the built-in set's, else a data .npz's `classes` array; None when nothing names them."""
    if isinstance(classes, tuple):
        return classes
    if isinstance(classes, str):
        base = Path(program_file).parent if program_file and Path(program_file).is_file() else Path()
        return read_names_file(base / classes)
    for name, names in BUILTIN_CLASSES.items():  # also their spellings fashion-mnist, cifar-10
        if data.lower().replace("-", "").replace("_", "") == name.replace("_", ""):
            return names
    if data.lower().endswith(".npz") and Path(data).is_file():
        return npz_names(data)
    return None


def label(index: int, names: tuple[str, ...] | None) -> str:
    """How a class is shown: its name after its index ('3 cat'), or the index alone ('7' for digits); control
    characters in a user's names are shown as escapes, never sent to the terminal."""
    if names is None or index >= len(names) or names[index] == str(index):
        return str(index)
    return f"{index} {visible(names[index])}"
