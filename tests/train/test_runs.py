"""Run directories: fresh names, refusals, the writability check, orphan temporary files and the lock."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from netdsl.fileio import atomic_write
from netdsl.train import runs
from netdsl.train.runs import LOCK_FILE, RunDirError, RunInUse, RunLock, claim


def test_next_free_skips_directories_that_hold_anything(tmp_path: Path) -> None:
    default = tmp_path / "runs" / "lenet5"
    assert runs.next_free(default) == default
    default.mkdir(parents=True)
    assert runs.next_free(default) == default  # an empty directory is free
    (default / "weights.npz").write_bytes(b"")
    (tmp_path / "runs" / "lenet5-2").mkdir()
    (tmp_path / "runs" / "lenet5-2" / "notes.txt").write_text("mine")
    assert runs.next_free(default) == tmp_path / "runs" / "lenet5-3"


def test_an_earlier_run_is_refused_by_name(tmp_path: Path) -> None:
    runs.refuse_earlier_run(tmp_path)  # nothing there
    (tmp_path / "history.csv").write_text("epoch\n")
    with pytest.raises(RunDirError, match=r"holds an earlier run \(history.csv\).*--resume.*--overwrite"):
        runs.refuse_earlier_run(tmp_path)


def test_a_file_in_the_path_is_one_line_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(RunDirError, match="afile/sub: cannot write there") as err:
        runs.ensure_writable(tmp_path / "afile" / "sub")
    assert "\n" not in str(err.value)
    with pytest.raises(RunDirError, match="exists and is not a directory"):
        runs.ensure_writable(tmp_path / "afile")


def test_an_unwritable_directory_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(runs.tempfile, "mkstemp", denied)
    with pytest.raises(RunDirError, match=r"cannot write there \(Permission denied\)"):
        runs.ensure_writable(tmp_path)


def test_ensure_writable_creates_the_directory_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    runs.ensure_writable(target)
    assert target.is_dir() and list(target.iterdir()) == []


def test_orphan_temporary_files_of_atomic_writes_are_removed(tmp_path: Path, monkeypatch) -> None:
    names = []
    real_mkstemp = tempfile.mkstemp

    def recording_mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        names.append(Path(name))
        return fd, name

    def killed(handle):
        raise RuntimeError("killed while writing")

    monkeypatch.setattr(tempfile, "mkstemp", recording_mkstemp)
    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "checkpoint.npz", killed)
    orphan = names[0]
    orphan.write_bytes(b"half a checkpoint")  # what a SIGKILL leaves: atomic_write had no time to clean up
    keep = [tmp_path / "notes.tmp", tmp_path / "checkpoint.npz", tmp_path / ".hidden"]
    for path in keep:
        path.write_text("the user's")
    assert runs.remove_orphan_temps(tmp_path) == [orphan]
    assert not orphan.exists() and all(path.exists() for path in keep)


def test_a_second_lock_is_refused_naming_the_holder(tmp_path: Path) -> None:
    with RunLock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text().strip() == str(os.getpid())
        with pytest.raises(RunInUse, match=rf"in use by another netdsl train \(pid {os.getpid()}\)"):
            RunLock(tmp_path).acquire()
    assert not (tmp_path / LOCK_FILE).exists()
    with RunLock(tmp_path):  # released: free again
        pass


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / LOCK_FILE).write_text(f"{dead.pid}\n")
    with RunLock(tmp_path) as lock:
        assert lock.stale_pid == dead.pid
        assert (tmp_path / LOCK_FILE).read_text().strip() == str(os.getpid())


def test_a_lock_held_by_another_process_is_refused(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from netdsl.train.runs import RunLock; "
            " lock = RunLock(Path(sys.argv[1])); lock.acquire(); "
            "print('locked', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunInUse, match=rf"pid {holder.pid}\)"):
            RunLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    with RunLock(tmp_path) as lock:  # the killed holder's lock file is stale now
        assert lock.stale_pid == holder.pid


def test_claiming_the_default_moves_on_when_another_trainer_holds_it(tmp_path: Path) -> None:
    default = tmp_path / "runs" / "net"
    default.mkdir(parents=True)
    with RunLock(default):
        directory, lock = claim(default, fresh_from=default)
        try:
            assert directory == tmp_path / "runs" / "net-2"
        finally:
            lock.release()
        with pytest.raises(RunInUse):
            claim(default)
