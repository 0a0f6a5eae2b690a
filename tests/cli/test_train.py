"""`netdsl train` as an unlucky user meets it (issue 11, D1-D5, D8): nothing trained is lost, nothing is hidden."""

from __future__ import annotations

import errno
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from netdsl import cli, fileio
from netdsl.train import runs
from netdsl.train.checkpoint import read_checkpoint

# A small net on the built-in digits: an epoch takes a fraction of a second.
PROGRAM = "input(1, 8, 8) - fc(32) - relu - dropout(0.2) - output(10)\ntrain {\n epochs = 2\n batch = 64\n}\n"


def netdsl_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netdsl.cli", *args], capture_output=True, text=True, cwd=cwd)


def start(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "netdsl.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
    )


def wait_for(path: Path, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while not path.exists():
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def one_line_error(run: subprocess.CompletedProcess, status: int = 1) -> str:
    assert run.returncode == status, run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    if status == 2:  # argparse: usage, then the error line
        return run.stderr.strip().splitlines()[-1]
    assert run.stderr.count("\n") == 1, run.stderr
    return run.stderr


def history_epochs(run_dir: Path) -> list[int]:
    return [int(line.split(",")[0]) for line in (run_dir / "history.csv").read_text().splitlines()[1:]]


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "small.net"
    path.write_text(PROGRAM)
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, Path]:
    """A program and a finished two-epoch run of it, with flags that differ from the program's settings."""
    root = tmp_path_factory.mktemp("finished")
    (root / "small.net").write_text(PROGRAM)
    run = netdsl_cli("train", "small.net", "--out", "run", "--lr", "0.002", "--batch", "16", "--quiet", cwd=root)
    assert run.returncode == 0, run.stderr
    return root / "small.net", root / "run"


# ---- D1: a resume continues with the run's own settings ----


