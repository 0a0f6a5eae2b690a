"""IDX (mnist, fashion_mnist) and CIFAR-10 binary readers, the cache directory and downloads (no network)."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import socket
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from netdsl.data import DataError, load_arrays, load_dataset
from netdsl.data import builtin as bi
from netdsl.data import download as dl
from netdsl.data.readers import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, read_cifar_batch, read_idx

IDX_NAMES = bi.IDX_FILES


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that would open a URL it was not given."""

    def refuse(url: str, timeout: float = 0.0) -> None:
        raise AssertionError(f"test tried to open {url}")

    monkeypatch.setattr(dl, "urlopen", refuse)


@pytest.fixture(autouse=True)
def trust_cached_test_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests put hand-made files under the published names; tests/data/test_data_cache.py checks hashes."""
    monkeypatch.setattr(bi, "_check_cached", lambda name, path: None)


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """An IDX file: big-endian magic, dimensions, then the unsigned bytes."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def idx_set(n_train: int = 6, n_test: int = 4, side: int = 28) -> dict[str, bytes]:
    """Gzipped IDX files of a tiny mnist-like set; pixel value = 10 * label + index in the set."""
    out: dict[str, bytes] = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n, dtype=np.uint8) % 10
        images = np.zeros((n, side, side), dtype=np.uint8)
        images[:] = (labels * 10 + np.arange(n))[:, None, None].astype(np.uint8)
        out[f"{prefix}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(images, IDX_IMAGES_MAGIC))
        out[f"{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(labels, IDX_LABELS_MAGIC))
    return out


def write_files(directory: Path, files: dict[str, bytes]) -> None:
    """Write name -> bytes into directory."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, blob in files.items():
        (directory / name).write_bytes(blob)


def cifar_records(n: int, first_label: int = 0) -> tuple[bytes, np.ndarray, np.ndarray]:
    """n CIFAR-10 binary records with distinct CHW pixels; returns the bytes, images and labels."""
    rng = np.random.default_rng(n + first_label)
    labels = ((np.arange(n) + first_label) % 10).astype(np.uint8)
    images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    blob = b"".join(bytes([int(label)]) + image.tobytes() for label, image in zip(labels, images, strict=True))
    return blob, images, labels


def cifar_batches() -> dict[str, bytes]:
    """The six batch files, tiny: 3 records per training batch, 2 in the test batch."""
    files = {f"data_batch_{i}.bin": cifar_records(3, i)[0] for i in range(1, 6)}
    files["test_batch.bin"] = cifar_records(2, 7)[0]
    return files


def cifar_tarball(files: dict[str, bytes]) -> bytes:
    """A cifar-10-binary.tar.gz holding cifar-10-batches-bin/<files>."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, blob in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return buffer.getvalue()


def serve(monkeypatch: pytest.MonkeyPatch, routes: dict[str, bytes | Exception]) -> list[str]:
    """Replace the opener by one that serves local bytes (or raises) for file names; returns the URLs asked."""
    asked: list[str] = []

    def opener(url: str, timeout: float = 0.0) -> io.BytesIO:
        asked.append(url)
        for suffix, answer in routes.items():
            if url.endswith(suffix):
                if isinstance(answer, Exception):
                    raise answer
                return io.BytesIO(answer)
        raise urllib.error.HTTPError(url, 404, "Not Found", None, None)  # type: ignore[arg-type]

    monkeypatch.setattr(dl, "urlopen", opener)
    return asked


def pin_digests(monkeypatch: pytest.MonkeyPatch, name: str, files: dict[str, bytes]) -> None:
    """Point the SHA-256 constants of a built-in set at the test's own files."""
    digests = {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    monkeypatch.setitem(bi.SHA256, name, digests)


def one_line(err: pytest.ExceptionInfo[DataError]) -> str:
    """The error message, asserting it is a single line."""
    text = str(err.value)
    assert "\n" not in text
    return text


# ---------------------------------------------------------------- IDX


def test_mnist_from_cache_dir(tmp_path: Path) -> None:
    write_files(tmp_path / "mnist", idx_set())
    ds = load_dataset("mnist", (1, 28, 28), data_dir=tmp_path, download=False)
    assert ds.name == "mnist" and ds.num_classes == 10 and ds.notices == []
    assert ds.x_train.shape == (6, 1, 28, 28) and ds.x_val.shape == (4, 1, 28, 28)
    assert ds.y_train.tolist() == [0, 1, 2, 3, 4, 5] and ds.y_val.tolist() == [0, 1, 2, 3]
    assert ds.y_train.dtype == np.int64 and ds.x_train.dtype == np.float32
    assert np.allclose(ds.x_train[:, 0, 5, 5] * 255, [0, 11, 22, 33, 44, 55])


def test_mnist_test_split_is_validation_regardless_of_val_split(tmp_path: Path) -> None:
    write_files(tmp_path / "mnist", idx_set())
    ds = load_dataset("mnist", (784,), data_dir=tmp_path, download=False, val_split=0.5)
    assert ds.x_train.shape == (6, 784) and ds.x_val.shape == (4, 784)
    ev = load_arrays("mnist", (784,), data_dir=tmp_path, download=False)
    assert np.array_equal(ev.x, ds.x_val) and ev.y.tolist() == [0, 1, 2, 3]


def test_fashion_mnist_files_directly_in_data_dir_and_unzipped(tmp_path: Path) -> None:
    files = idx_set()
    files["train-images-idx3-ubyte"] = gzip.decompress(files.pop("train-images-idx3-ubyte.gz"))
    write_files(tmp_path, files)
    ds = load_dataset("fashion_mnist", (1, 32, 32), data_dir=tmp_path, download=False)
    assert ds.name == "fashion_mnist" and ds.x_train.shape == (6, 1, 32, 32)
    assert ds.notices == ["fashion_mnist: resized 28x28 -> 32x32 to fit input(1, 32, 32)"]
    assert load_dataset("fashion-mnist", (784,), data_dir=tmp_path, download=False).name == "fashion_mnist"


def test_idx_bad_magic(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((2, 3, 3), np.uint8), 0x00000903)))
    with pytest.raises(DataError) as err:
        read_idx(path, IDX_IMAGES_MAGIC, "mnist")
    assert one_line(err) == f"mnist: {path}: bad magic number 0x00000903, expected 0x00000803 (IDX images)"


def test_idx_labels_given_as_images(tmp_path: Path) -> None:
    files = idx_set()
    files["t10k-labels-idx1-ubyte.gz"] = files["t10k-images-idx3-ubyte.gz"]
    write_files(tmp_path / "mnist", files)
    with pytest.raises(DataError) as err:
        load_dataset("mnist", (784,), data_dir=tmp_path, download=False)
    assert "t10k-labels-idx1-ubyte.gz: bad magic number" in one_line(err)


def test_idx_truncated_data(tmp_path: Path) -> None:
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((4, 28, 28), np.uint8), IDX_IMAGES_MAGIC)[:-100]))
    with pytest.raises(DataError) as err:
        read_idx(path, IDX_IMAGES_MAGIC, "mnist")
    assert one_line(err) == f"mnist: {path}: truncated: 3036 data bytes, header (4, 28, 28) needs 3136"


