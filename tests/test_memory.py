"""Issue 21 M2: the memory a batch needs (padded buffers, im2col columns) is estimated before allocating,
and a batch that would not fit is one line naming the layer; augmentation allocates no border."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from helpers import EXAMPLES

from netdsl import cli, memory
from netdsl.model import loads
from netdsl.train.augment import translate

GIB = 2**30
TRAIN = "train {\n    epochs = 1\n    batch = 64\n}\n"
POOL = "input(1, 8, 8) - conv(4, 3, pad=same) - relu - maxpool(3000, pad=same) - flatten - output(10)\n"
CONV = "input(1, 8, 8) - conv(4, 1000, pad=same) - relu - flatten - output(10)\n"


@pytest.fixture
def one_gib(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine has 1 GiB available, whatever it really has (the cases would need tens)."""
    monkeypatch.setattr(memory, "available_memory", lambda: GIB)


def _status(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as done:
        return int(done.code)


def _no_allocation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any kernel run at all fails the test: the refusal must come before the first layer."""
    from netdsl.backends.numpy import executor

    def refuse(*args, **kwargs):
        raise AssertionError("a kernel ran")

    monkeypatch.setattr(executor, "to_internal", refuse)


@pytest.mark.parametrize(
    "program,layer,what",
    [
        (POOL, "maxpool_1 (maxpool(3000, pad=same), line 1)", "its input padded to 4x3000x3000"),
        (CONV, "conv_1 (conv(4, 1000, pad=same), line 1)", "im2col values"),
    ],
)
def test_train_refuses_a_batch_that_does_not_fit(
    tmp_path: Path, capsys, monkeypatch, one_gib, program: str, layer: str, what: str
) -> None:
    path = tmp_path / "big.net"
    path.write_text(program + TRAIN)
    _no_allocation(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert _status(["train", str(path)]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("netdsl: error: a batch of 64 would take ") and "more than the 1.0 GiB available" in error
    assert layer in error and what in error


def test_predict_and_evaluate_refuse_too(tmp_path: Path, capsys, monkeypatch, one_gib) -> None:
    path = tmp_path / "pool.net"
    path.write_text(POOL)
    model = loads(POOL)
    model.save_weights(tmp_path / "w.npz")
    np.save(tmp_path / "x.npy", np.zeros((64, 1, 8, 8), np.float32))
    _no_allocation(monkeypatch)
    for argv in (
        ["predict", str(path), "--weights", str(tmp_path / "w.npz"), "--input", str(tmp_path / "x.npy")],
        ["evaluate", str(path), "--weights", str(tmp_path / "w.npz"), "--data", "digits"],
    ):
        assert _status(argv) == 1, argv
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "maxpool_1 (maxpool(3000, pad=same)" in error, error


def test_model_predict_on_a_65535_window_is_a_memory_error_naming_the_layer(monkeypatch) -> None:
    """No raw numpy _ArrayMemoryError: the estimate (4 x 65535 x 65535 floats a sample) comes first."""
    monkeypatch.setattr(memory, "available_memory", lambda: 100 * GIB)
    model = loads("input(1, 8, 8) - conv(4, 3, pad=same) - maxpool(65535, pad=same) - flatten - output(2)")
    with pytest.raises(
        memory.NotEnoughMemory,
        match=r"maxpool_1 \(maxpool\(65535, pad=same\), line 1\): its input "
        r"padded to 4x65535x65535",
    ):
        model.predict(np.zeros((2, 1, 8, 8), np.float32))


def test_a_batch_that_fits_runs(one_gib) -> None:
    model = loads(POOL.replace("3000", "2"))
    assert model.predict(np.zeros((64, 1, 8, 8), np.float32)).shape == (64, 10)


def test_crop_allocates_no_border() -> None:
    """`augment = crop(100000)` used to pad every image by 100,000 pixels (4.66 TiB for a batch)."""
    x = np.arange(4 * 2 * 8 * 8, dtype=np.float32).reshape(4, 2, 8, 8)
    tracemalloc.start()
    try:
        out = translate(x, 1000, 1000, np.random.default_rng(0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.shape == x.shape and peak < 4 * x.nbytes


def test_translate_is_padding_then_cropping() -> None:
    """The same images as the padded version it replaces, shift for shift."""
    x = np.random.default_rng(1).standard_normal((32, 2, 5, 7)).astype(np.float32)
    for max_dy, max_dx in ((0, 0), (1, 2), (3, 3), (9, 12)):
        rng = np.random.default_rng(max_dy)
        dy = rng.integers(-max_dy, max_dy + 1, size=32)
        dx = rng.integers(-max_dx, max_dx + 1, size=32)
        padded = np.pad(x, ((0, 0), (0, 0), (max_dy, max_dy), (max_dx, max_dx)))
        expected = np.stack(
            [padded[i, :, max_dy - dy[i] : max_dy - dy[i] + 5, max_dx - dx[i] : max_dx - dx[i] + 7] for i in range(32)]
        )
        np.testing.assert_array_equal(translate(x, max_dy, max_dx, np.random.default_rng(max_dy)), expected)


_STEP_PEAK = """
import sys, tracemalloc
import numpy as np
import netdsl
from netdsl.backends.numpy.executor import Executor
from netdsl.backends.numpy.objective import Objective
from netdsl.backends.numpy.optimizers import Adam
from netdsl.memory import training_step_bytes

graph = netdsl.load(sys.argv[1]).graph
rng = np.random.default_rng(0)
x = rng.random((64, *graph.input.shape), dtype=np.float32)
y = rng.integers(0, graph.output.shape[0], 64)
executor = Executor(graph)
executor.init_params(0)
objective, optimizer = Objective(graph, "cross_entropy"), Adam(lr=1e-3)
tracemalloc.start()
base = tracemalloc.get_traced_memory()[0]
for _ in range(2):
    out = executor.forward(x, training=True, rng=rng, stop_before=objective.stop_before)
    _, dout = objective(out, y)
    optimizer.step(executor.params, executor.backward(dout, start=objective.start))
    del out, dout
print(tracemalloc.get_traced_memory()[1] - base, training_step_bytes(graph, 64, state_slots=2))
"""


@pytest.mark.parametrize("example", ["lenet5", "seed003_cnn"])
def test_a_training_step_estimate_covers_the_traced_peak(example: str) -> None:
    """training_step_bytes against the NumPy allocations of two Adam steps in a fresh interpreter (whose
    scratch pools start empty; tracemalloc sees numpy's allocations): never below them, and not far above
    (bench/train_throughput.py --memory compares resident sets)."""
    result = subprocess.run(
        [sys.executable, "-c", _STEP_PEAK, str(EXAMPLES / f"{example}.net")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    peak, estimate = map(int, result.stdout.split())
    assert peak <= estimate <= 1.5 * peak, (estimate, peak)
