"""`netdsl show`'s figure: the five rows of figure 18-34, rows left out with a note, grids, shifts, blur."""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers import EXAMPLES, graph_of, random_weights

import netdsl
from netdsl.backends.numpy.executor import Executor
from netdsl.draw.feature_maps import BLUR_SCALE, blurred, build_figure, save_figure, shift_image


def _executor(program: str) -> Executor:
    graph = graph_of(program)
    executor = Executor(graph)
    executor.load_state_dict(random_weights(graph))
    return executor


def _digit() -> np.ndarray:
    x = np.zeros((1, 1, 28, 28), np.float32)
    x[0, 0, 6:22, 12:16] = 1.0
    return x


def test_seed002_conv_gives_the_five_rows_of_figure_18_34() -> None:
    model = netdsl.load(EXAMPLES / "seed002_mnist_table.net")
    executor = model.executor
    figure = build_figure(executor, model.graph["conv_1"], _digit(), None)
    assert [row.title for row in figure.rows] == [
        "kernels",
        "kernels blurred",
        "conv result (conv_1)",
        "after relu (relu_1)",
        "after maxpool (maxpool_1)",
    ]
    kernels, blur, conv, relu, pool = (row.maps for row in figure.rows)
    assert np.array_equal(kernels, executor.params["conv_1.weight"][:, 0])
    assert blur.shape == (8, 5 * BLUR_SCALE, 5 * BLUR_SCALE)
    assert conv.shape == (8, 24, 24) and np.array_equal(relu, np.maximum(conv, 0))
    assert np.array_equal(pool, relu.reshape(8, 12, 2, 12, 2).max(axis=(2, 4)))
    assert figure.notes == [] and figure.differences == []
    buffer = io.BytesIO()
    save_figure(figure, buffer)
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_missing_rows_are_left_out_with_a_note() -> None:
    executor = _executor("network n { input(3, 8, 8)\n conv(4, 3)\n flatten\n output(2) }")
    figure = build_figure(executor, executor.graph["conv_1"], np.ones((1, 3, 8, 8), np.float32), None)
    assert [row.title for row in figure.rows] == [
        "kernels (mean over 3 input channels)",
        "kernels blurred",
        "conv result (conv_1)",
    ]
    assert figure.notes == [
        "no activation follows conv_1: that row is left out",
        "no pooling follows conv_1: that row is left out",
    ]
    assert np.allclose(figure.rows[0].maps, executor.params["conv_1.weight"].mean(axis=1))


def test_other_layers_give_a_grid_and_a_shift_prints_differences() -> None:
    executor = _executor("network n { input(1, 8, 8)\n conv(3, 3, pad=1) - relu - maxpool(2)\n output(2) }")
    x = np.zeros((1, 1, 8, 8), np.float32)
    x[0, 0, 2, 2] = 1.0
    figure = build_figure(executor, executor.graph["maxpool_1"], x, (1, 0))
    assert [row.title for row in figure.rows] == ["maxpool_1 output"] and figure.columns == 2
    row = figure.rows[0]
    assert row.maps.shape == row.shifted.shape == (3, 4, 4)
    expected = np.abs(row.maps - row.shifted).reshape(3, -1).max(axis=1)
    assert figure.differences == ["maxpool_1: largest difference per map: " + " ".join(f"{v:.3g}" for v in expected)]
    vector = build_figure(executor, executor.graph["output_1"], x, (1, 0))
    assert vector.rows[0].maps.shape == (2,) and vector.differences[0].startswith("output_1: largest difference ")


@pytest.mark.parametrize(("dx", "dy"), [(1, 0), (0, 2), (-1, -1)])
def test_shift_moves_pixels_and_fills_zeros(dx: int, dy: int) -> None:
    x = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5) + 1
    moved = shift_image(x, dx, dy)
    assert moved[0, 0, 2 + dy, 2 + dx] == x[0, 0, 2, 2]
    assert np.count_nonzero(moved) == (5 - abs(dx)) * (5 - abs(dy))


def test_blur_keeps_the_mean_and_smooths() -> None:
    kernel = np.zeros((1, 5, 5))
    kernel[0, 2, 2] = 1.0
    smooth = blurred(kernel)
    assert smooth.shape == (1, 40, 40)
    assert smooth.max() < 1.0 and smooth[0, 20, 20] == smooth.max()
    assert smooth.mean() == pytest.approx(kernel.mean(), rel=0.05)


def test_a_long_row_label_is_not_clipped_at_the_left_edge() -> None:
    from PIL import Image

    executor = _executor("input(3, 16, 16) - conv(8, 3, pad=same) - relu - maxpool(2) - fc(10)")
    x = np.random.default_rng(0).random((1, 3, 16, 16)).astype(np.float32)
    figure = build_figure(executor, executor.graph["conv_1"], x, None)
    assert figure.rows[0].title == "kernels (mean over 3 input channels)"
    buffer = io.BytesIO()
    save_figure(figure, buffer)
    pixels = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L"))
    assert pixels[:, :4].min() > 240, "a row label is cut off at the left edge"
