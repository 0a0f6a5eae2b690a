"""The built-in data sets: embedded digits; mnist, fashion_mnist and cifar10 from a cache directory."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from netdsl.data import DataError, default_data_dir
from netdsl.data import download as dl
from netdsl.data.readers import read_cifar_batch, read_idx_pair

IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CIFAR_TARBALL = "cifar-10-binary.tar.gz"
CIFAR_DIR = "cifar-10-batches-bin"
CIFAR_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR_TEST = "test_batch.bin"

# Download mirrors, tried in order; every file is checked against SHA256 below.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ),
    "fashion_mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/",),
}

# SHA-256 of the published files. Not computed here (no network to these hosts); taken from
# public checksum lists (TensorFlow Datasets' url_checksums) and cross-checked against several
# independent projects that pin the same values.
SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "cifar10": {
        CIFAR_TARBALL: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
    },
}

Progress = Callable[[str], None] | None


@dataclass
class Raw:
    """Raw samples of a data set before shaping: pixel arrays, labels, and the pixel maximum."""

    x: np.ndarray
    y: np.ndarray
    scale: float  # divide pixels by this to get [0, 1]
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    num_classes: int | None = None


def load_digits() -> Raw:
    """The embedded 1,797 8x8 UCI digits (values 0..16)."""
    try:
        blob = resources.files("netdsl.data").joinpath("digits.npz").read_bytes()
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            x, y = archive["x"], archive["y"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(
            f"digits: the embedded netdsl/data/digits.npz is missing or damaged ({exc}); reinstall netdsl"
        ) from None
    if x.shape != (1797, 8, 8) or y.shape != (1797,):
        raise DataError(f"digits: the embedded netdsl/data/digits.npz has unexpected shapes {x.shape}, {y.shape}")
    return Raw(x=x, y=y, scale=16.0, num_classes=10)


def _root(data_dir: str | Path | None) -> Path:
    """The cache root directory (expanded)."""
    return Path(data_dir if data_dir is not None else default_data_dir()).expanduser()


def _find(directory: Path, filename: str) -> Path | None:
    """directory/filename, or its gunzipped twin for a .gz name, if either is a file."""
    path = directory / filename
    if path.is_file():
        return path
    if filename.endswith(".gz") and (plain := directory / filename[:-3]).is_file():
        return plain
    return None


def _locate(candidates: list[Path], filenames: tuple[str, ...]) -> list[Path] | None:
    """The paths of all filenames in the first candidate directory that holds every one."""
    for directory in candidates:
        found = [_find(directory, f) for f in filenames]
        if all(p is not None for p in found):
            return [p for p in found if p is not None]
    return None


def _not_found(name: str, target: Path, what: str, why: str) -> DataError:
    """The one-line error that says which files to put where."""
    return DataError(f"{name}: {why}; put {what} in {target}{'' if str(target).endswith('/') else '/'}")


def _make_dir(name: str, target: Path) -> None:
    """Create the cache directory or raise DataError."""
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{name}: cannot create {target} ({exc.strerror or exc})") from None


def _download(name: str, target: Path, filename: str, what: str, progress: Progress) -> Path:
    """Fetch one file of a built-in set into target, or raise the 'put files here' DataError."""
    urls = [base + filename for base in MIRRORS[name]]
    dest = target / filename
    try:
        dl.fetch_any(urls, dest, SHA256[name][filename], progress)
    except dl.DownloadFailed as exc:
        raise _not_found(name, target, what, f"cannot download ({exc})") from None
    return dest


def _check_cached(name: str, path: Path) -> None:
    """A cached archive whose published SHA-256 is known must still match it (the cache may be shared)."""
    expected = SHA256[name].get(path.name)
    if expected is None:  # an uncompressed file the user put there: no published hash to check
        return
    got = dl.sha256_file(path)
    if got != expected:
        raise DataError(
            f"{name}: {path}: SHA-256 mismatch (got {got}, expected {expected}); delete it to download again"
        )


def _idx_paths(name: str, data_dir: str | Path | None, download: bool, progress: Progress) -> list[Path]:
    """The four IDX files of mnist/fashion_mnist, downloading the missing ones if allowed."""
    root = _root(data_dir)
    target = root / name
    found = _locate([target, root], IDX_FILES)
    if found is not None:
        for path in found:
            _check_cached(name, path)
        return found
    what = ", ".join(IDX_FILES)
    if not download:
        raise _not_found(name, target, what, "data files not found and downloads are off")
    _make_dir(name, target)
    for filename in IDX_FILES:
        if _find(target, filename) is None:
            _download(name, target, filename, what, progress)
    paths = [p for p in (_find(target, f) for f in IDX_FILES) if p is not None]
    for path in paths:
        _check_cached(name, path)
    return paths


def load_idx_set(name: str, data_dir: str | Path | None, download: bool, progress: Progress) -> Raw:
    """mnist or fashion_mnist: 60,000 training and 10,000 test 28x28 images (values 0..255)."""
    train_x, train_y, test_x, test_y = _idx_paths(name, data_dir, download, progress)
    x, y = read_idx_pair(train_x, train_y, name)
    xt, yt = read_idx_pair(test_x, test_y, name)
    if x.shape[1:] != xt.shape[1:]:
        raise DataError(f"{name}: training images are {x.shape[1:]} but test images are {xt.shape[1:]}")
    return Raw(x=x, y=y, scale=255.0, x_test=xt, y_test=yt, num_classes=10)


def _extract_cifar(tarball: Path, directory: Path, progress: Progress) -> None:
    """Check a CIFAR-10 tarball's SHA-256 and extract the six batches into directory/cifar-10-batches-bin."""
    expected = SHA256["cifar10"][CIFAR_TARBALL]
    got = dl.sha256_file(tarball)
    if got != expected:
        raise DataError(
            f"cifar10: {tarball}: SHA-256 mismatch (got {got}, expected {expected}); delete it to download again"
        )
    if progress is not None:
        progress(f"extracting {tarball} -> {directory / CIFAR_DIR}")
    out = directory / CIFAR_DIR
    _make_dir("cifar10", out)
    members = {f"{CIFAR_DIR}/{f}": out / f for f in (*CIFAR_TRAIN, CIFAR_TEST)}
    dl.extract_members(tarball, members, "cifar10")


