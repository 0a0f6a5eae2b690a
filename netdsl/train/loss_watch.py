"""A loss that explodes gets a warning before it becomes NaN (training then stops with an error)."""

from __future__ import annotations

import math

EXPLOSION = 1e6  # a loss this many times the first one has diverged


class LossWatch:
    """Remembers the first finite loss; warns once when a later one is EXPLOSION times larger."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.warned = False

    def check(self, loss: float, epoch: int, step: int, lr: float) -> str | None:
        """The warning line for this step's loss, or None."""
        if not math.isfinite(loss):
            return None
        if self.first is None:
            self.first = max(abs(loss), 1e-12)
            return None
        if self.warned or abs(loss) < EXPLOSION * self.first:
            return None
        self.warned = True
        return (
            f"the loss exploded to {loss:.3g} at epoch {epoch}, step {step} (the first was {self.first:.3g}); "
            f"training is diverging: try a lower learning rate (now {lr:g}), e.g. --lr {lr / 10:g}"
        )
