"""Regression from the train section and the command line: `target = values`, losses mse/mae/huber (gradients by
finite differences), metrics mae/rmse/none, real-valued labels detected, and seed 000's line fit."""

from __future__ import annotations

import csv
import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import EXAMPLES, ROOT, compile_text, numeric_gradient, only_error, torch_or_skip

import netdsl
from netdsl import cli
from netdsl.backends.numpy import losses as L
from netdsl.backends.numpy.objective import Objective
from netdsl.codegen.render import class_name
from netdsl.data import load_dataset
from netdsl.train.trainer import Trainer

LINE = """network line {
    input(1)
    fc(1)
}
train {
    data = "line.csv"
    optimizer = sgd(lr=0.05)
    epochs = 3
    batch = 16
    SETTINGS
}
"""


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-12))


@pytest.mark.parametrize("loss", [L.mse, L.mae, L.huber])
def test_regression_losses_have_their_finite_difference_gradients(loss) -> None:
    rng = np.random.default_rng(0)
    pred = rng.standard_normal((6, 3)) * 2  # both sides of huber's delta; no difference exactly 0 for mae
    target = rng.standard_normal((6, 3))
    _, grad = loss(pred, target)
    assert rel_err(grad, numeric_gradient(lambda: loss(pred, target)[0], pred)) < 1e-6


def test_mae_and_huber_values_are_pytorchs() -> None:
    pred, target = np.array([0.0, 0.5, 3.0, -2.0]), np.zeros(4)
    assert L.mae(pred, target)[0] == pytest.approx((0 + 0.5 + 3 + 2) / 4)
    # HuberLoss(delta=1): 0.5 d^2 below 1, d - 0.5 above
    assert L.huber(pred, target)[0] == pytest.approx((0 + 0.125 + 2.5 + 1.5) / 4)


def test_target_values_defaults_to_mse_and_mae() -> None:
    config = compile_text(LINE.replace("SETTINGS", "target = values")).networks[0].train
    assert (config.target, config.loss, config.metrics, config.regression) == ("values", "mse", ("mae",), True)


@pytest.mark.parametrize(
    ("written", "loss"), [("mae", "mae"), ("l1", "mae"), ("huber", "huber"), ("mean_absolute_error", "mae")]
)
def test_regression_losses_and_their_aliases(written: str, loss: str) -> None:
    config = compile_text(LINE.replace("SETTINGS", f"target = values\n    loss = {written}")).networks[0].train
    assert config.loss == loss


def test_metrics_rmse_and_none() -> None:
    config = compile_text(LINE.replace("SETTINGS", "target = values\n    metrics = rmse")).networks[0].train
    assert config.metric == "rmse"
    assert compile_text(LINE.replace("SETTINGS", "metrics = none")).networks[0].train.metric is None


def test_a_class_loss_with_values_is_located() -> None:
    error = only_error(LINE.replace("SETTINGS", "target = values\n    loss = cross_entropy"))
    assert "needs class labels" in error.message and "mse, mae or huber" in error.hint
    assert error.span.line == 11


def test_two_metrics_are_refused() -> None:
    assert "received 2" in only_error(LINE.replace("SETTINGS", "metrics = (mae, rmse)")).message


def test_early_stop_on_a_metric_not_recorded_is_located() -> None:
    error = only_error(LINE.replace("SETTINGS", "target = values\n    early_stop = val_accuracy(patience=2)"))
    assert "does not record" in error.message


def write_line(folder: Path, rows: int = 60) -> Path:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, rows)
    lines = [f"{a:.5f},{0.5 * a + 2 + rng.normal(0, 0.05):.5f}" for a in x]
    path = folder / "line.csv"
    path.write_text("x,y\n" + "\n".join(lines) + "\n")
    return path


def test_real_valued_labels_are_detected_with_a_notice(tmp_path: Path) -> None:
    data = load_dataset(str(write_line(tmp_path)), (1,), target="auto")
    assert data.target == "values" and data.num_classes == 0 and data.y_train.dtype == np.float32
    assert "training a regression (target = values)" in data.notices[0]


def test_integer_labels_stay_classes_when_detecting(tmp_path: Path) -> None:
    path = tmp_path / "classes.csv"
    path.write_text("".join(f"{i / 10},{i % 3}\n" for i in range(30)))
    data = load_dataset(str(path), (1,), target="auto")
    assert data.target == "labels" and data.num_classes == 3 and data.notices == []


def test_labels_that_are_not_integers_are_an_error_when_labels_are_asked_for(tmp_path: Path) -> None:
    from netdsl.data import DataError

    with pytest.raises(DataError, match="is not an integer"):
        load_dataset(str(write_line(tmp_path)), (1,), target="labels")


@pytest.mark.parametrize("metric", ["mae", "rmse"])
def test_epoch_metrics_are_over_every_sample(metric: str) -> None:
    model = netdsl.loads(LINE.replace("SETTINGS", f"target = values\n    metrics = {metric}"))
    trainer = Trainer(model.executor, model.train_config, verbose=0)
    x = np.linspace(-1, 1, 50, dtype=np.float32)[:, None]
    y = (3 * x[:, 0] + 1).astype(np.float32)
    _, value = trainer.evaluate(x, y, batch_size=7)  # batches of unequal size: the root is of the overall mean
    error = model.predict(x)[:, 0] - y
    expected = np.abs(error).mean() if metric == "mae" else math.sqrt(np.mean(error * error))
    assert value == pytest.approx(expected, rel=1e-5)