def test_the_ctrl_c_hint_resumes_with_the_runs_flags_and_ends_as_an_uninterrupted_run(program: Path) -> None:
    root = program.parent
    flags = ["--lr", "0.002", "--batch", "16", "--epochs", "15", "--seed", "3", "--val-split", "0.2", "--quiet"]
    proc = start("train", "small.net", "--out", "a", *flags, cwd=root)
    wait_for(root / "a" / "checkpoint.npz")  # epoch 1 is saved: interrupt a later one
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    hint = out.strip().splitlines()[-1]
    assert "continue with: netdsl train small.net --resume a" in hint, hint
    words = shlex.split(hint.split("continue with: ")[1])
    resumed = netdsl_cli(*words[1:], cwd=root)  # the hint exactly as printed
    assert resumed.returncode == 0, resumed.stderr
    training = next(line for line in out.splitlines() if line.startswith("training"))
    assert training.endswith("adam lr 0.002, batch 16, 15 epochs") and training in resumed.stdout
    full = netdsl_cli("train", "small.net", "--out", "b", *flags, cwd=root)
    assert full.returncode == 0, full.stderr
    a, b = np.load(root / "a" / "weights.npz"), np.load(root / "b" / "weights.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a.files)
    assert history_epochs(root / "a") == list(range(1, 16))


@pytest.mark.parametrize(
    "flag,value,message",
    [
        ("--lr", "0.001", "--lr 0.001 contradicts the run in run, which was started with lr 0.002"),
        ("--batch", "32", "--batch 32 contradicts the run in run, which was started with batch 16"),
        ("--val-split", "0.3", "--val-split 0.3 contradicts the run in run, which was started with val_split 0.1"),
        ("--data", "other.npz", "--data other.npz contradicts the run in run, which was started with data digits"),
        ("--optimizer", "sgd", "--optimizer sgd contradicts the run in run, which was started with optimizer adam"),
        ("--epochs", "1", "--epochs 1: the run in run has already reached epoch 2; give --epochs 2 or more"),
    ],
)
def test_a_flag_that_contradicts_the_run_is_refused_naming_both_values(
    finished, flag: str, value: str, message: str
) -> None:
    program, run = finished
    before = (run / "weights.npz").read_bytes()
    resumed = netdsl_cli("train", program.name, "--resume", "run", flag, value, cwd=program.parent)
    assert message in one_line_error(resumed, status=2)
    assert (run / "weights.npz").read_bytes() == before


def test_flags_that_agree_with_the_run_are_accepted_and_epochs_extend_it(finished, tmp_path: Path) -> None:
    program, run = finished
    os.link(program, tmp_path / program.name)
    (tmp_path / "run").mkdir()
    for path in run.iterdir():
        (tmp_path / "run" / path.name).write_bytes(path.read_bytes())
    resumed = netdsl_cli(
        "train",
        program.name,
        "--resume",
        "run",
        "--lr",
        "0.002",
        "--data",
        "DIGITS",
        "--epochs",
        "3",
        "--quiet",
        cwd=tmp_path,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "adam lr 0.002, batch 16, 3 epochs" in resumed.stdout
    assert history_epochs(tmp_path / "run") == [1, 2, 3]


def test_resuming_a_finished_run_says_it_is_complete_and_how_to_extend_it(finished) -> None:
    program, run = finished
    before = {path.name: path.read_bytes() for path in run.iterdir()}
    resumed = netdsl_cli("train", program.name, "--resume", "run", cwd=program.parent)
    assert resumed.returncode == 0 and resumed.stderr == "", resumed.stderr
    assert resumed.stdout == (
        "run is complete (epoch 2 of 2 trained): nothing to resume. To train on, give a larger "
        "total: netdsl train small.net --resume run --epochs 12\n"
    )
    assert {path.name: path.read_bytes() for path in run.iterdir()} == before


def test_resuming_a_directory_that_does_not_exist_creates_nothing(program: Path) -> None:
    run = netdsl_cli("train", "small.net", "--resume", "typo", cwd=program.parent)
    assert one_line_error(run) == "netdsl: error: typo: no run to resume (no such directory)\n"
    assert not (program.parent / "typo").exists()


def test_a_data_file_that_changed_since_the_run_is_refused(program: Path) -> None:
    root = program.parent
    rng = np.random.default_rng(0)
    np.savez(root / "d.npz", x=rng.random((40, 8, 8), dtype=np.float32), y=np.arange(40) % 10)
    first = netdsl_cli("train", "small.net", "--data", "d.npz", "--out", "r", "--epochs", "1", "--quiet", cwd=root)
    assert first.returncode == 0, first.stderr
    np.savez(root / "d.npz", x=rng.random((40, 8, 8), dtype=np.float32), y=np.arange(40) % 10)
    resumed = netdsl_cli("train", "small.net", "--resume", "r", "--epochs", "2", cwd=root)
    assert "the run was trained on other data" in one_line_error(resumed)


# ---- D2: a new run never replaces an old one; one trainer per directory ----


def test_the_default_directory_moves_to_the_next_free_name(program: Path) -> None:
    root = program.parent
    first = netdsl_cli("train", "small.net", "--epochs", "1", "--quiet", cwd=root)
    assert first.returncode == 0, first.stderr
    weights = (root / "runs" / "small" / "weights.npz").read_bytes()
    second = netdsl_cli("train", "small.net", "--epochs", "1", "--seed", "5", "--quiet", cwd=root)
    assert second.returncode == 0, second.stderr
    assert "runs/small holds an earlier run; this run goes to runs/small-2" in second.stdout
    assert (root / "runs" / "small" / "weights.npz").read_bytes() == weights
    assert (root / "runs" / "small-2" / "weights.npz").exists()


def test_an_explicit_out_that_holds_a_run_needs_overwrite(program: Path) -> None:
    root = program.parent
    assert netdsl_cli("train", "small.net", "--out", "r", "--epochs", "2", "--quiet", cwd=root).returncode == 0
    weights = (root / "r" / "weights.npz").read_bytes()
    again = netdsl_cli("train", "small.net", "--out", "r", "--epochs", "1", cwd=root)
    assert "r holds an earlier run (weights.npz); continue it with --resume r" in one_line_error(again)
    assert (root / "r" / "weights.npz").read_bytes() == weights and history_epochs(root / "r") == [1, 2]
    replaced = netdsl_cli("train", "small.net", "--out", "r", "--epochs", "1", "--overwrite", "--quiet", cwd=root)
    assert replaced.returncode == 0, replaced.stderr
    assert history_epochs(root / "r") == [1]
    both = netdsl_cli("train", "small.net", "--resume", "r", "--overwrite", cwd=root)
    assert "--overwrite starts a new run and --resume continues one" in one_line_error(both, status=2)


def test_a_second_trainer_is_refused_naming_the_first_and_sigterm_saves_a_checkpoint(program: Path) -> None:
    root = program.parent
    first = start("train", "small.net", "--out", "r", "--epochs", "1000", "--quiet", cwd=root)
    try:
        wait_for(root / "r" / "checkpoint.npz")
        second = netdsl_cli("train", "small.net", "--out", "r", "--epochs", "1", cwd=root)
        assert f"r is in use by another netdsl train (pid {first.pid})" in one_line_error(second)
        resumer = netdsl_cli("train", "small.net", "--resume", "r", cwd=root)
        assert f"(pid {first.pid})" in one_line_error(resumer)
    finally:
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=120)
    assert first.returncode == 143, out + err
    assert "interrupted at epoch" in out and "continue with: netdsl train small.net --resume r" in out
    assert not (root / "r" / runs.LOCK_FILE).exists()
    assert read_checkpoint(root / "r").meta["step"] >= 1  # saved inside the epoch SIGTERM stopped


def test_a_stale_lock_of_a_killed_trainer_is_taken_over(program: Path) -> None:
    root = program.parent
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (root / "r").mkdir()
    (root / "r" / runs.LOCK_FILE).write_text(f"{dead.pid}\n")
    run = netdsl_cli("train", "small.net", "--out", "r", "--epochs", "1", "--quiet", cwd=root)
    assert run.returncode == 0, run.stderr
    assert f"took over the lock of pid {dead.pid}, which is no longer running" in run.stdout


# ---- D3: an unwritable or full output directory ----


def test_out_below_a_file_fails_before_any_epoch(program: Path) -> None:
    (program.parent / "afile").write_text("x")
    run = netdsl_cli("train", "small.net", "--out", "afile/sub", cwd=program.parent)
    assert one_line_error(run) == "netdsl: error: afile/sub: cannot write there (Not a directory)\n"
    assert "training" not in run.stdout and "epoch" not in run.stdout


def test_an_unwritable_out_fails_before_any_epoch(program: Path, monkeypatch, capsys) -> None:
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(runs.tempfile, "mkstemp", denied)  # as for a read-only directory (tests may run as root)
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["train", str(program), "--out", str(program.parent / "r")])
    out, err = capsys.readouterr()
    assert exit_status.value.code == 1 and "training" not in out
    assert err == f"netdsl: error: {program.parent / 'r'}: cannot write there (Permission denied)\n"