def _cifar_paths(data_dir: str | Path | None, download: bool, progress: Progress) -> list[Path]:
    """The six CIFAR-10 batch files, extracting or downloading the tarball if needed and allowed."""
    root = _root(data_dir)
    target = root / "cifar10"
    names = tuple(f"{CIFAR_DIR}/{f}" for f in (*CIFAR_TRAIN, CIFAR_TEST))
    candidates = [target, root]
    found = _locate(candidates, names)
    if found is not None:
        return found
    for directory in candidates:
        if (directory / CIFAR_TARBALL).is_file():
            _extract_cifar(directory / CIFAR_TARBALL, directory, progress)
            return _locate([directory], names) or []
    what = f"{CIFAR_TARBALL} (or its extracted {CIFAR_DIR}/)"
    if not download:
        raise _not_found("cifar10", target, what, "data files not found and downloads are off")
    _make_dir("cifar10", target)
    tarball = _download("cifar10", target, CIFAR_TARBALL, what, progress)
    _extract_cifar(tarball, target, progress)
    tarball.unlink(missing_ok=True)
    return _locate([target], names) or []


def load_cifar10(data_dir: str | Path | None, download: bool, progress: Progress) -> Raw:
    """cifar10: 50,000 training and 10,000 test 3x32x32 images (CHW, values 0..255)."""
    paths = _cifar_paths(data_dir, download, progress)
    if len(paths) != len(CIFAR_TRAIN) + 1:
        raise DataError(f"cifar10: extraction did not produce the {CIFAR_DIR}/ batch files")
    parts = [read_cifar_batch(p, "cifar10") for p in paths[:-1]]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    xt, yt = read_cifar_batch(paths[-1], "cifar10")
    return Raw(x=x, y=y, scale=255.0, x_test=xt, y_test=yt, num_classes=10)


GENERATED = ("waves", "spectrograms", "sentences")


def load_generated(name: str) -> Raw:
    """A set netdsl.data.synthetic generates (seed 0, the same samples every time)."""
    from netdsl.data import synthetic

    if name == "waves":
        x, y = synthetic.waves()
    elif name == "spectrograms":
        x, y = synthetic.spectrograms()
    else:
        x, y, _ = synthetic.sentences()
    return Raw(x=x, y=y, scale=1.0, num_classes=int(y.max()) + 1)


def load_builtin(name: str, data_dir: str | Path | None, download: bool, progress: Progress) -> Raw:
    """Load one of the built-in data sets by its (normalized) name."""
    if name == "digits":
        return load_digits()
    if name in ("mnist", "fashion_mnist"):
        return load_idx_set(name, data_dir, download, progress)
    if name == "cifar10":
        return load_cifar10(data_dir, download, progress)
    if name in GENERATED:
        return load_generated(name)
    raise DataError(f"unknown built-in data set '{name}'")
