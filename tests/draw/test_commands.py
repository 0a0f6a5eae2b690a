"""`netdsl plot`, `show` and `report` on a trained run, as a user runs them; bad input in one line."""

from __future__ import annotations

from pathlib import Path

from cli.test_draw import netdsl, one_line_error
from helpers import EXAMPLES

LENET = str(EXAMPLES / "lenet5.net")


def test_plot_overlays_runs_and_names_them(trained_run: Path, tmp_path: Path) -> None:
    from PIL import Image

    result = netdsl("plot", trained_run, trained_run, "-o", tmp_path / "compare.png")
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "compare.png") as image:
        assert image.size[0] > 800
    one_line_error(netdsl("plot", tmp_path / "nowhere", "-o", tmp_path / "c.png"), 1, "nowhere", "no such directory")
    one_line_error(netdsl("plot", trained_run, "-o", tmp_path / "c.gif"), 2, "unsupported output format")
    assert not (tmp_path / "c.png").exists()


def test_train_leaves_curves_beside_the_weights(trained_run: Path) -> None:
    names = {p.name for p in trained_run.iterdir()}
    assert {"weights.npz", "history.csv", "curves.png", "settings.json"} <= names


def test_show_writes_the_figure_and_prints_differences(trained_run: Path, tmp_path: Path) -> None:
    import numpy as np

    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((1, 8, 8), dtype=np.float32))
    program, weights = trained_run.parent / "tiny.net", trained_run / "weights.npz"
    result = netdsl(
        "show",
        program,
        "--weights",
        weights,
        "--input",
        tmp_path / "x.npy",
        "--shift",
        "1,0",
        "-o",
        tmp_path / "fig.png",
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fig.png").read_bytes().startswith(b"\x89PNG")
    assert "maxpool_1: largest difference per map:" in result.stdout and "conv_1: largest" in result.stdout


def test_show_resizes_an_image_with_a_notice(trained_run: Path, tmp_path: Path) -> None:
    from PIL import Image

    Image.new("L", (20, 20), 128).save(tmp_path / "big.png")
    result = netdsl(
        "show",
        trained_run.parent / "tiny.net",
        "--weights",
        trained_run / "weights.npz",
        "--input",
        tmp_path / "big.png",
        "--layer",
        "fc_1",
        "-o",
        tmp_path / "fc.png",
    )
    assert result.returncode == 0, result.stderr
    assert "converted 20x20 L to 1x8x8" in result.stdout and (tmp_path / "fc.png").is_file()


def test_show_bad_input_is_one_line_and_writes_nothing(trained_run: Path, tmp_path: Path) -> None:
    import numpy as np

    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8), np.float32))
    program, weights, x = trained_run.parent / "tiny.net", trained_run / "weights.npz", tmp_path / "x.npy"
    one_line_error(
        netdsl("show", program, "--weights", weights, "--input", x, "--layer", "conv1", "-o", tmp_path / "f.png"),
        2,
        "no layer 'conv1'",
        "conv_1",
    )
    one_line_error(
        netdsl("show", LENET, "--weights", weights, "--input", x, "-o", tmp_path / "f.png"),
        1,
        "does not match network lenet5",
    )
    np.save(tmp_path / "wrong.npy", np.zeros((3, 5), np.float32))
    one_line_error(
        netdsl("show", program, "--weights", weights, "--input", tmp_path / "wrong.npy", "-o", tmp_path / "f.png"),
        1,
        "wrong.npy",
        "has shape",
    )
    one_line_error(
        netdsl("show", program, "--weights", weights, "--input", x, "-o", tmp_path / "f.bmp"),
        2,
        "unsupported output format",
    )
    bad_shift = netdsl("show", program, "--weights", weights, "--input", x, "--shift", "1")
    assert bad_shift.returncode == 2 and "--shift: expected DX,DY" in bad_shift.stderr  # argparse adds its usage
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".png", ".bmp", ".tmp")]


def test_report_is_written_and_bad_runs_are_one_line(trained_run: Path, tmp_path: Path) -> None:
    result = netdsl("report", trained_run, "-o", tmp_path / "report.html")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    one_line_error(netdsl("report", tmp_path, "-o", tmp_path / "r.html"), 1, "no history.csv")
    one_line_error(netdsl("report", trained_run, "-o", tmp_path / "r.pdf"), 2, "unsupported output format")
    assert not (tmp_path / "r.html").exists()


def test_plot_and_report_draw_a_history_of_extremes(trained_run: Path, tmp_path: Path) -> None:
    """Issue 21 L3: 1e308 and -1e308 in one column made matplotlib's tick locator overflow (a traceback)."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    (run / "history.csv").write_text(
        "epoch,loss,accuracy,val_loss,val_accuracy\n1,1e308,0.5,1.0,0.5\n2,-1e308,0.6,inf,0.6\n3,0.5,-1e308,0.8,0.7\n"
    )
    result = netdsl("plot", run, "-o", tmp_path / "extremes.png")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert (tmp_path / "extremes.png").read_bytes().startswith(b"\x89PNG")
    result = netdsl("report", run, "-o", tmp_path / "report.html")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "<svg" in (tmp_path / "report.html").read_text() or "data:image" in (tmp_path / "report.html").read_text()