def test_objective_without_a_metric_records_nan() -> None:
    graph = netdsl.loads(LINE.replace("SETTINGS", "")).graph
    objective = Objective(graph, "mse", None)
    assert math.isnan(objective.metric_term(np.zeros((2, 1)), np.zeros(2)))


def train(program: Path, out: Path, *flags: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "netdsl.cli", "train", str(program), "--out", str(out), *flags],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_train_detects_values_and_records_mae(tmp_path: Path) -> None:
    write_line(tmp_path)
    program = tmp_path / "line.net"
    program.write_text(LINE.replace("SETTINGS", ""))
    out = train(program, tmp_path / "run", "--quiet")
    assert "the labels are real numbers" in out and "mse loss" in out
    with open(tmp_path / "run" / "history.csv") as handle:
        header = next(csv.reader(handle))
    assert header == ["epoch", "loss", "mae", "val_loss", "val_mae", "lr", "seconds"]
    evaluated = subprocess.run(
        [
            sys.executable,
            "-m",
            "netdsl.cli",
            "evaluate",
            str(program),
            "--weights",
            str(tmp_path / "run" / "weights.npz"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert " mae " in evaluated.stdout and "accuracy" not in evaluated.stdout


def test_cross_entropy_flag_on_values_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_line(tmp_path)
    program = tmp_path / "line.net"
    program.write_text(LINE.replace("SETTINGS", "target = values"))
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", str(program), "--out", str(tmp_path / "r"), "--loss", "cross_entropy"])
    assert stop.value.code == 1
    assert "needs class labels" in capsys.readouterr().err


def test_targets_must_fit_the_output(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_line(tmp_path)
    program = tmp_path / "line.net"
    program.write_text(LINE.replace("SETTINGS", "target = values").replace("fc(1)", "fc(2)"))
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", str(program), "--out", str(tmp_path / "r")])
    assert stop.value.code == 1
    assert "1 target value per sample but network line outputs 2" in capsys.readouterr().err


def test_seed000_regression_is_the_seeds_model() -> None:
    model = netdsl.load(EXAMPLES / "seed000_regression.net")
    assert model.totals.trainable == 2  # Dense(units=1, input_dim=1): w and b
    config = model.train_config
    assert (config.target, config.loss, config.metric, config.optimizer) == ("values", "mse", "mae", "sgd")


def test_the_shipped_line_csv_is_what_its_script_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_line", ROOT / "tools" / "make_line.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, y = module.line()
    table = np.loadtxt(EXAMPLES / "data" / "line.csv", delimiter=",", skiprows=1)
    assert table.shape == (200, 2)
    np.testing.assert_allclose(table, np.stack([x, y], axis=1), atol=1e-6)


def test_seed000_regression_fits_the_line(tmp_path: Path) -> None:
    train(EXAMPLES / "seed000_regression.net", tmp_path / "run", "--quiet")
    with open(tmp_path / "run" / "history.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"]) / 100
    assert float(rows[-1]["val_mae"]) < 0.05  # the noise is N(0, 0.05): its mean absolute value is 0.04
    weights = np.load(tmp_path / "run" / "weights.npz")
    slope, intercept = weights["fc_1.weight"].item(), weights["fc_1.bias"].item()
    assert slope == pytest.approx(0.5, abs=0.03) and intercept == pytest.approx(2.0, abs=0.02)


@pytest.mark.parametrize(("loss", "metric"), [("mse", "mae"), ("mae", "rmse"), ("huber", "mae"), ("mse", "none")])
def test_generated_train_script_has_netdsls_regression_loss_and_metric(
    loss: str, metric: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = torch_or_skip()
    from codegen.test_numpy_target import import_file

    from netdsl.codegen import generate, write

    name = f"reg_{loss}_{metric}"
    model = netdsl.loads(
        f"network {name} {{ input(3) - fc(4) - tanh - fc(2) }}\n"
        f"train {{\n  target = values\n  loss = {loss}\n  metrics = {metric}\n}}\n"
    )
    write(generate(model, "pytorch", source=f"{name}.net"), tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    train = import_file(tmp_path / f"{name}_train.py", f"{name}_train")
    monkeypatch.delitem(sys.modules, name)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3)).astype(np.float32)
    y = (rng.standard_normal((6, 2)) * 2).astype(np.float32)
    torch.manual_seed(0)
    net = getattr(train, class_name(name))()
    model.executor.load_state_dict(net.netdsl_state_dict())
    loss_value, scores = train.loss_and_scores(net, torch.from_numpy(x), torch.from_numpy(y))
    objective = Objective(model.graph, loss, model.train_config.metric)
    out = model.executor.forward(x)
    assert loss_value.item() == pytest.approx(objective(out, y)[0], rel=1e-5)
    expected = objective.metric_term(out, y) * len(y) if metric != "none" else 0.0
    assert train.hits(scores.detach(), torch.from_numpy(y)) == pytest.approx(expected, rel=1e-5)
    line = train.report(1, 1, [1.0, 4.0, 4.0], [0.0, 0.0, 0.0], 0.0)
    assert line.startswith("epoch 1/1 loss 0.2500") and (f" {metric} " in line) == (metric != "none")
    if metric == "rmse":
        assert "rmse 1.0000" in line


def test_early_stop_on_val_mae_lowers_it() -> None:
    config = (
        compile_text(LINE.replace("SETTINGS", "target = values\n    early_stop = val_mae(patience=2)"))
        .networks[0]
        .train
    )
    assert (config.early_stop.monitor, config.early_stop.mode) == ("val_mae", "min")
    assert (
        compile_text(LINE.replace("SETTINGS", "early_stop = val_accuracy")).networks[0].train.early_stop.mode == "max"
    )
