"""Checkpoints as a resume meets them: damaged ones are one line each; the run's settings win over the flags."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from netdsl.frontend.train_spec import TrainConfig
from netdsl.train.checkpoint import (
    CheckpointError,
    SettingsConflict,
    config_from_settings,
    read_checkpoint,
    resume_config,
    settings_of,
)

PROGRAM = "input(1, 8, 8) - fc(16) - relu - output(10)\ntrain {\n epochs = 1\n batch = 64\n}\n"


def netdsl_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netdsl.cli", *args], capture_output=True, text=True, cwd=cwd or tempfile.gettempdir()
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A finished one-epoch run of a small net on digits."""
    root = tmp_path_factory.mktemp("trained")
    (root / "net.net").write_text(PROGRAM)
    run = netdsl_cli("train", str(root / "net.net"), "--out", str(root / "run"), "--quiet")
    assert run.returncode == 0, run.stderr
    return root


def copy_run(trained: Path, tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(trained / "run", tmp_path / "run")
    return trained / "net.net", tmp_path / "run"


def tamper(run: Path, change) -> None:
    """Rewrite the checkpoint with the meta `change(arrays, meta)` returns (it may edit the arrays in place)."""
    with np.load(run / "checkpoint.npz") as data:
        arrays = {key: data[key] for key in data.files}
    meta = change(arrays, json.loads(str(arrays["meta"])))
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(run / "checkpoint.npz", **arrays)


def without(key: str):
    return lambda arrays, meta: {k: v for k, v in meta.items() if k != key}


def resume_fails(program: Path, run: Path, fragment: str) -> None:
    resumed = netdsl_cli("train", str(program), "--resume", str(run), "--epochs", "2", "--quiet")
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr
    assert "Traceback" not in resumed.stderr and resumed.stderr.count("\n") == 1, resumed.stderr
    assert fragment in resumed.stderr and "checkpoint.npz" in resumed.stderr


def test_the_checkpoint_holds_the_run_settings_data_and_history(trained: Path) -> None:
    meta = read_checkpoint(trained / "run").meta
    assert meta["settings"]["batch"] == 64 and meta["settings"]["optimizer_args"]["beta1"] == 0.9
    assert meta["data"]["train"] == 1617 and meta["data"]["val"] == 180 and len(meta["data"]["sha256"]) == 64
    assert [row["epoch"] for row in meta["history"]] == [1]


# ---- damaged checkpoints: one line each, exit 1 (the probes of issue 11, D7) ----


def test_meta_that_is_a_list(trained: Path, tmp_path: Path) -> None:
    program, run = copy_run(trained, tmp_path)
    tamper(run, lambda arrays, meta: [meta])
    resume_fails(program, run, "meta must be a JSON object, found list")


def test_meta_without_rng_state(trained: Path, tmp_path: Path) -> None:
    program, run = copy_run(trained, tmp_path)
    tamper(run, without("rng_state"))
    resume_fails(program, run, "meta lacks rng_state")


def test_a_perm_that_is_not_a_permutation(trained: Path, tmp_path: Path) -> None:
    program, run = copy_run(trained, tmp_path)

    def mid_epoch(arrays, meta):
        arrays["perm"] = np.zeros(1617, np.int64)
        return meta | {"step": 3, "seen": 192}

    tamper(run, mid_epoch)
    resume_fails(program, run, "perm is not a permutation of the training samples")


def test_a_perm_of_another_length(trained: Path, tmp_path: Path) -> None:
    program, run = copy_run(trained, tmp_path)

    def mid_epoch(arrays, meta):
        arrays["perm"] = np.arange(1000)
        return meta | {"step": 3, "seen": 192}

    tamper(run, mid_epoch)
    resume_fails(program, run, "perm orders 1000 samples, the run trains on 1617")


def test_a_mis_shaped_optimizer_array(trained: Path, tmp_path: Path) -> None:
    program, run = copy_run(trained, tmp_path)

    def misshaped(arrays, meta):
        arrays["optim/m.fc_1.weight"] = np.zeros((3, 3), np.float32)
        return meta

    tamper(run, misshaped)
    resume_fails(program, run, "optimizer state m.fc_1.weight is float32 [3, 3], the parameter fc_1.weight")


def test_settings_an_optimizer_cannot_run_with(trained: Path, tmp_path: Path) -> None:
    program, run = copy_run(trained, tmp_path)

    def eps_zero(arrays, meta):
        meta["settings"]["optimizer_args"]["eps"] = 0
        return meta

    tamper(run, eps_zero)
    resume_fails(program, run, "adam: eps must be a finite number > 0")


def test_a_non_numeric_history_csv_of_a_checkpoint_without_history(trained: Path, tmp_path: Path) -> None:
    program, run = copy_run(trained, tmp_path)
    tamper(run, without("history"))
    (run / "history.csv").write_text("epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,abc,0,0,0,0\n")
    resumed = netdsl_cli("train", str(program), "--resume", str(run), "--epochs", "2", "--quiet")
    assert resumed.returncode == 1 and resumed.stderr.count("\n") == 1 and "Traceback" not in resumed.stderr
    assert "history.csv: not a netdsl history" in resumed.stderr


def test_a_damaged_history_csv_is_rebuilt_from_the_checkpoint(trained: Path, tmp_path: Path) -> None:
    program, run = copy_run(trained, tmp_path)
    original = (run / "history.csv").read_text()
    (run / "history.csv").write_text("epoch,loss\n1,abc\n")
    resumed = netdsl_cli("train", str(program), "--resume", str(run), "--epochs", "2", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    rows = (run / "history.csv").read_text().splitlines()
    assert rows[:2] == original.splitlines() and rows[2].startswith("2,")


# ---- the run's settings ----


def stored(**changes) -> TrainConfig:
    return config_from_settings(
        json.loads(json.dumps(settings_of(TrainConfig(**changes)))), Path("c.npz"), TrainConfig()
    )


def test_settings_round_trip_through_json() -> None:
    config = TrainConfig(
        data="digits",
        optimizer="sgd",
        optimizer_args={"lr": 0.5, "momentum": 0.9},
        epochs=4,
        batch=16,
        seed=3,
        val_split=0.2,
        loss="mse",
    )
    again = stored(**config.__dict__)
    assert again.optimizer_kwargs() == config.optimizer_kwargs()
    assert (again.lr, again.epochs, again.batch, again.seed, again.val_split, again.loss) == (0.5, 4, 16, 3, 0.2, "mse")


def test_settings_the_flags_cannot_change_come_from_the_program() -> None:
    program = TrainConfig(metrics=("accuracy",), batch=8)
    settings = settings_of(TrainConfig(batch=16))
    assert "metrics" not in settings  # the program hash already proves the program's other settings unchanged
    resumed = config_from_settings(json.loads(json.dumps(settings)), Path("c.npz"), program)
    assert resumed.batch == 16 and resumed.metrics == ("accuracy",)


@pytest.mark.parametrize(
    "settings,fragment",
    [
        ({"batch": 0}, "batch must be a positive integer"),
        ({"val_split": 1.5}, "val_split must be in [0, 1)"),
        ({"optimizer": "adam", "optimizer_args": {"beta1": 1}}, "beta1 must be a finite number in [0, 1)"),
        ({"optimizer": "lion"}, "unknown optimizer"),
        ({"loss": "hinge"}, "unknown loss"),
        ([1, 2], "settings must be a JSON object"),
    ],
)
def test_bad_stored_settings_are_named(settings, fragment: str) -> None:
    with pytest.raises(CheckpointError, match=fragment.replace("[", r"\[").replace(")", r"\)")):
        config_from_settings(settings, Path("c.npz"), TrainConfig())


def test_a_flag_that_contradicts_the_run_names_both_values() -> None:
    run = stored(optimizer="adam", optimizer_args={"lr": 0.002}, batch=16, epochs=4)
    flagged = TrainConfig(optimizer="adam", optimizer_args={"lr": 0.001}, batch=32, epochs=15)
    with pytest.raises(SettingsConflict, match=r"--lr 0.001 contradicts the run in runs/a, .* lr 0.002"):
        resume_config(run, flagged, {"lr"}, Path("runs/a"), 1)
    with pytest.raises(SettingsConflict, match=r"--batch 32 contradicts .* batch 16"):
        resume_config(run, flagged, {"batch"}, Path("runs/a"), 1)
    assert resume_config(run, flagged, set(), Path("runs/a"), 1) == run  # no flags: the run's settings
    extended = resume_config(run, flagged, {"epochs"}, Path("runs/a"), 1)
    assert extended.epochs == 15 and extended.lr == 0.002 and extended.batch == 16
    with pytest.raises(SettingsConflict, match="already reached epoch 3; give --epochs 3 or more"):
        resume_config(run, TrainConfig(epochs=2), {"epochs"}, Path("runs/a"), 3)


def test_the_same_data_named_differently_is_no_conflict(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = stored(data="d.npz")
    assert resume_config(run, TrainConfig(data=str(tmp_path / "d.npz")), {"data"}, Path("r"), 0) == run
    assert resume_config(stored(data="digits"), TrainConfig(data="DIGITS"), {"data"}, Path("r"), 0).data == "digits"
    with pytest.raises(SettingsConflict, match="--data mnist contradicts"):
        resume_config(run, TrainConfig(data="mnist"), {"data"}, Path("r"), 0)


def test_a_checkpoint_without_settings_resumes_with_the_flags_but_not_on_other_data(
    trained: Path, tmp_path: Path
) -> None:
    program, run = copy_run(trained, tmp_path)

    def older(arrays, meta):  # as written before checkpoints held settings and data: stopped mid-epoch
        arrays["perm"] = np.random.default_rng(0).permutation(1617)
        return {k: v for k, v in meta.items() if k not in ("settings", "data")} | {"step": 3, "seen": 192}

    tamper(run, older)
    other_split = netdsl_cli("train", str(program), "--resume", str(run), "--val-split", "0.3", "--quiet")
    assert other_split.returncode == 1 and other_split.stderr.count("\n") == 1, other_split.stderr
    assert "the epoch it stopped in orders 1617 samples, the data have 1258" in other_split.stderr
    resumed = netdsl_cli("train", str(program), "--resume", str(run), "--epochs", "2", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert "holds no settings (an older netdsl wrote it)" in resumed.stdout
    assert read_checkpoint(run).meta["settings"]["epochs"] == 2  # the checkpoint holds them from now on
