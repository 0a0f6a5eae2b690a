"""What the train section adds to the training loop: the lr of each step, augmentation, early stopping.

The Trainer calls these few hooks; their state goes into the checkpoint, so `--resume` continues
bit for bit (the augmentation generator, the early-stopping counters; best.npz holds the best weights).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from netdsl.backends.numpy.weights import WeightsError, read_npz, save_weights
from netdsl.fileio import atomic_write_text
from netdsl.train.augment import Augmenter, image_input
from netdsl.train.config import TrainConfig
from netdsl.train.early_stop import EarlyStopping
from netdsl.train.schedules import learning_rate

BEST = "best.npz"
BEST_META = "best.json"


class TrainingError(Exception):
    """Training cannot go on (a NaN loss, a checkpoint of another program); one message for the user."""


class RunExtras:
    """Schedule, augmentation and early stopping of one training run."""

    def __init__(self, config: TrainConfig, executor) -> None:
        self.config = config
        self.executor = executor
        self.augmenter = Augmenter(config.augment, config.seed) if config.augment else None
        self.early = EarlyStopping(config.early_stop) if config.early_stop else None
        self.best_weights: dict[str, np.ndarray] | None = None

    # ---- the loop ----
    def start(self, fresh: bool, sample_shape: tuple[int, ...], validates: bool = True) -> None:
        """Before the first epoch (fresh) or a resumed one: reset early stopping; check that the data can be
        augmented and that the monitored value will be recorded."""
        stop = self.config.early_stop
        if stop is not None and stop.monitor.startswith("val_") and not validates:
            raise TrainingError(
                f"early_stop monitors {stop.monitor}, but this run has no validation samples; "
                "monitor loss, or keep a validation split (val_split > 0)"
            )
        if self.augmenter is not None and not image_input(tuple(sample_shape)):
            raise TrainingError(
                f"augment needs images (C, H, W) or square vectors, but samples have shape "
                f"{tuple(sample_shape)}; drop augment from the train section"
            )
        if fresh and self.early is not None:
            self.early = EarlyStopping(self.config.early_stop)
            self.best_weights = None

    def lr(self, epoch: int, epochs: int, iteration: int) -> float:
        """The learning rate of the next step (0-based epoch; iteration = optimizer steps so far)."""
        c = self.config
        return learning_rate(
            c.lr, epoch=epoch, iteration=iteration, epochs=epochs, schedule=c.schedule, warmup=c.warmup, decay=c.decay
        )

    def augmented(self, xb: np.ndarray) -> np.ndarray:
        return xb if self.augmenter is None else self.augmenter(xb)

    @property
    def stopped(self) -> bool:
        return self.early is not None and self.early.stopped

    def end_epoch(self, row: dict[str, float], out_dir: Path | None) -> None:
        """Early stopping: keep (and write) the weights of a new best epoch."""
        if self.early is None or not self.early.update(row):
            return
        self.best_weights = {k: v.copy() for k, v in self.executor.state_dict().items()}
        if out_dir:
            save_weights(out_dir / BEST, self.best_weights)
            meta = {"epoch": self.early.best_epoch, "monitor": self.early.spec.monitor, "value": self.early.best}
            atomic_write_text(out_dir / BEST_META, json.dumps(meta) + "\n")

    def finish(self, out_dir: Path | None) -> str | None:
        """After the last epoch: restore the best weights (early stopping); returns what was done, for the user."""
        if self.early is None or self.best_weights is None:
            return None
        self.executor.load_state_dict(self.best_weights)
        if out_dir:
            save_weights(out_dir / "weights.npz", self.best_weights)
        how = f"stopped after epoch {self.early.stopped_epoch}; " if self.early.stopped else ""
        return (
            f"{how}restored the weights of epoch {self.early.best_epoch} "
            f"({self.early.spec.monitor} {self.early.best:.4f})"
        )

    # ---- checkpoints ----
    def state_dict(self) -> dict[str, Any]:
        """JSON-ready entries for the checkpoint's meta."""
        state: dict[str, Any] = {}
        if self.augmenter is not None:
            state["augment_rng_state"] = self.augmenter.state
        if self.early is not None:
            state["early_stop"] = self.early.state_dict()
        return state

    def load_state_dict(self, meta: dict[str, Any], directory: Path) -> None:
        """Restore from a checkpoint's meta; the best weights come back from best.npz."""
        if self.augmenter is not None and "augment_rng_state" in meta:
            self.augmenter.state = meta["augment_rng_state"]
        if self.early is None or "early_stop" not in meta:
            return
        self.early.load_state_dict(meta["early_stop"])
        if self.early.best_epoch:
            try:
                self.best_weights = read_npz(directory / BEST)
            except WeightsError as err:
                raise TrainingError(f"{err}; the checkpoint's best epoch needs it") from None
