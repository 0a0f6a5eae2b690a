"""What training adds to its directory (settings.json, curves.png) and how the pictures read a run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import graph_of

from netdsl.backends.numpy.executor import Executor
from netdsl.draw.run_dir import Run, RunError, read_run
from netdsl.frontend.train_spec import TrainConfig
from netdsl.train.trainer import Trainer

PROGRAM = "network v { input(4)\n fc(3)\n output(2) }"


def test_training_writes_settings_and_curves_after_each_epoch(tmp_path: Path, monkeypatch) -> None:
    from PIL import Image

    graph = graph_of(PROGRAM)
    executor = Executor(graph)
    executor.init_params(0)
    config = TrainConfig(optimizer="sgd", optimizer_args={"lr": 0.05}, epochs=3, batch=8)
    trainer = Trainer(executor, config, out_dir=tmp_path, program=PROGRAM, verbose=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    seen = []
    import netdsl.draw.run_dir as run_dir

    original = run_dir.write_epoch_files
    monkeypatch.setattr(run_dir, "write_epoch_files", lambda t: (seen.append(len(t.history.rows)), original(t)))
    trainer.fit(x, y, (x[:8], y[:8]))
    assert seen == [1, 2, 3]
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["network"] == "v" and settings["optimizer"] == "sgd" and settings["lr"] == 0.05
    assert settings["program"] == PROGRAM and settings["optimizer_args"]["momentum"] == 0.0
    with Image.open(tmp_path / "curves.png") as image:
        assert image.size[0] > 600 and image.size[1] > 300
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    run = read_run(tmp_path)
    assert run.column("epoch") == [1.0, 2.0, 3.0] and run.label == f"{tmp_path}: sgd lr 0.05"


def test_a_run_without_settings_is_labelled_by_its_directory(tmp_path: Path) -> None:
    (tmp_path / "history.csv").write_text("epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n1,0.5,0.8,,,0.1,1\n")
    run = read_run(tmp_path)
    assert run.label == f"{tmp_path} (no settings saved)" and run.has("lr") and not run.has("val_loss")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "no history.csv"),
        ({"history.csv": "epoch,loss\n1,abc\n"}, "not a netdsl history"),
        ({"history.csv": "epoch,loss\n"}, "holds no epochs"),
        ({"history.csv": "epoch,loss\n1,0.5\n", "settings.json": "[1, 2]"}, "expected a JSON object"),
        ({"history.csv": "epoch,loss\n1,0.5\n", "settings.json": "{"}, "not a JSON file"),
    ],
)
def test_bad_run_directories_say_what_is_wrong(tmp_path: Path, files: dict, message: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(RunError, match=message):
        read_run(tmp_path)
    with pytest.raises(RunError, match="no such directory"):
        read_run(tmp_path / "missing")


def test_curves_overlay_runs_with_lr_panel(tmp_path: Path) -> None:
    import io

    from PIL import Image

    from netdsl.draw.curves import _panels, save_curves

    rows = [
        {"epoch": 1.0, "loss": 1.0, "accuracy": 0.5, "lr": 0.1},
        {"epoch": 2.0, "loss": 0.5, "accuracy": 0.7, "lr": 0.05},
    ]
    runs = [Run(Path("a"), rows, {"optimizer": "sgd", "lr": 0.1}), Run(Path("b"), rows[:1], {})]
    assert [p[0] for p in _panels(runs)] == ["loss", "accuracy", "lr"]
    assert [p[0] for p in _panels([Run(Path("c"), [{"epoch": 1.0, "loss": 1.0}])])] == ["loss"]
    buffer = io.BytesIO()
    save_curves(runs, buffer, "png")
    with Image.open(io.BytesIO(buffer.getvalue())) as image:
        assert image.size[0] >= 3 * 400


def test_a_diagnosed_run_gets_the_gradient_panel(diagnosed_run: Path, trained_run: Path, tmp_path: Path) -> None:
    import shutil

    from netdsl.draw.curves import _panels
    from netdsl.draw.run_dir import RunError, read_run

    diagnosed, plain = read_run(diagnosed_run), read_run(trained_run)
    assert _panels([diagnosed])[-1] == ("grad_norm", "gradient norm per layer")
    assert "grad_norm" not in dict(_panels([plain]))
    series = diagnosed.layer_series("grad_norm")
    assert list(series) == ["conv_1", "fc_1", "output_1"] and all(e == [1, 2] for e, _ in series.values())
    from PIL import Image

    with Image.open(diagnosed_run / "curves.png") as with_panel, Image.open(trained_run / "curves.png") as without:
        assert with_panel.width > without.width
    damaged = tmp_path / "run"
    shutil.copytree(diagnosed_run, damaged)
    (damaged / "diagnostics.csv").write_text("epoch,layer\n,\n")
    with pytest.raises(RunError, match=r"diagnostics.csv: not a netdsl diagnostics file"):
        read_run(damaged)