class _FullDisk:
    """A file whose writes fail as on a full disk."""

    def __init__(self, handle):
        self._handle = handle

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()


def test_a_full_disk_during_a_save_is_one_line_and_keeps_the_saved_files(program: Path, monkeypatch, capsys) -> None:
    out_dir = program.parent / "r"
    assert cli.main(["train", str(program), "--out", str(out_dir), "--epochs", "1", "--quiet"]) == 0
    saved = {path.name: path.read_bytes() for path in out_dir.iterdir()}
    assert {"weights.npz", "checkpoint.npz", "history.csv"} <= set(saved)
    capsys.readouterr()
    real_fdopen = os.fdopen
    monkeypatch.setattr(fileio.os, "fdopen", lambda fd, mode: _FullDisk(real_fdopen(fd, mode)))
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["train", str(program), "--resume", str(out_dir), "--epochs", "2", "--quiet"])
    err = capsys.readouterr().err
    assert exit_status.value.code == 1
    assert (
        err == f"netdsl: error: {out_dir}: cannot save the run (No space left on device); "
        "the files saved before are intact\n"
    )
    assert {path.name: path.read_bytes() for path in out_dir.iterdir()} == saved  # and no temporary left


# ---- D4: crash windows ----

_KILLED_AFTER_THE_CHECKPOINT = """
import os, signal, sys
import netdsl.train.trainer as train
from netdsl.cli import main
real = train.atomic_write_text
def write(path, text):
    if path.name == "history.csv" and text.count("\\n") == 3:  # the header and the rows of epochs 1 and 2
        os.kill(os.getpid(), signal.SIGKILL)  # the checkpoint of epoch 2 is renamed, its history row not written
    return real(path, text)
train.atomic_write_text = write
sys.exit(main(sys.argv[1:]))
"""


