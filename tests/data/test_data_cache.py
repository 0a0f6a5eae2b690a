"""Issue 11 S5: cached archives are checked again when read, gzip and download sizes are capped."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from netdsl.data import DataError, load_dataset, readers
from netdsl.data import builtin as bi
from netdsl.data import download as dl


def test_tampered_cached_mnist_archive_is_refused(tmp_path: Path) -> None:
    """Only downloads were SHA-checked: a file swapped in a shared cache was read as MNIST."""
    cache = tmp_path / "mnist"
    cache.mkdir()
    for name in bi.IDX_FILES:
        (cache / name).write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x00"))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: SHA-256 mismatch .*delete it to download again"):
        load_dataset("mnist", (1, 28, 28), data_dir=tmp_path, download=False)


def test_gzip_bomb_stops_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 1000)
    bomb = tmp_path / "x-idx1-ubyte.gz"
    bomb.write_bytes(gzip.compress(b"\x00" * 100_000))
    with pytest.raises(DataError, match="larger than 0 MiB once decompressed"):
        readers.read_idx(bomb, readers.IDX_LABELS_MAGIC, "mnist")


class _Response(io.BytesIO):
    def __init__(self, body: bytes, length: str | None):
        super().__init__(body)
        self.headers = {} if length is None else {"Content-Length": length}


@pytest.mark.parametrize("declared", [None, "999999999999"])
def test_downloads_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: str | None) -> None:
    monkeypatch.setattr(dl, "MAX_DOWNLOAD_BYTES", 3 * dl.CHUNK)
    monkeypatch.setattr(dl, "urlopen", lambda url, timeout: _Response(b"\x00" * (4 * dl.CHUNK), declared))
    dest = tmp_path / "f.gz"
    with pytest.raises(dl.DownloadFailed, match="larger than 3 MiB, the most a download may be"):
        dl.fetch("https://example.invalid/f.gz", dest, "0" * 64)
    assert not dest.exists() and not list(tmp_path.iterdir())  # no partial file left behind
