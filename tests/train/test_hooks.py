"""Schedules, augmentation and early stopping in the training loop: history, best.npz, exact resume."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest

import netdsl
from netdsl.backends.numpy.executor import Executor
from netdsl.data import load_dataset
from netdsl.train.config import EarlyStop
from netdsl.train.early_stop import EarlyStopping
from netdsl.train.schedules import learning_rate
from netdsl.train.trainer import Interrupted, Trainer

NET = "input(1, 8, 8) - conv(4, 3) - relu - dropout(0.2) - flatten - fc(10) - softmax\n"
SECTION = """train {{
    optimizer  = rmsprop(lr=0.005, decay=1e-3)
    schedule   = cosine
    warmup     = 1
    augment    = (flip, shift(0.2), crop(1), rotate(10), cutout(2))
    early_stop = val_loss(patience={patience}, min_delta={min_delta})
    epochs     = {epochs}
    batch      = 64
}}
"""


def model(epochs: int = 4, patience: int = 10, min_delta: float = 0.0) -> netdsl.Model:
    return netdsl.loads(NET + SECTION.format(epochs=epochs, patience=patience, min_delta=min_delta))


def trainer(m: netdsl.Model, out: Path | None) -> Trainer:
    executor = Executor(m.graph)
    executor.init_params(m.train_config.seed)
    return Trainer(executor, m.train_config, out_dir=out, program=m.source, verbose=0)


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits", (1, 8, 8))
    return data.x_train[:600], data.y_train[:600], (data.x_val, data.y_val)


def npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as archive:
        return {k: archive[k] for k in archive.files}


def same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_history_records_the_lr_of_each_epochs_last_step(tmp_path: Path, digits) -> None:
    m = model(epochs=3)
    t = trainer(m, tmp_path)
    t.fit(digits[0], digits[1], digits[2])
    steps = -(-600 // 64)
    expected = [
        learning_rate(
            0.005,
            epoch=e,
            iteration=(e + 1) * steps - 1,
            epochs=3,
            schedule=m.train_config.schedule,
            warmup=1,
            decay=1e-3,
        )
        for e in range(3)
    ]
    assert t.history.history["lr"] == pytest.approx(expected, rel=1e-12)
    lines = (tmp_path / "history.csv").read_text().splitlines()
    assert lines[0].split(",")[5] == "lr" and float(lines[2].split(",")[5]) == pytest.approx(expected[1], rel=1e-5)


def interrupt_at(t: Trainer, step: int) -> None:
    """Make the trainer see Ctrl-C during its step-th step (it saves a checkpoint and stops)."""
    original, count = t.step, [0]

    def step_then_interrupt(xb, yb):
        count[0] += 1
        if count[0] == step:
            signal.raise_signal(signal.SIGINT)
        return original(xb, yb)

    t.step = step_then_interrupt  # type: ignore[method-assign]


def test_resume_mid_epoch_is_bitwise_identical_with_augmentation_and_early_stop(tmp_path: Path, digits) -> None:
    full = trainer(model(), tmp_path / "full")
    full.fit(digits[0], digits[1], digits[2])
    part = trainer(model(), tmp_path / "part")
    interrupt_at(part, 15)  # inside the second epoch (10 steps an epoch)
    with pytest.raises(Interrupted):
        part.fit(digits[0], digits[1], digits[2])
    meta = json.loads(str(np.load(tmp_path / "part" / "checkpoint.npz")["meta"]))
    assert "augment_rng_state" in meta and meta["early_stop"]["best_epoch"] == 1
    resumed = trainer(model(), tmp_path / "part")
    resumed.resume(tmp_path / "part")
    resumed.fit(digits[0], digits[1], digits[2])
    for name in ("weights.npz", "best.npz"):
        assert same(npz(tmp_path / "full" / name), npz(tmp_path / "part" / name)), name

    def without_seconds(directory: str) -> list[str]:
        return [line.rsplit(",", 1)[0] for line in (tmp_path / directory / "history.csv").read_text().splitlines()]

    assert without_seconds("full") == without_seconds("part") and len(without_seconds("full")) == 5
    assert (tmp_path / "full" / "best.json").read_text() == (tmp_path / "part" / "best.json").read_text()


def test_resume_without_the_augmentation_state_differs(tmp_path: Path, digits) -> None:
    """The checkpointed generator matters: a fresh one gives other batches (so the test above can fail)."""
    full = trainer(model(epochs=2), tmp_path / "full")
    full.fit(digits[0], digits[1], digits[2])
    part = trainer(model(epochs=2), tmp_path / "part")
    interrupt_at(part, 15)
    with pytest.raises(Interrupted):
        part.fit(digits[0], digits[1], digits[2])
    resumed = trainer(model(epochs=2), tmp_path / "part")
    resumed.resume(tmp_path / "part")
    resumed.extras.augmenter.state = trainer(model(), None).extras.augmenter.state  # a fresh generator
    resumed.fit(digits[0], digits[1], digits[2])
    assert not same(npz(tmp_path / "full" / "weights.npz"), npz(tmp_path / "part" / "weights.npz"))


def test_early_stopped_run_leaves_best_npz_equal_to_its_best_epochs_weights(tmp_path: Path, digits) -> None:
    # min_delta 10: only the first epoch counts as an improvement, so patience 2 stops after epoch 3
    stopped = trainer(model(epochs=8, patience=2, min_delta=10), tmp_path / "stop")
    stopped.fit(digits[0], digits[1], digits[2])
    assert len(stopped.history.rows) == 3 and stopped.extras.early.stopped_epoch == 3
    best = json.loads((tmp_path / "stop" / "best.json").read_text())
    assert best["epoch"] == 1 and best["monitor"] == "val_loss"
    # the same run for exactly one epoch, without early stopping: its weights are epoch 1's
    m = netdsl.loads(
        NET
        + SECTION.format(epochs=8, patience=2, min_delta=10).replace(
            "    early_stop = val_loss(patience=2, min_delta=10)\n", ""
        )
    )
    one = trainer(m, tmp_path / "one")
    one.fit(digits[0], digits[1], digits[2], epochs=1)
    epoch1 = npz(tmp_path / "one" / "weights.npz")
    assert same(npz(tmp_path / "stop" / "best.npz"), epoch1)
    assert same(npz(tmp_path / "stop" / "weights.npz"), epoch1)  # restored at the end
    assert same(stopped.executor.state_dict(), epoch1)


def test_resuming_a_stopped_run_trains_no_further(tmp_path: Path, digits) -> None:
    stopped = trainer(model(epochs=8, patience=1, min_delta=10), tmp_path)
    stopped.fit(digits[0], digits[1], digits[2])
    again = trainer(model(epochs=8, patience=1, min_delta=10), tmp_path)
    again.resume(tmp_path)
    again.fit(digits[0], digits[1], digits[2])
    assert len(again.history.rows) == 2 and same(again.executor.state_dict(), npz(tmp_path / "best.npz"))


def test_early_stopping_counts_like_keras() -> None:
    loss = EarlyStopping(EarlyStop("val_loss", patience=2, min_delta=0.1))
    for epoch, value in enumerate([1.0, 0.95, 0.85, 0.9, 0.8], start=1):
        loss.update({"epoch": epoch, "val_loss": value})
    assert (loss.best, loss.best_epoch, loss.stopped_epoch) == (0.85, 3, 5)
    acc = EarlyStopping(EarlyStop("val_accuracy", patience=0))
    acc.update({"epoch": 1, "val_accuracy": 0.5})
    acc.update({"epoch": 2, "val_accuracy": 0.6})
    assert not acc.stopped and acc.best_epoch == 2
    acc.update({"epoch": 3, "val_accuracy": 0.6})
    assert acc.stopped_epoch == 3
    restored = EarlyStopping(EarlyStop("val_loss", patience=2, min_delta=0.1))
    restored.load_state_dict(json.loads(json.dumps(loss.state_dict())))
    assert restored == loss


def test_augmenting_vectors_that_are_not_images_is_one_line(digits) -> None:
    m = netdsl.loads("input(10) - fc(10)\ntrain {\n augment = flip\n}\n")
    from netdsl.train.trainer import TrainingError

    with pytest.raises(TrainingError, match="augment needs images"):
        trainer(m, None).fit(np.zeros((4, 10), np.float32), np.zeros(4, np.int64))


def test_early_stop_on_validation_without_validation_samples_is_one_line(digits) -> None:
    from netdsl.train.trainer import TrainingError

    with pytest.raises(TrainingError, match="early_stop monitors val_loss, but this run has no validation samples"):
        trainer(model(), None).fit(digits[0], digits[1], None)
