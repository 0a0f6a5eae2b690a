"""`netdsl dream`: feature visualization and Deep Dream (netdsl/draw/dream.py) and the command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import netdsl
from netdsl.draw import dream

SMALL = "network small { input(1, 12, 12) - conv(4, 3) - relu - conv(6, 3) - relu - fc(3) }"
SEQUENCE = "network seq { input(1, 32) - conv(4, 3) - relu - fc(3) }"


def _model(text: str = SMALL):
    model = netdsl.loads(text)
    model.executor.init_params(seed=4)
    return model


def _centre(model, layer: str, x: np.ndarray, index: int) -> float:
    _, activation = model.executor.input_gradient(x[None], np.zeros_like, layer)
    return float(activation[(0, index, *(s // 2 for s in activation.shape[2:]))])


def test_blur_keeps_a_constant_image_and_smooths_a_point() -> None:
    flat = np.full((1, 2, 5, 6), 3.0)
    assert np.allclose(dream.blur(flat), flat)
    point = np.zeros((1, 1, 5, 5))
    point[0, 0, 2, 2] = 16.0
    blurred = dream.blur(point)[0, 0]
    assert blurred[2, 2] == 4.0 and blurred[1, 2] == 2.0 and blurred[1, 1] == 1.0 and blurred.sum() == 16.0


def test_block_mean_fills_each_block_with_its_mean() -> None:
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    means = dream.block_mean(x, 2)[0, 0]
    assert means[0, 0] == means[1, 1] == np.mean([0, 1, 4, 5]) and means[3, 3] == np.mean([10, 11, 14, 15])
    assert dream.block_mean(np.ones((1, 1, 5, 3)), 2).shape == (1, 1, 5, 3)
    assert dream.block_mean(x, 1) is x


@pytest.mark.parametrize("layer, index", [("conv_1", 2), ("conv_2", 5), ("fc_1", 1)])
def test_the_ascent_excites_the_filter_it_was_asked_for(layer: str, index: int) -> None:
    model = _model()
    settings = dream.Ascent(steps=30, seed=3)
    start = np.random.default_rng(settings.seed + index).normal(0.0, 0.05, (1, 12, 12))
    found = dream.visualize_filter(model, layer, index, settings)
    assert found.shape == (1, 12, 12)
    assert _centre(model, layer, found, index) > _centre(model, layer, start, index) + 0.03
    other = dream.visualize_filter(model, layer, (index + 1) % model.graph[layer].shape[0], settings)
    assert _centre(model, layer, found, index) > _centre(model, layer, other, index)  # that filter's picture
    assert np.array_equal(found, dream.visualize_filter(model, layer, index, settings))  # seeded


def test_deep_dream_amplifies_the_layer_within_the_image_range() -> None:
    model = _model()
    image = np.random.default_rng(0).uniform(0, 1, (1, 1, 12, 12))
    dreamt = dream.deep_dream(model, "conv_2", image, octaves=2)

    def energy(x: np.ndarray) -> float:
        return float((model.executor.input_gradient(x, np.zeros_like, "conv_2")[1] ** 2).sum())

    assert dreamt.shape == (1, 12, 12) and image.min() <= dreamt.min() and dreamt.max() <= image.max()
    assert energy(dreamt[None]) > 1.5 * energy(image)


def test_filters_out_of_range_and_non_images_are_refused() -> None:
    with pytest.raises(dream.DreamError, match="layer conv_1 has 4 filters \\(0 to 3\\); there is no filter 4"):
        dream.visualize_filter(_model(), "conv_1", 4)
    with pytest.raises(dream.DreamError, match="dream draws inputs of image networks"):
        dream.visualize_filter(_model(SEQUENCE), "conv_1", 0)


# ---- the command ----


def netdsl_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netdsl.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def test_dream_draws_a_grid_one_filter_and_a_deep_dream(trained_run: Path, tmp_path: Path) -> None:
    from PIL import Image

    program, weights = trained_run.parent / "tiny.net", trained_run / "weights.npz"
    grid = netdsl_cli("dream", program, "--weights", weights, "--steps", "5", "-o", "grid.png", cwd=tmp_path)
    assert grid.returncode == 0, grid.stderr
    one = netdsl_cli(
        "dream",
        program,
        "--weights",
        weights,
        "--layer",
        "output_1",
        "--filter",
        "7",
        "--steps",
        "5",
        "-o",
        "seven.png",
        cwd=tmp_path,
    )
    assert one.returncode == 0, one.stderr
    np.save(tmp_path / "x.npy", np.random.default_rng(0).uniform(0, 1, (1, 1, 8, 8)))
    deep = netdsl_cli(
        "dream", program, "--weights", weights, "--input", "x.npy", "--layer", "conv_1", "--octaves", "2", cwd=tmp_path
    )
    assert deep.returncode == 0, deep.stderr
    assert "wrote dream_conv_1.png" in deep.stdout
    for name in ("grid.png", "seven.png", "dream_conv_1.png"):
        with Image.open(tmp_path / name) as picture:
            assert picture.format == "PNG" and picture.size[0] > 100


@pytest.mark.parametrize(
    "flags, status, words",
    [
        (["--filter", "9"], 1, ["layer conv_1 has 6 filters", "no filter 9"]),
        (["--layer", "nope"], 2, ["has no layer 'nope'"]),
        (["--filter", "-1"], 2, ["filters are numbered from 0"]),
        (["-o", "x.gif"], 2, ["unsupported output format"]),
    ],
)
def test_dream_refuses_bad_flags_in_one_line(
    trained_run: Path, tmp_path: Path, flags: list[str], status: int, words: list[str]
) -> None:
    result = netdsl_cli(
        "dream",
        trained_run.parent / "tiny.net",
        "--weights",
        trained_run / "weights.npz",
        "--steps",
        "2",
        *flags,
        cwd=tmp_path,
    )
    assert result.returncode == status, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]  # argparse's own errors come after its usage lines
    assert "Traceback" not in result.stderr and all(word in last for word in words), result.stderr


def test_dream_of_a_sequence_network_says_it_draws_images(tmp_path: Path) -> None:
    (tmp_path / "seq.net").write_text(SEQUENCE)
    model = netdsl.loads(SEQUENCE)
    model.save_weights(tmp_path / "w.npz")
    result = netdsl_cli("dream", "seq.net", "--weights", "w.npz", cwd=tmp_path)
    assert result.returncode == 1 and "dream draws inputs of image networks" in result.stderr, result.stderr
