"""Early stopping (Keras' EarlyStopping with restore_best_weights): watch one history column per epoch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from netdsl.train.config import EarlyStop


@dataclass
class EarlyStopping:
    """Counts the epochs since `monitor` last improved by more than `min_delta`; stops after `patience`."""

    spec: EarlyStop
    best: float = math.nan
    best_epoch: int = 0  # 1-based epoch of the best value; 0 before the first
    wait: int = 0
    stopped_epoch: int = 0  # the epoch after which training stopped; 0 while it runs

    def improved(self, value: float) -> bool:
        """Whether value beats the best so far by more than min_delta (the first finite value always does)."""
        if not math.isfinite(value):
            return False
        if not math.isfinite(self.best):
            return True
        if self.spec.mode == "min":
            return value < self.best - self.spec.min_delta
        return value > self.best + self.spec.min_delta

    def update(self, row: dict[str, float]) -> bool:
        """Record one epoch's history row; True when it is the new best."""
        value = float(row[self.spec.monitor])
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, int(row["epoch"]), 0
            return True
        self.wait += 1
        if self.wait >= self.spec.patience:
            self.stopped_epoch = int(row["epoch"])
        return False

    @property
    def stopped(self) -> bool:
        return self.stopped_epoch > 0

    def state_dict(self) -> dict[str, Any]:
        """JSON-ready state for the checkpoint (NaN as None)."""
        best = self.best if math.isfinite(self.best) else None
        return {"best": best, "best_epoch": self.best_epoch, "wait": self.wait, "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        best = state.get("best")
        self.best = math.nan if best is None else float(best)
        self.best_epoch = int(state.get("best_epoch", 0))
        self.wait = int(state.get("wait", 0))
        self.stopped_epoch = int(state.get("stopped_epoch", 0))
