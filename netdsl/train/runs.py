"""Run directories: a new run never replaces an old one, one trainer per directory, writable before training."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

# What a run writes (best.*: early stopping's best weights; curves.png, settings.json: its pictures), all replaced
# by --overwrite.
RUN_FILES = (
    "weights.npz",
    "checkpoint.npz",
    "history.csv",
    "best.npz",
    "best.json",
    "curves.png",
    "settings.json",
    "diagnostics.csv",
)
EVENT_FILES = "events.out.tfevents.*"  # log = tensorboard
LOCK_FILE = ".netdsl-train.lock"
# fileio.atomic_write's temporary names: ".<file>.<8 random characters>.tmp"
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


class RunDirError(Exception):
    """The run directory cannot be used; one line for the user (exit 1)."""


class RunInUse(RunDirError):
    """Another trainer holds the directory's lock."""


def held_run_file(directory: Path) -> str | None:
    """The first file of an earlier run in `directory`, if any."""
    return next((name for name in RUN_FILES if (directory / name).exists()), None)


def is_free(directory: Path) -> bool:
    """Nothing there yet: no such path, or an empty directory."""
    return not directory.exists() or (directory.is_dir() and not any(directory.iterdir()))


def next_free(default: Path) -> Path:
    """`default` when free, else the first free of `default-2`, `default-3`, ..."""
    candidate, number = default, 1
    while not is_free(candidate):
        number += 1
        candidate = default.with_name(f"{default.name}-{number}")
    return candidate


def refuse_earlier_run(directory: Path) -> None:
    """An explicit --out that holds a run is kept unless the user asks to replace it."""
    held = held_run_file(directory)
    if held is not None:
        raise RunDirError(
            f"{directory} holds an earlier run ({held}); continue it with --resume {directory}, "
            "replace it with --overwrite, or choose another --out"
        )


def remove_run_files(directory: Path) -> None:
    """--overwrite: the files of the earlier run go (the lock is held, so no trainer writes them)."""
    for name in RUN_FILES:
        (directory / name).unlink(missing_ok=True)
    for events in directory.glob(EVENT_FILES):
        events.unlink(missing_ok=True)


def ensure_writable(directory: Path) -> None:
    """Create `directory` and write a file into it, or say in one line why that cannot be done."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".netdsl-write-check.", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        raise RunDirError(f"{directory}: exists and is not a directory") from None
    except OSError as err:
        raise RunDirError(f"{directory}: cannot write there ({err.strerror or err})") from None
    if shutil.disk_usage(directory).free == 0:
        raise RunDirError(f"{directory}: cannot write there (no space left on the device)")


def remove_orphan_temps(directory: Path) -> list[Path]:
    """Temporary files of an earlier trainer that died between writing and renaming (call with the lock held)."""
    removed = []
    for path in directory.iterdir():
        if _TEMPORARY.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def claim(directory: Path, fresh_from: Path | None = None) -> tuple[Path, RunLock]:
    """Create, check and lock a run directory. With `fresh_from` (the default directory) a directory another
    trainer took meanwhile moves on to the next free name; otherwise RunInUse names the trainer that holds it."""
    while True:
        ensure_writable(directory)
        lock = RunLock(directory)
        try:
            lock.acquire()
        except RunInUse:
            if fresh_from is None:
                raise
            directory = next_free(fresh_from)
            continue
        if fresh_from is not None and any(path.name != LOCK_FILE for path in directory.iterdir()):
            lock.release()  # another run finished here between the look and the lock
            directory = next_free(fresh_from)
            continue
        return directory, lock


class RunLock:
    """A run directory's lock file holding the trainer's pid, locked by the operating system (flock, msvcrt), so the
    lock ends with the process: the file a killed trainer left is stale and is taken over."""

    def __init__(self, directory: Path):
        self.path = directory / LOCK_FILE
        self.stale_pid: int | None = None  # the pid of a dead trainer whose lock file was taken over
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                pid = _read_pid(fd)
                os.close(fd)
                holder = f"pid {pid}" if pid is not None else "another process"
                raise RunInUse(
                    f"{self.path.parent} is in use by another netdsl train ({holder}); "
                    "wait for it to finish or choose another --out"
                )
            if _same_file(fd, self.path):  # not a file an exiting holder unlinked after we opened it
                break
            os.close(fd)
        self.stale_pid = _read_pid(fd)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        if os.name == "nt":  # Windows removes no open file
            os.close(self._fd)
        try:
            self.path.unlink(missing_ok=True)  # unlink, then unlock: an opener of the old file retries on a new one
        except OSError:
            pass  # another trainer took the lock between close and unlink (Windows): its file stays
        if os.name != "nt":
            os.close(self._fd)
        self._fd = None


def _try_lock(fd: int) -> bool:
    """Take the operating system's exclusive lock on `fd` without waiting."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]  # Windows only
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:  # Windows: the holder's locked byte cannot be read
        return None
    return int(text) if text.isdigit() else None


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False