def test_idx_truncated_header(tmp_path: Path) -> None:
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(IDX_IMAGES_MAGIC.to_bytes(4, "big") + b"\x00\x00"))
    with pytest.raises(DataError, match="truncated IDX header"):
        read_idx(path, IDX_IMAGES_MAGIC, "mnist")
    path.write_bytes(gzip.compress(b"\x00\x00"))
    with pytest.raises(DataError, match="too short for an IDX header"):
        read_idx(path, IDX_IMAGES_MAGIC, "mnist")


def test_idx_trailing_bytes(tmp_path: Path) -> None:
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(5, np.uint8), IDX_LABELS_MAGIC) + b"xx"))
    with pytest.raises(DataError, match="2 bytes more than header"):
        read_idx(path, IDX_LABELS_MAGIC, "mnist")


def test_idx_truncated_gzip(tmp_path: Path) -> None:
    files = idx_set()
    cut = files["train-images-idx3-ubyte.gz"]
    files["train-images-idx3-ubyte.gz"] = cut[: len(cut) // 2]
    write_files(tmp_path / "mnist", files)
    with pytest.raises(DataError) as err:
        load_dataset("mnist", (784,), data_dir=tmp_path, download=False)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    assert one_line(err) == f"mnist: {path}: truncated gzip file (ends before its end marker)"


def test_idx_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(DataError) as err:
        read_idx(path, IDX_IMAGES_MAGIC, "mnist")
    assert one_line(err).startswith(f"mnist: {path}: not a valid gzip file")


def test_idx_count_mismatch_and_bad_label(tmp_path: Path) -> None:
    files = idx_set()
    files["train-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(np.zeros(5, np.uint8), IDX_LABELS_MAGIC))
    write_files(tmp_path / "mnist", files)
    with pytest.raises(DataError, match="has 6 images but .* has 5 labels"):
        load_dataset("mnist", (784,), data_dir=tmp_path, download=False)
    files["train-labels-idx1-ubyte.gz"] = gzip.compress(
        idx_bytes(np.array([0, 1, 2, 3, 12, 5], np.uint8), IDX_LABELS_MAGIC)
    )
    write_files(tmp_path / "mnist", files)
    with pytest.raises(DataError, match=r"label 12 at record 4 is not in 0\.\.9"):
        load_dataset("mnist", (784,), data_dir=tmp_path, download=False)


def test_missing_files_with_downloads_off(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_dataset("mnist", (784,), data_dir=tmp_path, download=False)
    assert one_line(err) == (
        "mnist: data files not found and downloads are off; put train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz "
        f"in {tmp_path / 'mnist'}/"
    )


# ---------------------------------------------------------------- downloads


def test_download_offline_says_where_to_put_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offline = urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))
    serve(monkeypatch, {"": offline})
    with pytest.raises(DataError) as err:
        load_dataset("mnist", (784,), data_dir=tmp_path)
    assert one_line(err) == (
        "mnist: cannot download (no network); put train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz "
        f"in {tmp_path / 'mnist'}/"
    )
    assert list((tmp_path / "mnist").iterdir()) == []


def test_download_mnist_with_mirror_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = idx_set()
    pin_digests(monkeypatch, "mnist", files)
    first, second = bi.MIRRORS["mnist"][:2]
    routes: dict[str, bytes | Exception] = {
        first + name: urllib.error.HTTPError(first + name, 403, "Forbidden", None, None)  # type: ignore[arg-type]
        for name in files
    }
    routes.update({second + name: blob for name, blob in files.items()})
    asked = serve(monkeypatch, routes)
    messages: list[str] = []
    ds = load_dataset("mnist", (1, 28, 28), data_dir=tmp_path, progress=messages.append)
    assert ds.x_train.shape == (6, 1, 28, 28)
    assert len(asked) == 8 and asked[0] == first + IDX_NAMES[0] and asked[1] == second + IDX_NAMES[0]
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(files)
    assert messages[0] == f"downloading {asked[0]} -> {tmp_path / 'mnist' / IDX_NAMES[0]}"
    serve(monkeypatch, {})  # a second load must not download again
    assert load_dataset("mnist", (784,), data_dir=tmp_path).x_train.shape == (6, 784)


def test_download_only_the_missing_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = idx_set()
    pin_digests(monkeypatch, "fashion_mnist", files)
    write_files(tmp_path / "fashion_mnist", {k: v for k, v in files.items() if "t10k" not in k})
    asked = serve(monkeypatch, dict(files))
    load_dataset("fashion_mnist", (784,), data_dir=tmp_path)
    assert sorted(url.rsplit("/", 1)[1] for url in asked) == sorted(k for k in files if "t10k" in k)


def test_download_sha256_mismatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = idx_set()
    pin_digests(monkeypatch, "mnist", files)
    tampered = dict(files)
    tampered["train-images-idx3-ubyte.gz"] = files["train-images-idx3-ubyte.gz"] + b"!"
    serve(monkeypatch, dict(tampered))
    with pytest.raises(DataError) as err:
        load_dataset("mnist", (784,), data_dir=tmp_path)
    message = one_line(err)
    assert message.startswith("mnist: cannot download (SHA-256 mismatch for train-images-idx3-ubyte.gz from ")
    assert f"expected {bi.SHA256['mnist']['train-images-idx3-ubyte.gz']}" in message
    assert message.endswith(f"in {tmp_path / 'mnist'}/")
    assert list((tmp_path / "mnist").iterdir()) == []  # no partial or unverified file left


def test_download_failure_midway_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(dl, "urlopen", lambda url, timeout=0.0: Broken(b""))
    with pytest.raises(DataError, match=r"cifar10: cannot download \(Connection reset by peer\)"):
        load_dataset("cifar10", (3, 32, 32), data_dir=tmp_path)
    assert list((tmp_path / "cifar10").iterdir()) == []


def test_download_cut_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Short(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise http.client.IncompleteRead(b"part", 100)

    monkeypatch.setattr(dl, "urlopen", lambda url, timeout=0.0: Short(b""))
    with pytest.raises(DataError) as err:
        load_dataset("fashion_mnist", (784,), data_dir=tmp_path)
    assert one_line(err).startswith("fashion_mnist: cannot download (connection closed before the end of the file);")
    assert list((tmp_path / "fashion_mnist").iterdir()) == []


def test_real_digests_are_well_formed() -> None:
    for name, digests in bi.SHA256.items():
        assert name in bi.MIRRORS
        for digest in digests.values():
            assert len(digest) == 64 and int(digest, 16) >= 0


# ---------------------------------------------------------------- CIFAR-10


def test_cifar_batch_layout(tmp_path: Path) -> None:
    blob, images, labels = cifar_records(5)
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(blob)
    x, y = read_cifar_batch(path)
    assert x.shape == (5, 3, 32, 32) and np.array_equal(x, images) and np.array_equal(y, labels)


def test_cifar_from_extracted_dir(tmp_path: Path) -> None:
    write_files(tmp_path / "cifar10" / "cifar-10-batches-bin", cifar_batches())
    ds = load_dataset("cifar10", (3, 32, 32), data_dir=tmp_path, download=False)
    assert ds.x_train.shape == (15, 3, 32, 32) and ds.x_val.shape == (2, 3, 32, 32)
    assert ds.num_classes == 10 and ds.notices == []
    _, images, labels = cifar_records(2, 7)
    assert np.allclose(ds.x_val * 255, images) and ds.y_val.tolist() == labels.tolist()


def test_cifar_truncated_batch(tmp_path: Path) -> None:
    files = cifar_batches()
    files["data_batch_3.bin"] = files["data_batch_3.bin"][:-1]
    write_files(tmp_path / "cifar10" / "cifar-10-batches-bin", files)
    with pytest.raises(DataError) as err:
        load_dataset("cifar10", (3, 32, 32), data_dir=tmp_path, download=False)
    path = tmp_path / "cifar10" / "cifar-10-batches-bin" / "data_batch_3.bin"
    assert one_line(err) == (
        f"cifar10: {path}: 9218 bytes is not a whole number of 3073-byte records "
        "(truncated or not a CIFAR-10 binary batch)"
    )


def test_cifar_bad_label(tmp_path: Path) -> None:
    files = cifar_batches()
    files["test_batch.bin"] = b"\xff" + files["test_batch.bin"][1:]
    write_files(tmp_path / "cifar10" / "cifar-10-batches-bin", files)
    with pytest.raises(DataError, match=r"test_batch.bin: label 255 at record 0 is not in 0\.\.9"):
        load_dataset("cifar10", (3, 32, 32), data_dir=tmp_path, download=False)


def test_cifar_download_and_extract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tarball = cifar_tarball(cifar_batches())
    pin_digests(monkeypatch, "cifar10", {"cifar-10-binary.tar.gz": tarball})
    asked = serve(monkeypatch, {"cifar-10-binary.tar.gz": tarball})
    messages: list[str] = []
    ds = load_dataset("cifar10", (1, 32, 32), data_dir=tmp_path, progress=messages.append)
    assert asked == ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"]
    assert [m.split()[0] for m in messages] == ["downloading", "extracting"]
    assert ds.x_train.shape == (15, 1, 32, 32)
    assert ds.notices == ["cifar10: converted 3 channels (RGB) -> 1 (gray) to fit input(1, 32, 32)"]
    folder = tmp_path / "cifar10"
    assert sorted(p.name for p in folder.iterdir()) == ["cifar-10-batches-bin"]  # tarball removed
    assert len(list((folder / "cifar-10-batches-bin").iterdir())) == 6


def test_cifar_tarball_sha256_mismatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tarball = cifar_tarball(cifar_batches())
    serve(monkeypatch, {"cifar-10-binary.tar.gz": tarball})  # the real digest will not match
    with pytest.raises(DataError) as err:
        load_dataset("cifar10", (3, 32, 32), data_dir=tmp_path)
    message = one_line(err)
    assert message.startswith("cifar10: cannot download (SHA-256 mismatch for cifar-10-binary.tar.gz")
    assert message.endswith(
        f"put cifar-10-binary.tar.gz (or its extracted cifar-10-batches-bin/) in {tmp_path / 'cifar10'}/"
    )
    assert list((tmp_path / "cifar10").iterdir()) == []


def test_cifar_tarball_put_by_hand_is_checked_and_extracted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tarball = cifar_tarball(cifar_batches())
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(tarball)
    with pytest.raises(DataError, match="SHA-256 mismatch .*; delete it to download again"):
        load_dataset("cifar10", (3, 32, 32), data_dir=tmp_path, download=False)
    pin_digests(monkeypatch, "cifar10", {"cifar-10-binary.tar.gz": tarball})
    ds = load_dataset("cifar10", (3, 32, 32), data_dir=tmp_path, download=False)
    assert ds.x_train.shape == (15, 3, 32, 32)
    assert (tmp_path / "cifar-10-binary.tar.gz").exists()


def test_cifar_tarball_missing_member(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = cifar_batches()
    del files["test_batch.bin"]
    tarball = cifar_tarball(files)
    (tmp_path / "cifar10").mkdir()
    (tmp_path / "cifar10" / "cifar-10-binary.tar.gz").write_bytes(tarball)
    pin_digests(monkeypatch, "cifar10", {"cifar-10-binary.tar.gz": tarball})
    with pytest.raises(DataError, match="has no member cifar-10-batches-bin/test_batch.bin"):
        load_dataset("cifar10", (3, 32, 32), data_dir=tmp_path, download=False)


def test_cifar_corrupt_tarball(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tarball = cifar_tarball(cifar_batches())[:200]
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(tarball)
    pin_digests(monkeypatch, "cifar10", {"cifar-10-binary.tar.gz": tarball})
    with pytest.raises(DataError) as err:
        load_dataset("cifar10", (3, 32, 32), data_dir=tmp_path, download=False)
    assert one_line(err).startswith(f"cifar10: {tmp_path / 'cifar-10-binary.tar.gz'}: cannot extract (")
