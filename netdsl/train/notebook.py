"""`fit` in a Jupyter notebook: a live progress bar and the curves redrawn in place after each epoch.

Both are IPython display handles that are updated, not appended to, so a long run keeps one bar and one
picture. Outside a notebook kernel the trainer prints its text lines as on a terminal.
"""

from __future__ import annotations

import sys
import time
from html import escape
from pathlib import Path
from typing import Any

UPDATE_EVERY = 0.25  # seconds between two redraws of the bar inside an epoch


def in_notebook() -> bool:
    """Whether this process is a notebook's kernel (IPython with a kernel attached), which shows rich output."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class NotebookBar:
    """The trainer's progress (same calls as its terminal bar), shown as HTML and a PNG of the curves."""

    def __init__(self, epochs: int, samples: int, trainer):
        self.epochs, self.samples, self.trainer = epochs, samples, trainer
        self.epoch = 0
        self.lines: list[str] = []
        self._bar: Any = None  # IPython display handles, updated in place
        self._curves: Any = None
        self._last = 0.0

    def __enter__(self) -> NotebookBar:
        from IPython.display import HTML, display

        self._bar = display(HTML(self._html(0, "")), display_id=True)
        return self

    def __exit__(self, *exc) -> None:
        pass

    def start_epoch(self, epoch: int, seen: int) -> None:
        self.epoch = epoch
        self._show(seen, "")

    def advance(self, seen: int, loss: float, accuracy: float, seconds: float) -> None:
        now = time.monotonic()
        if now - self._last < UPDATE_EVERY and seen < self.samples:
            return
        self._last = now
        rate = seen / max(seconds, 1e-9)
        self._show(seen, f"loss {loss:.4f}  accuracy {accuracy:.4f}  {rate:,.0f} samples/s")

    def end_epoch(self, row: dict, seen: int) -> None:
        import math

        val = (
            ""
            if math.isnan(row["val_loss"])
            else f"  val_loss {row['val_loss']:.4f}  val_accuracy {row['val_accuracy']:.4f}"
        )
        self.lines.append(
            f"epoch {row['epoch']}/{self.epochs}  loss {row['loss']:.4f}  "
            f"accuracy {row['accuracy']:.4f}{val}  {row['seconds']:.1f}s"
        )
        self._show(seen, "")
        self._draw_curves()

    def _show(self, seen: int, stats: str) -> None:
        from IPython.display import HTML

        self._bar.update(HTML(self._html(seen, stats)))

    def _html(self, seen: int, stats: str) -> str:
        bar = (
            f'<progress value="{seen}" max="{max(self.samples, 1)}" style="width:18em"></progress> '
            f"epoch {self.epoch}/{self.epochs}  {seen:,}/{self.samples:,}  {escape(stats)}"
        )
        return f"<div><pre style='margin:0'>{escape(chr(10).join(self.lines))}</pre>{bar}</div>"

    def _draw_curves(self) -> None:
        """The curves of the epochs so far (and each layer's gradient norm with diagnostics), in place."""
        import io

        from IPython.display import Image, display

        from netdsl.draw.curves import save_curves
        from netdsl.draw.run_dir import Run

        history = self.trainer.history
        run = Run(Path("fit"), [dict(row) for row in history.rows], {}, list(history.diagnostics))
        buffer = io.BytesIO()
        save_curves([run], buffer, "png", title=self.trainer.executor.graph.name)
        picture = Image(data=buffer.getvalue(), format="png")
        if self._curves is None:
            self._curves = display(picture, display_id=True)
        else:
            self._curves.update(picture)
