"""Training as the seeds teach it and as a user meets it: learning, resume, Ctrl-C, NaN, bad files."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import EXAMPLES

import netdsl
from netdsl.backends.numpy.weights import WeightsError
from netdsl.data import load_dataset


def netdsl_cli(*args: str, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netdsl.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or tempfile.gettempdir(),
        **kwargs,
    )


def test_seed000_xor_with_a_2_4_1_sigmoid_mlp() -> None:
    model = netdsl.loads(
        "input(2) - fc(4) - sigmoid - fc(1) - sigmoid\n"
        "train {\n loss = binary_cross_entropy\n optimizer = adam(lr=0.05)\n batch = 4\n seed = 1\n}"
    )
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [1], [1], [0]], np.float32)
    model.fit(x, y, epochs=1500, verbose=0)
    assert np.array_equal(np.round(model.predict(x)), y)


def test_seed000_line_fit_recovers_slope_and_intercept() -> None:
    model = netdsl.loads("input(1) - fc(1)\ntrain {\n loss = mse\n optimizer = sgd(lr=0.1)\n batch = 16\n}")
    x = np.linspace(-1, 1, 64, dtype=np.float32)[:, None]
    y = 3 * x + 2
    model.fit(x, y, epochs=300, verbose=0)
    w, b = model.executor.params["fc_1.weight"], model.executor.params["fc_1.bias"]
    assert np.allclose([w.item(), b.item()], [3, 2], atol=1e-3)


def test_seed002_learns_the_horizontal_edge_kernel() -> None:
    kernel = np.array([[0, -1, 0], [0, 2, 0], [0, -1, 0]], np.float32)
    rng = np.random.default_rng(0)
    images = rng.random((64, 1, 16, 16), dtype=np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(images[:, 0], (3, 3), axis=(1, 2))
    targets = np.einsum("nhwij,ij->nhw", windows, kernel)[:, None]
    model = netdsl.loads(
        "input(1, 16, 16) - conv(1, 3, bias=false)\ntrain {\n loss = mse\n optimizer = adam(lr=0.01)\n batch = 16\n}"
    )
    model.fit(images, targets, epochs=150, verbose=0)
    learned = model.executor.params["conv_1.weight"][0, 0]
    assert np.allclose(learned, kernel, atol=1e-3), learned


def test_lenet_reaches_97_percent_on_digits() -> None:
    model = netdsl.load(EXAMPLES / "lenet5.net")
    data = load_dataset("digits", model.input_shape)
    history = model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val), verbose=0)
    assert history.history["val_accuracy"][-1] >= 0.97


def test_initial_loss_is_near_ln_10_and_a_tiny_batch_is_overfit() -> None:
    model = netdsl.loads(
        "input(1, 8, 8) - conv(8, 3) - relu - fc(32) - relu - output(10)\n"
        "train {\n optimizer = adam(lr=0.01)\n batch = 8\n}"
    )
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 1, 8, 8), dtype=np.float32), np.arange(8) % 10
    initial, _ = model.evaluate(x, y)
    assert abs(initial - math.log(10)) < 0.3
    model.fit(x, y, epochs=100, verbose=0)
    loss, accuracy = model.evaluate(x, y)
    assert accuracy == 1.0 and loss < 0.05


def test_one_hot_labels_equal_class_indices() -> None:
    text = "input(4) - fc(3)\ntrain {\n seed = 2\n batch = 4\n}"
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 4), dtype=np.float32), rng.integers(0, 3, 12)
    a, b = netdsl.loads(text), netdsl.loads(text)
    a.fit(x, y, epochs=3, verbose=0)
    b.fit(x, np.eye(3, dtype=np.float32)[y], epochs=3, verbose=0)
    assert np.allclose(a.predict(x), b.predict(x), atol=1e-6)


def test_fit_rejects_inputs_that_cannot_be_shaped_and_predict_wrong_shapes() -> None:
    model = netdsl.loads("input(1, 8, 8) - fc(2)")
    with pytest.raises(ValueError, match=r"cannot fit"):  # fit shapes what `netdsl train` would (8x8 -> 1x8x8)
        model.fit(np.zeros((4, 7)), np.zeros(4, int))
    with pytest.raises(ValueError, match=r"wants \(n, 1, 8, 8\)"):
        model.predict(np.zeros((4, 8, 8)))


def test_weights_round_trip_and_mismatches_listed_at_once(tmp_path: Path) -> None:
    model = netdsl.loads("input(1, 8, 8) - conv(4, 3) - bn - fc(2)")
    model.save_weights(tmp_path / "w.npz")
    again = netdsl.loads("input(1, 8, 8) - conv(4, 3) - bn - fc(2)")
    again.load_weights(tmp_path / "w.npz")
    x = np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32)
    assert np.array_equal(model.predict(x), again.predict(x))
    other = netdsl.loads("input(1, 8, 8) - conv(5, 3) - fc(2)")
    with pytest.raises(WeightsError) as err:
        other.load_weights(tmp_path / "w.npz")
    text = str(err.value)
    assert "conv_1.weight has shape [4, 1, 3, 3], the program needs [5, 1, 3, 3]" in text
    assert "unexpected batchnorm_1.running_mean" in text and "fc_1.weight has shape" in text


# ---- the command line ----


def test_train_evaluate_predict_cli(tmp_path: Path) -> None:
    run = netdsl_cli("train", str(EXAMPLES / "lenet5.net"), "--epochs", "2", "--out", str(tmp_path / "run"))
    assert run.returncode == 0, run.stderr
    assert "digits: resized 8x8 -> 32x32" in run.stdout and "epoch 2/2" in run.stdout
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "checkpoint.npz",
        "curves.png",
        "history.csv",
        "settings.json",
        "weights.npz",
    ]
    header = (tmp_path / "run" / "history.csv").read_text().splitlines()[0]
    assert header == "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds"
    weights = str(tmp_path / "run" / "weights.npz")
    evaluated = netdsl_cli("evaluate", str(EXAMPLES / "lenet5.net"), "--weights", weights)
    assert evaluated.returncode == 0 and "accuracy" in evaluated.stdout
    x = load_dataset("digits", (1, 32, 32)).x_val[:3]
    np.save(tmp_path / "x.npy", x)
    predicted = netdsl_cli(
        "predict", str(EXAMPLES / "lenet5.net"), "--weights", weights, "--input", str(tmp_path / "x.npy"), "--top", "2"
    )
    assert predicted.returncode == 0 and predicted.stdout.count("sample ") == 3


def test_resume_ends_with_the_same_weights(tmp_path: Path) -> None:
    program = tmp_path / "net.net"
    program.write_text(
        "input(1, 8, 8) - conv(4, 3) - relu - dropout(0.2) - output(10)\ntrain {\n epochs = 4\n batch = 64\n}\n"
    )
    full = netdsl_cli("train", str(program), "--out", str(tmp_path / "full"), "--quiet")
    first = netdsl_cli("train", str(program), "--out", str(tmp_path / "part"), "--epochs", "2", "--quiet")
    resumed = netdsl_cli("train", str(program), "--resume", str(tmp_path / "part"), "--epochs", "4", "--quiet")
    assert full.returncode == first.returncode == resumed.returncode == 0, resumed.stderr
    a, b = np.load(tmp_path / "full" / "weights.npz"), np.load(tmp_path / "part" / "weights.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a.files)
    assert len((tmp_path / "part" / "history.csv").read_text().splitlines()) == 5


def test_ctrl_c_saves_a_checkpoint_exits_130_and_resumes_exactly(tmp_path: Path) -> None:
    program = tmp_path / "net.net"
    program.write_text(
        "input(1, 32, 32) - conv(16, 5) - relu - maxpool(2) - conv(32, 5) - relu - fc(64) - relu"
        " - output(10)\ntrain {\n epochs = 3\n batch = 8\n}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "netdsl.cli", "train", str(program), "--out", str(tmp_path / "a")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    deadline = time.time() + 60
    while not (tmp_path / "a" / "checkpoint.npz").exists() and time.time() < deadline:
        time.sleep(0.05)  # the first epoch has ended: now interrupt inside the second
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted at epoch" in out and "--resume" in out and "Traceback" not in err
    resumed = netdsl_cli("train", str(program), "--resume", str(tmp_path / "a"), "--quiet")
    full = netdsl_cli("train", str(program), "--out", str(tmp_path / "b"), "--quiet")
    assert resumed.returncode == full.returncode == 0, resumed.stderr
    a, b = np.load(tmp_path / "a" / "weights.npz"), np.load(tmp_path / "b" / "weights.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a.files)


def test_nan_loss_stops_with_epoch_step_and_advice(tmp_path: Path) -> None:
    program = tmp_path / "net.net"
    program.write_text(
        "input(1, 8, 8) - fc(64) - relu - fc(64) - relu - fc(10)\ntrain {\n optimizer = sgd(lr=1e6)\n epochs = 3\n}\n"
    )
    run = netdsl_cli("train", str(program), "--out", str(tmp_path / "r"))
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    message = lines[-1]
    assert "the loss became" in message and "at epoch 1, step" in message and "lower learning rate" in message
    assert "RuntimeWarning" not in run.stderr and len(lines) == 2, run.stderr  # no raw NumPy warnings
    assert lines[0].startswith("netdsl: warning: the loss exploded to ") and "diverging" in lines[0]


def test_one_epoch_is_singular_and_saved_names_every_file(tmp_path: Path) -> None:
    run = netdsl_cli(
        "train",
        str(EXAMPLES / "lenet5.net"),
        "--epochs",
        "1",
        "--out",
        "r",
        "--quiet",
        "--data",
        "digits",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    training = next(line for line in run.stdout.splitlines() if line.startswith("training "))
    assert training.endswith(", 1 epoch"), training
    assert run.stdout.splitlines()[-1] == "saved r/weights.npz, r/history.csv, r/checkpoint.npz"


def test_mismatched_weights_file_is_listed_without_traceback(tmp_path: Path) -> None:
    np.savez(tmp_path / "w.npz", **{"conv_1.weight": np.zeros((2, 1, 3, 3), np.float32)})
    run = netdsl_cli("evaluate", str(EXAMPLES / "lenet5.net"), "--weights", str(tmp_path / "w.npz"))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "c1.weight" in run.stderr and "missing" in run.stderr


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"not a zip", "not a readable .npz"),
        (None, "no such weights file"),
    ],
)
def test_bad_weights_files(tmp_path: Path, content: bytes | None, fragment: str) -> None:
    path = tmp_path / "w.npz"
    if content is not None:
        path.write_bytes(content)
    run = netdsl_cli("evaluate", str(EXAMPLES / "lenet5.net"), "--weights", str(path))
    assert run.returncode == 1 and fragment in run.stderr and run.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "write,fragment",
    [
        (lambda p: p.write_text("a,b\n1,x\n"), "csv"),
        (lambda p: np.savez(p, y=np.zeros(3)), "x"),
    ],
)
def test_bad_data_files_are_one_line(tmp_path: Path, write, fragment: str) -> None:
    data = tmp_path / ("d.csv" if fragment == "csv" else "d.npz")
    write(data)
    run = netdsl_cli("train", str(EXAMPLES / "lenet5.net"), "--data", str(data), "--out", str(tmp_path / "r"))
    assert run.returncode == 1 and "Traceback" not in run.stderr and run.stderr.count("\n") == 1
    assert str(data.name) in run.stderr


def test_bad_flags_exit_2(tmp_path: Path) -> None:
    assert netdsl_cli("train", str(EXAMPLES / "lenet5.net"), "--epochs", "0").returncode == 2
    assert netdsl_cli("train", str(EXAMPLES / "lenet5.net"), "--optimizer", "adamx").returncode == 2
    assert netdsl_cli("train", str(tmp_path / "missing.net")).returncode == 2


def test_run_files_have_the_usual_permissions(tmp_path: Path) -> None:
    import os
    import stat

    model = netdsl.loads("input(4) - fc(2)")
    model.save_weights(tmp_path / "w.npz")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "w.npz").stat().st_mode) == 0o666 & ~mask


def test_loss_flag_takes_keras_names() -> None:
    from netdsl.cli import build_parser

    args = build_parser().parse_args(["train", "x.net", "--loss", "categorical_crossentropy", "--optimizer", "adamw"])
    assert args.loss == "cross_entropy" and args.optimizer == "adamw"


def test_a_relative_data_path_is_taken_from_the_program_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    rows = np.random.default_rng(0).random((40, 3)).round(3)
    rows[:, 2] = (rows[:, 0] > rows[:, 1]).astype(int)
    np.savetxt(folder / "blobs.csv", rows, delimiter=",", fmt="%g")
    (folder / "net.net").write_text('input(2) - fc(2)\ntrain {\n  data = "blobs.csv"\n  epochs = 1\n}\n')
    assert netdsl.load(folder / "net.net").train_config.data == str(folder / "blobs.csv")
    assert netdsl.loads('input(2) - fc(2)\ntrain {\n  data = "blobs.csv"\n}\n').train_config.data == "blobs.csv"
    run = netdsl_cli("train", "mine/net.net", "--out", "run", "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "training net on blobs.csv: 36 samples" in run.stdout


def test_progress_lines_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import netdsl.train.progress

    model = netdsl.loads("input(4) - fc(3)\ntrain {\n  batch = 10\n}\n")
    x, y = np.random.default_rng(0).random((50, 4), dtype=np.float32), np.arange(50) % 3
    monkeypatch.setattr(netdsl.train.progress, "PROGRESS_EVERY", 0.0)  # every step is due
    model.fit(x, y, epochs=1)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[:2] for line in lines[:4]] == [["epoch 1/1", f"{n}/50 samples"] for n in (10, 20, 30, 40)]
    assert lines[4].startswith("epoch 1/1  loss ") and len(lines) == 5
    monkeypatch.setattr(netdsl.train.progress, "PROGRESS_EVERY", 3600.0)
    model.fit(x, y, epochs=1)
    assert len(capsys.readouterr().out.splitlines()) == 1  # only the epoch's own line
