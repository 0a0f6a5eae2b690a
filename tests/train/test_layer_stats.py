"""Per-layer diagnostics: nets built to fail are named for the right reason, a healthy one is quiet."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT

import netdsl
from netdsl.data import load_dataset
from netdsl.train import layer_stats
from netdsl.train.layer_stats import SAMPLED_STEPS, LayerProbe, problems, warning_line
from netdsl.train.trainer import Trainer

NOT_LEARNING = ROOT / "docs" / "not_learning"


def _fit(name: str, epochs: int = 3, **fit):
    model = netdsl.load(NOT_LEARNING / f"{name}.net")
    data = load_dataset("digits", model.input_shape)
    history = model.fit(data.x_train, data.y_train, epochs=epochs, verbose=0, **fit)
    return model, history


def _named(history, epoch: int) -> list[str]:
    return [text for _, text in problems([row for row in history.diagnostics if row["epoch"] == epoch])]


def test_a_sigmoid_stack_names_its_first_layers_vanishing_and_not_its_last() -> None:
    _, history = _fit("sigmoid_stack", epochs=2)
    found = _named(history, 2)
    vanishing = {text.split(":")[0] for text in found if text.endswith("vanishing")}
    assert {"fc_1", "fc_2", "fc_3"} <= vanishing, found
    assert not {"fc_8", "fc_9"} & vanishing, found
    ratios = {
        row["layer"]: row["grad_norm"] / row["weight_norm"]
        for row in history.diagnostics
        if row["epoch"] == 2 and row["op"] == "fc"
    }
    assert ratios["fc_1"] < ratios["fc_4"] < ratios["fc_8"] < ratios["fc_9"]  # shrinking on the way back
    line = warning_line([row for row in history.diagnostics if row["epoch"] == 2])
    assert line.startswith("fc_1: gradient") and "vanishing" in line


def test_lr_10_is_named_at_once_and_then_its_dead_relus() -> None:
    _, history = _fit("too_high_lr", epochs=2)
    first, second = _named(history, 1), _named(history, 2)
    assert first[0].startswith("fc_2: each step changes its weights by") and "too high" in first[0], first
    assert "conv_1_relu: 100% dead ReLUs" in second and "fc_1_relu: 100% dead ReLUs" in second, second
    assert "conv_1: no gradient reaches it" in second


def test_a_healthy_net_gives_no_warnings() -> None:
    model, history = _fit("healthy", epochs=3)
    assert {row["epoch"] for row in history.diagnostics} == {1, 2, 3}
    assert {row["layer"] for row in history.diagnostics} == {"conv_1", "conv_1_relu", "fc_1", "fc_1_relu", "fc_2"}
    assert problems(history.diagnostics) == []
    assert history.history["accuracy"][-1] > 0.7


def test_the_numbers_are_the_definitions() -> None:
    """One sampled step by hand: norms of the weights before it, of the gradient, of the update; dead channels."""
    model = netdsl.loads(
        "input(3) - fc(4, activation=relu) - fc(2)\ntrain {\n loss = mse\n optimizer = sgd(lr=0.5)\n batch = 4\n}"
    )
    executor = model.executor
    probe = LayerProbe.of(model.graph)
    before = probe.snapshot(executor.params)
    grads = {k: np.full_like(v, 0.5) for k, v in executor.params.items()}
    executor.params = {k: v - 0.5 * grads[k] for k, v in executor.params.items()}
    outputs = {"fc_1_relu": np.array([[0, 2, 0, 0], [0, 1, 3, 0]], np.float32)}
    probe.observe(outputs, grads, before, executor.params)
    rows = {row["layer"]: row for row in probe.end_epoch(1)}
    weights = np.concatenate([before["fc_1.weight"].ravel(), before["fc_1.bias"].ravel()])
    assert math.isclose(rows["fc_1"]["weight_norm"], float(np.linalg.norm(weights)), rel_tol=1e-6)
    assert math.isclose(rows["fc_1"]["grad_norm"], 0.5 * math.sqrt(weights.size), rel_tol=1e-6)
    assert math.isclose(
        rows["fc_1"]["update_ratio"], 0.25 * math.sqrt(weights.size) / np.linalg.norm(weights), rel_tol=1e-5
    )
    relu = rows["fc_1_relu"]
    assert relu["dead_fraction"] == 0.5  # units 0 and 3 never fired
    assert math.isclose(relu["mean"], 6 / 8) and math.isclose(relu["std"], float(np.std([0, 2, 0, 0, 0, 1, 3, 0])))
    assert probe.end_epoch(2) == []  # the sums start again


def test_the_sampled_steps_are_spread_over_the_epoch() -> None:
    for steps, wanted in (
        (1, [0]),
        (16, [0]),
        (17, [0, 16]),
        (51, [0, 16, 32, 48]),
        (1000, [0, 125, 250, 375, 500, 625, 750, 875]),
    ):
        assert [s for s in range(steps) if LayerProbe.sampled(s, steps)] == wanted
    assert sum(LayerProbe.sampled(s, 1875) for s in range(1875)) == SAMPLED_STEPS  # an epoch of MNIST


def test_without_diagnostics_no_step_is_probed(monkeypatch) -> None:
    def refuse(*args):
        raise AssertionError("a probed step without diagnostics")

    monkeypatch.setattr(Trainer, "_probed_step", refuse)
    model, history = _fit("healthy", epochs=1, diagnostics=False)
    assert history.diagnostics == [] and model._fit_trainer.probe is None


def test_fit_diagnostics_true_overrides_the_program(monkeypatch) -> None:
    model = netdsl.loads("input(4) - fc(3, activation=relu) - fc(2)\ntrain {\n batch = 8\n}")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 4)).astype(np.float32), rng.integers(0, 2, 40)
    history = model.fit(x, y, epochs=2, verbose=0, diagnostics=True)
    assert [row["epoch"] for row in history.diagnostics if row["layer"] == "fc_1"] == [1, 2]


def test_a_run_directory_gets_diagnostics_csv_and_a_resume_keeps_its_rows(tmp_path) -> None:
    model = netdsl.load(NOT_LEARNING / "healthy.net")
    data = load_dataset("digits", model.input_shape)
    trainer = Trainer(model.executor, model.train_config, out_dir=tmp_path, program=model.source, verbose=0)
    trainer.fit(data.x_train, data.y_train, epochs=2)
    rows = layer_stats.from_csv((tmp_path / layer_stats.DIAGNOSTICS).read_text())
    assert [r["epoch"] for r in rows] == [1] * 5 + [2] * 5
    assert rows[0]["layer"] == "conv_1"
    assert math.isclose(rows[0]["grad_norm"], trainer.history.diagnostics[0]["grad_norm"], rel_tol=1e-5)
    resumed = Trainer(model.executor, model.train_config, out_dir=tmp_path, program=model.source, verbose=0)
    resumed.resume(tmp_path)
    assert len(resumed.history.diagnostics) == 10
    resumed.fit(data.x_train, data.y_train, epochs=3)
    rows = layer_stats.from_csv((tmp_path / layer_stats.DIAGNOSTICS).read_text())
    assert [r["epoch"] for r in rows] == [1] * 5 + [2] * 5 + [3] * 5


def test_a_damaged_diagnostics_csv_is_one_line_on_resume(tmp_path) -> None:
    from netdsl.train.checkpoint import CheckpointError

    model = netdsl.load(NOT_LEARNING / "healthy.net")
    data = load_dataset("digits", model.input_shape)
    Trainer(model.executor, model.train_config, out_dir=tmp_path, program=model.source, verbose=0).fit(
        data.x_train, data.y_train, epochs=1
    )
    (tmp_path / layer_stats.DIAGNOSTICS).write_text("epoch,layer,op,weight_norm\n1,conv_1,conv,abc\n")
    trainer = Trainer(model.executor, model.train_config, out_dir=tmp_path, program=model.source, verbose=0)
    with pytest.raises(CheckpointError, match="diagnostics.csv: not a netdsl diagnostics file"):
        trainer.resume(tmp_path)


def test_netdsl_train_diagnostics_prints_the_worst_offenders(tmp_path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "netdsl.cli",
            "train",
            str(NOT_LEARNING / "sigmoid_stack.net"),
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    line = next(text for text in run.stdout.splitlines() if text.startswith("epoch 1 diagnostics: "))
    assert line.startswith("epoch 1 diagnostics: fc_1: gradient ") and line.endswith("more in diagnostics.csv")
    assert (tmp_path / "run" / "diagnostics.csv").is_file()


def test_the_flag_turns_diagnostics_on_for_a_program_without_them(tmp_path) -> None:
    program = tmp_path / "net.net"
    program.write_text((NOT_LEARNING / "too_high_lr.net").read_text().replace("    diagnostics = true\n", ""))
    quiet = subprocess.run(
        [sys.executable, "-m", "netdsl.cli", "train", str(program), "--epochs", "1", "--out", str(tmp_path / "a")],
        capture_output=True,
        text=True,
    )
    loud = subprocess.run(
        [
            sys.executable,
            "-m",
            "netdsl.cli",
            "train",
            str(program),
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "b"),
            "--diagnostics",
        ],
        capture_output=True,
        text=True,
    )
    assert quiet.returncode == loud.returncode == 0
    assert "diagnostics" not in quiet.stdout and not (tmp_path / "a" / "diagnostics.csv").exists()
    assert "fc_2: each step changes its weights by" in loud.stdout


@pytest.mark.parametrize(
    "setting, message",
    [
        ("diagnostics = 1", "diagnostics must be true or false, received 1"),
        ("log = tensorbord", "log must be one of none, tensorboard"),
    ],
)
def test_bad_settings_are_compile_errors(setting: str, message: str) -> None:
    from netdsl.diagnostics import NetdslError

    with pytest.raises(NetdslError, match=message):
        netdsl.loads(f"input(4) - fc(2)\ntrain {{\n {setting}\n}}")
