"""`log = tensorboard`: TensorBoard event files in the run directory, written with tensorboardX (no framework).

Each epoch: a scalar for every history column (the learning rate among them) and every diagnostic
(`diagnostics/<layer>/<statistic>`), and histograms of each parameter (`weights/<layer>.<param>`) and of its
gradient at the epoch's last sampled step (`gradients/<layer>.<param>`).
`tensorboard --logdir runs/` shows every run.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

INSTALL = "pip install 'netdsl[tensorboard]'"


class TensorBoardMissing(Exception):
    """tensorboardX is not installed; one line saying how to install it."""


class EventLog:
    """One run's event file; scalars and histograms are stamped with the epoch (1-based)."""

    def __init__(self, directory: Path):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise TensorBoardMissing(f"log = tensorboard needs the tensorboardX package: {INSTALL}") from None
        self.writer = SummaryWriter(logdir=str(directory), flush_secs=30)

    def epoch(
        self, row: dict, diagnostics: list[dict], params: dict[str, np.ndarray], grads: dict[str, np.ndarray]
    ) -> None:
        """Everything of one epoch, flushed to disk at once."""
        epoch = int(row["epoch"])
        for key, value in row.items():
            if key != "epoch" and isinstance(value, (int, float)) and math.isfinite(value):
                self.writer.add_scalar(f"epoch/{key}", float(value), epoch)
        for diagnostic in diagnostics:
            for key, value in diagnostic.items():
                if isinstance(value, float) and math.isfinite(value):
                    self.writer.add_scalar(f"diagnostics/{diagnostic['layer']}/{key}", value, epoch)
        for key, value in params.items():
            self._histogram(f"weights/{key}", value, epoch)
        for key, value in grads.items():
            self._histogram(f"gradients/{key}", value, epoch)
        self.writer.flush()

    def _histogram(self, tag: str, values: np.ndarray, epoch: int) -> None:
        finite = values[np.isfinite(values)] if not np.isfinite(values).all() else values
        if finite.size:
            self.writer.add_histogram(tag, np.asarray(finite, dtype=np.float64), epoch)

    def close(self) -> None:
        self.writer.close()
