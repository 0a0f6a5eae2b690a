"""predict, run, export and report with the run that made the weights: its data set and class names (from its
settings.json and an .npz's `classes`), output values for a net that is not a classifier, softmax for logits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import netdsl
from netdsl import cli

CLASSES = ("cat", "dog", "owl")
# the program names digits; the run is trained on animals.npz: predictions must name animals
LOGITS = """network animals {
    input(4)
    fc(8) - relu
    fc(3)
}
train {
    data = digits
    epochs = 3
    batch = 8
}
"""
LINE = """network line {
    input(2)
    fc(1)
}
train {
    data = "line.csv"
    target = values
    optimizer = sgd(lr=0.1)
    epochs = 3
}
"""
AUTOENCODER = """network ae {
    input(1, 8, 8)
    conv(4, 3, pad=same) - relu
    conv(1, 3, pad=same) - sigmoid
}
train {
    data = digits
    target = input
    epochs = 1
}
"""


def cli_run(capsys: pytest.CaptureFixture, *args: str) -> str:
    """Run the command in this process; its standard output (it must succeed)."""
    assert cli.main(list(args)) == 0
    return capsys.readouterr().out


def cli_fails(capsys: pytest.CaptureFixture, *args: str) -> str:
    """Run a command that must fail with exit 1; its one-line error."""
    with pytest.raises(SystemExit) as stop:
        cli.main(list(args))
    assert stop.value.code == 1
    return capsys.readouterr().err


@pytest.fixture
def animals_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> tuple[Path, Path]:
    """(the program, the run directory) of a 3-class net trained with --data animals.npz."""
    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    x = (np.eye(3, 4)[y] * 3 + rng.normal(0, 0.3, (60, 4))).astype(np.float32)
    np.savez(tmp_path / "animals.npz", x=x, y=y, classes=np.array(CLASSES))
    np.save(tmp_path / "x.npy", x[:3])
    program = tmp_path / "animals.net"
    program.write_text(LOGITS)
    cli_run(
        capsys,
        "train",
        str(program),
        "--data",
        str(tmp_path / "animals.npz"),
        "--out",
        str(tmp_path / "run"),
        "--quiet",
    )
    return program, tmp_path / "run"


def test_predict_takes_the_runs_class_names_and_says_so(
    animals_run: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    program, run = animals_run
    out = cli_run(
        capsys,
        "predict",
        str(program),
        "--weights",
        str(run / "weights.npz"),
        "--input",
        str(run.parent / "x.npy"),
        "--top",
        "3",
    )
    assert "was trained on animals.npz" in out and "the program says digits" in out
    lines = [line for line in out.splitlines() if line.startswith("sample ")]
    assert len(lines) == 3 and all(name in lines[0] for name in ("0 cat", "1 dog", "2 owl"))


def test_logits_are_shown_as_softmax_probabilities(
    animals_run: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    program, run = animals_run
    out = cli_run(
        capsys,
        "predict",
        str(program),
        "--weights",
        str(run / "weights.npz"),
        "--input",
        str(run.parent / "x.npy"),
        "--top",
        "3",
    )
    assert "not a softmax: its scores are shown as softmax probabilities" in out
    for line in (line for line in out.splitlines() if line.startswith("sample ")):
        shown = [float(part.split("(")[1].rstrip(")")) for part in line.split(": ", 1)[1].split(", ")]
        assert all(0 < p < 1 for p in shown) and sum(shown) == pytest.approx(1.0, abs=2e-4)


def test_export_and_run_carry_the_runs_class_names(
    animals_run: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    import onnx

    program, run = animals_run
    model_path = run.parent / "animals.onnx"
    cli_run(capsys, "export", str(program), "--weights", str(run / "weights.npz"), "-o", str(model_path))
    metadata = {p.key: p.value for p in onnx.load(str(model_path)).metadata_props}
    assert json.loads(metadata["netdsl.classes"]) == list(CLASSES)
    assert metadata["netdsl.data"].endswith("animals.npz")
    out = cli_run(capsys, "run", str(model_path), "--input", str(run.parent / "x.npy"))
    assert "sample 0: 0 cat" in out


def test_the_report_names_the_classes(animals_run: tuple[Path, Path], capsys: pytest.CaptureFixture) -> None:
    _, run = animals_run
    cli_run(capsys, "report", str(run), "-o", str(run / "report.html"))
    page = (run / "report.html").read_text()
    assert "<th>0 cat</th><th>1 dog</th><th>2 owl</th>" in page


def test_a_broken_settings_json_is_named_and_the_program_used(
    animals_run: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    program, run = animals_run
    (run / "settings.json").write_text("{not json")
    out = cli_run(
        capsys, "predict", str(program), "--weights", str(run / "weights.npz"), "--input", str(run.parent / "x.npy")
    )
    assert "settings.json: not used (not readable JSON" in out and "cat" not in out


@pytest.fixture
def line_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (50, 2))
    rows = [f"{a:.4f},{b:.4f},{a - 2 * b + 0.5:.4f}" for a, b in x]
    (tmp_path / "line.csv").write_text("\n".join(rows) + "\n")
    np.save(tmp_path / "x.npy", x[:4].astype(np.float32))
    program = tmp_path / "line.net"
    program.write_text(LINE)
    cli_run(capsys, "train", str(program), "--out", str(tmp_path / "run"), "--quiet")
    return program, tmp_path / "run"


def test_predict_prints_and_saves_a_regressions_values(
    line_run: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    program, run = line_run
    saved = run.parent / "out.npy"
    out = cli_run(
        capsys,
        "predict",
        str(program),
        "--weights",
        str(run / "weights.npz"),
        "--input",
        str(run.parent / "x.npy"),
        "-o",
        str(saved),
    )
    model = netdsl.load(program)
    model.load_weights(run / "weights.npz")
    expected = model.predict(np.load(run.parent / "x.npy"))
    np.testing.assert_array_equal(np.load(saved), expected)
    assert f"sample 3: {expected[3, 0]:.4f}" in out and "(" not in out.split("sample 0:")[1]


def test_run_prints_values_and_scores_mae(line_run: tuple[Path, Path], capsys: pytest.CaptureFixture) -> None:
    program, run = line_run
    model_path = run.parent / "line.onnx"
    cli_run(capsys, "export", str(program), "--weights", str(run / "weights.npz"), "-o", str(model_path))
    out = cli_run(capsys, "run", str(model_path), "--input", str(run.parent / "x.npy"))
    assert "outputs (1 value per sample):" in out and "top " not in out
    scored = cli_run(capsys, "run", str(model_path), "--data", str(run.parent / "line.csv"))
    assert " mae " in scored and "accuracy" not in scored


def test_the_report_of_a_regression_shows_its_metric(
    line_run: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    _, run = line_run
    cli_run(capsys, "report", str(run), "-o", str(run / "report.html"))
    page = (run / "report.html").read_text()
    assert "<dt>mae (validation)</dt>" in page and "accuracy" not in page and "Confusion" not in page


def test_an_autoencoders_predict_writes_the_reconstructed_images(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    program = tmp_path / "ae.net"
    program.write_text(AUTOENCODER)
    cli_run(capsys, "train", str(program), "--out", str(tmp_path / "run"), "--quiet")
    x = np.random.default_rng(0).uniform(0, 1, (2, 1, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    weights = str(tmp_path / "run" / "weights.npz")
    out = cli_run(capsys, "predict", str(program), "--weights", weights, "--input", str(tmp_path / "x.npy"))
    assert "an image of shape (1, 8, 8) per sample; save them with -o out.png" in out
    cli_run(
        capsys,
        "predict",
        str(program),
        "--weights",
        weights,
        "--input",
        str(tmp_path / "x.npy"),
        "-o",
        str(tmp_path / "recon.png"),
    )
    model = netdsl.load(program)
    model.load_weights(weights)
    expected = model.predict(x)
    with Image.open(tmp_path / "recon.png") as picture:
        pixels = np.asarray(picture)
    assert pixels.shape == (64, 128)  # two 8x8 samples side by side, enlarged 8 times
    np.testing.assert_array_equal(pixels[::8, 64::8], (np.clip(expected[1, 0], 0, 1) * 255 + 0.5).astype(np.uint8))


def test_a_png_for_outputs_that_are_not_images_is_one_line(
    line_run: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    program, run = line_run
    error = cli_fails(
        capsys,
        "predict",
        str(program),
        "--weights",
        str(run / "weights.npz"),
        "--input",
        str(run.parent / "x.npy"),
        "-o",
        str(run.parent / "out.png"),
    )
    assert "are not images; save them with -o out.npy" in error and len(error.strip().splitlines()) == 1


def test_the_settings_of_another_network_are_not_used(
    animals_run: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    program, run = animals_run
    settings = json.loads((run / "settings.json").read_text())
    (run / "settings.json").write_text(json.dumps({**settings, "network": "other"}))
    out = cli_run(
        capsys, "predict", str(program), "--weights", str(run / "weights.npz"), "--input", str(run.parent / "x.npy")
    )
    assert "not used (it is a run of network 'other', not 'animals')" in out and "cat" not in out
