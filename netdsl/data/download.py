"""Downloading data files with urllib: SHA-256 check, temporary name then rename, tar extraction."""

from __future__ import annotations

import hashlib
import http.client
import shutil
import socket
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from netdsl.data import DataError
from netdsl.fileio import atomic_write

CHUNK = 1 << 20
TIMEOUT_S = 60.0
MAX_DOWNLOAD_BYTES = 256 * 2**20  # the largest file downloaded, the CIFAR-10 tarball, is 163 MiB

# The opener; tests replace it (monkeypatch) so that no test touches the network.
urlopen: Callable = urllib.request.urlopen


class DownloadFailed(Exception):
    """One download attempt failed; the message is a short reason."""


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _reason(exc: BaseException) -> str:
    """A short, human reason for a failed request."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        inner = exc.reason
        if isinstance(inner, (socket.gaierror, ConnectionRefusedError, ConnectionResetError)):
            return "no network"
        if isinstance(inner, (TimeoutError, socket.timeout)):
            return "timed out"
        return str(inner)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(exc, http.client.IncompleteRead):
        return "connection closed before the end of the file"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _stream_to(url: str, out: IO[bytes]) -> str:
    """Copy the body at url into out, returning its hex SHA-256."""
    digest = hashlib.sha256()
    received = 0
    with urlopen(url, timeout=TIMEOUT_S) as response:
        declared = response.headers.get("Content-Length") if getattr(response, "headers", None) else None
        if declared is not None and declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
            raise DownloadFailed(_too_large(url))
        while block := response.read(CHUNK):
            received += len(block)
            if received > MAX_DOWNLOAD_BYTES:
                raise DownloadFailed(_too_large(url))
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _too_large(url: str) -> str:
    return f"{url}: larger than {MAX_DOWNLOAD_BYTES // 2**20} MiB, the most a download may be"


def fetch(url: str, dest: Path, sha256: str) -> None:
    """Download url to dest atomically (temporary name, then rename) if its SHA-256 matches."""

    def write(out: IO[bytes]) -> None:
        try:
            got = _stream_to(url, out)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            raise DownloadFailed(_reason(exc)) from None
        if got != sha256.lower():
            raise DownloadFailed(f"SHA-256 mismatch for {dest.name} from {url}: got {got}, expected {sha256}")

    atomic_write(dest, write)


def fetch_any(urls: Iterable[str], dest: Path, sha256: str, progress: Callable[[str], None] | None) -> None:
    """Try each mirror in turn; raise DownloadFailed with the reasons if none works."""
    reasons: list[str] = []
    for url in urls:
        if progress is not None:
            progress(f"downloading {url} -> {dest}")
        try:
            fetch(url, dest, sha256)
            return
        except DownloadFailed as exc:
            reasons.append(str(exc))
    unique = list(dict.fromkeys(reasons))
    raise DownloadFailed("; ".join(unique) if unique else "no download address")


def extract_members(archive: Path, members: dict[str, Path], name: str) -> None:
    """Extract the named regular-file members of a tar archive to the given paths (temp name, then rename)."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member_name, dest in members.items():
                _extract_one(tar, member_name, dest, archive, name)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"{name}: {archive}: cannot extract ({_reason(exc)})") from None


def _extract_one(tar: tarfile.TarFile, member_name: str, dest: Path, archive: Path, name: str) -> None:
    """Copy one regular member of tar to dest without trusting its path."""
    try:
        member = tar.getmember(member_name)
    except KeyError:
        raise DataError(f"{name}: {archive}: has no member {member_name}") from None
    source = tar.extractfile(member) if member.isfile() else None
    if source is None:
        raise DataError(f"{name}: {archive}: member {member_name} is not a regular file")
    with source:
        atomic_write(dest, lambda out: shutil.copyfileobj(source, out, CHUNK))
