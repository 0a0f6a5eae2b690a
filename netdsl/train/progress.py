"""Progress when the output is not a terminal (a log file, CI): a plain line at most every
PROGRESS_EVERY seconds inside an epoch, so a long epoch is never silent."""

from __future__ import annotations

import time

PROGRESS_EVERY = 10.0  # seconds between two progress lines


class PeriodicLine:
    """Says when the next progress line is due: PROGRESS_EVERY seconds after the previous one."""

    def __init__(self, every: float | None = None):
        self.every = PROGRESS_EVERY if every is None else every
        self._last = time.monotonic()

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.every:
            return False
        self._last = now
        return True


def progress_line(
    epoch: int,
    epochs: int,
    seen: int,
    samples: int,
    loss: float,
    accuracy: float,
    seconds: float,
    metric: str | None = "accuracy",
) -> str:
    """`epoch 1/10  12,800/50,000 samples  loss 1.2345  accuracy 0.5678  1,234 samples/s` (the metric
    recorded: accuracy, mae or rmse, none with metric None)."""
    rate = seen / max(seconds, 1e-9)
    shown = f"  {metric} {accuracy:.4f}" if metric else ""
    return f"epoch {epoch}/{epochs}  {seen:,}/{samples:,} samples  loss {loss:.4f}{shown}  {rate:,.0f} samples/s"
