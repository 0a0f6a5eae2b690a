"""Issue 11 S5 and D7: .npy/.npz headers are read and checked before any array is allocated."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from netdsl import memory, npyfile


def npy_bytes(shape: tuple[int, ...], dtype: str = "<f8", data: bytes = b"") -> bytes:
    """A .npy file with any header, followed by `data` (which need not match it)."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    return buffer.getvalue()


@pytest.fixture
def no_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if anything reaches np.load: the checks must refuse the file from its headers."""

    def refuse(*args, **kwargs):
        raise AssertionError("np.load was called on a file the headers should have refused")

    monkeypatch.setattr(npyfile.np, "load", refuse)


def test_headers_are_read_without_loading(tmp_path: Path, no_load: None) -> None:
    path = tmp_path / "a.npz"
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.zeros((3, 4), np.float32), y=np.arange(3))
    path.write_bytes(buffer.getvalue())
    headers = npyfile.npz_headers(path)
    assert headers["x"].shape == (3, 4) and headers["x"].dtype == np.float32 and headers["x"].nbytes == 48
    assert headers["y"].shape == (3,)


def test_member_promising_more_than_it_holds(tmp_path: Path, no_load: None) -> None:
    """The 8.5 MB npz that became an 8 GiB allocation: the header's shape is checked against the member."""
    path = tmp_path / "bomb.npz"
    path.write_bytes(zip_of({"x.npy": npy_bytes((2**30,), data=b"\0" * 64)}))
    with pytest.raises(npyfile.ArrayFileError, match=r"array 'x': its header declares 8,589,934,592 bytes"):
        npyfile.npz_headers(path)


def test_memory_is_checked_before_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_load: None) -> None:
    monkeypatch.setattr(npyfile, "available_memory", lambda: 1000)
    expected = r"x would take 8,000 bytes of memory once loaded, more than the 1,000 bytes available"
    with pytest.raises(npyfile.ArrayFileError, match=expected):
        npyfile.check_fits_memory(tmp_path / "a.npz", 8000, "x")


@pytest.mark.parametrize(
    "members,fragment",
    [
        ({"x.pkl": b"cos\nsystem\n"}, "member 'x.pkl' is not a .npy array"),
        ({"x.npy": npy_bytes((2,), "|O", b"\0" * 16)}, "holds Python objects, which are not loaded"),
        ({"x.npy": npy_bytes((2,), "<U3", b"\0" * 24)}, "holds <U3 values, expected numbers"),
        ({"x.npy": b"\x93NUMPY\x09\x00garbage"}, r"not a readable .npy array \(invalid header"),
    ],
)
def test_bad_members_are_named(tmp_path: Path, no_load: None, members: dict, fragment: str) -> None:
    path = tmp_path / "a.npz"
    path.write_bytes(zip_of(members))
    with pytest.raises(npyfile.ArrayFileError, match=fragment):
        npyfile.npz_headers(path)


def test_npy_header_checks(tmp_path: Path, no_load: None) -> None:
    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    with pytest.raises(npyfile.ArrayFileError, match="empty file"):
        npyfile.npy_header(empty)
    npz = tmp_path / "really.npy"
    npz.write_bytes(zip_of({"x.npy": npy_bytes((1,), data=b"\0" * 8)}))
    with pytest.raises(npyfile.ArrayFileError, match="an .npz archive named .npy"):
        npyfile.npy_header(npz)
    huge = tmp_path / "huge.npy"
    huge.write_bytes(npy_bytes((10**6, 10**6, 10**6), data=b"\0" * 8))
    with pytest.raises(npyfile.ArrayFileError, match=r"truncated: its header declares shape \[1000000, 1000000"):
        npyfile.npy_header(huge)


def test_require_memory_names_what(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_memory", lambda: 2**30)
    expected = r"the weights of x would take 2.0 GiB of memory, more than the 1.0 GiB"
    with pytest.raises(memory.NotEnoughMemory, match=expected):
        memory.require_memory(2**31, "the weights of x")
    memory.require_memory(2**29, "fits")