def test_a_kill_between_the_checkpoint_and_the_history_loses_no_row(program: Path) -> None:
    root = program.parent
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILLED_AFTER_THE_CHECKPOINT,
            "train",
            "small.net",
            "--out",
            "r",
            "--epochs",
            "3",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert history_epochs(root / "r") == [1]  # the row of epoch 2 is missing from the csv
    resumed = netdsl_cli("train", "small.net", "--resume", "r", "--quiet", cwd=root)
    assert resumed.returncode == 0, resumed.stderr
    assert history_epochs(root / "r") == [1, 2, 3]


def test_orphan_temporary_files_are_removed_on_resume(finished, tmp_path: Path) -> None:
    program, run = finished
    os.link(program, tmp_path / program.name)
    (tmp_path / "run").mkdir()
    for path in run.iterdir():
        (tmp_path / "run" / path.name).write_bytes(path.read_bytes())
    orphan = tmp_path / "run" / ".checkpoint.npz.k3j_x9a2.tmp"
    orphan.write_bytes(b"half a checkpoint")
    resumed = netdsl_cli("train", program.name, "--resume", "run", "--epochs", "3", "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"removed {Path('run') / orphan.name}, left by a save that did not finish" in resumed.stdout
    assert not orphan.exists()


# ---- D5: mse and binary cross-entropy on class labels ----


@pytest.mark.parametrize("loss", ["mse", "binary_cross_entropy"])
def test_mse_and_binary_cross_entropy_train_on_class_labels(program: Path, loss: str) -> None:
    run = netdsl_cli(
        "train", "small.net", "--loss", loss, "--epochs", "3", "--lr", "0.01", "--out", "r", cwd=program.parent
    )
    assert run.returncode == 0, run.stderr
    rows = [line.split(",") for line in (program.parent / "r" / "history.csv").read_text().splitlines()[1:]]
    losses, val_accuracy = [float(row[1]) for row in rows], float(rows[-1][4])
    assert losses[2] < losses[0] and val_accuracy > 0.5, rows


def test_binary_cross_entropy_with_one_output_on_ten_classes_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "one.net").write_text("input(1, 8, 8) - fc(16) - relu - fc(1)\n")
    run = netdsl_cli("train", "one.net", "--loss", "binary_cross_entropy", "--out", "r", cwd=tmp_path)
    assert "binary_cross_entropy with one output needs labels 0 and 1" in one_line_error(run)


# ---- D8: numbers that hide the real problem ----


@pytest.mark.parametrize("value", ["inf", "1e400", "nan"])
def test_a_non_finite_lr_flag_is_refused(program: Path, value: str) -> None:
    run = netdsl_cli("train", "small.net", "--lr", value, cwd=program.parent)
    assert f"argument --lr: must be a finite number, got '{value}'" in one_line_error(run, status=2)


@pytest.mark.parametrize(
    "optimizer,message",
    [
        ("adam(lr=1e400)", "adam: lr must be a finite number > 0, received inf"),
        ("adam(eps=0)", "adam: eps must be a finite number > 0, received 0"),
        ("adam(beta1=1)", "adam: beta1 must be a finite number in [0, 1), received 1"),
    ],
)
def test_optimizer_arguments_that_break_training_are_located(tmp_path: Path, optimizer: str, message: str) -> None:
    (tmp_path / "net.net").write_text(f"input(1, 8, 8) - fc(10)\ntrain {{\n optimizer = {optimizer}\n}}\n")
    run = netdsl_cli("train", "net.net", "--out", "r", cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr and "learning rate" not in run.stderr
    assert "net.net:3:" in run.stderr and message in run.stderr
    assert not (tmp_path / "r").exists()


def test_a_run_with_a_schedule_resumes_with_it(tmp_path: Path) -> None:
    """The settings a flag cannot change (schedule, warm-up, ...) come back from the program on --resume."""
    program = tmp_path / "scheduled.net"
    program.write_text(
        PROGRAM.replace("epochs = 2", "epochs = 1\n optimizer = adam(lr=0.001)\n schedule = step(every=1, gamma=0.5)")
    )
    first = netdsl_cli("train", str(program), "--out", "run", "--quiet", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    resumed = netdsl_cli("train", str(program), "--resume", "run", "--epochs", "3", "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0 and "Traceback" not in resumed.stderr, resumed.stderr
    rows = (tmp_path / "run" / "history.csv").read_text().splitlines()
    lr = [float(row.split(",")[rows[0].split(",").index("lr")]) for row in rows[1:]]
    assert lr == pytest.approx([0.001, 0.0005, 0.00025])
