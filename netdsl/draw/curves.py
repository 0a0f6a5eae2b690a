"""Training curves: loss and the metric (accuracy, mae or rmse) per epoch, training solid and validation
dashed; the lr when recorded."""

from __future__ import annotations

import math
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # run_dir draws its curves with this module
    from netdsl.draw.run_dir import Run

METRIC_TITLES = {"accuracy": "accuracy", "mae": "mean absolute error", "rmse": "root mean squared error"}
# Values beyond this are drawn at it: matplotlib's tick locator overflows on a range like 1e308 - -1e308.
PLOT_LIMIT = 1e100
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22")


def _panels(runs: list[Run]) -> list[tuple[str, str]]:
    """(column, title) of each panel: loss, each metric recorded (accuracy, mae, rmse), lr when any run recorded it."""
    panels = [("loss", "loss")]
    for metric, title in METRIC_TITLES.items():
        if any(run.has(metric) or run.has(f"val_{metric}") for run in runs):
            panels.append((metric, title))
    if any(run.has("lr") for run in runs):
        panels.append(("lr", "learning rate"))
    return panels


def save_curves(runs: list[Run], handle: IO[bytes], fmt: str = "png", title: str = "",
                max_width: float | None = None) -> None:
    """One figure with a panel per quantity; each run one colour, named by its label when there are several.
    `max_width` (inches at 100 dpi) narrows the panels to fit a page."""
    from netdsl.draw.raster import pyplot

    plt = pyplot()
    panels = _panels(runs)
    width = min(4.6 * len(panels), max_width or math.inf)
    figure, axes = plt.subplots(1, len(panels), figsize=(width, 3.8 + 0.25 * len(runs)), dpi=100, squeeze=False)
    for ax, (column, heading) in zip(axes[0], panels):
        for index, run in enumerate(runs):
            _plot_run(ax, run, column, COLOURS[index % len(COLOURS)], several=len(runs) > 1)
        ax.set_title(heading)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(True, alpha=0.3)
        if column == "lr" and all(v > 0 for run in runs for v in run.column("lr") if math.isfinite(v)):
            ax.set_yscale("log")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="lower center", ncol=2 if len(runs) == 1 else 1, fontsize=8,
                      frameon=False)
    if title:
        figure.suptitle(title)
    legend_rows = 1 if len(runs) == 1 else 2 * len(runs)
    figure.tight_layout(rect=(0, min(0.45, 0.035 * legend_rows + 0.04), 1, 1))
    metadata = {"Creator": "netdsl", "CreationDate": None} if fmt == "pdf" else \
        {"Date": None} if fmt == "svg" else {"Software": "netdsl"}
    figure.savefig(handle, format=fmt, metadata=metadata)
    plt.close(figure)


def _plottable(values: list[float]) -> list[float]:
    """The values with magnitudes past PLOT_LIMIT (a diverged loss of 1e308, inf) drawn at the limit."""
    return [v if math.isnan(v) else min(max(v, -PLOT_LIMIT), PLOT_LIMIT) for v in values]


def _plot_run(ax, run: Run, column: str, colour: str, several: bool) -> None:
    epochs = _plottable(run.column("epoch"))
    name = f"{run.label}: " if several else ""
    if column == "lr":
        ax.plot(epochs, _plottable(run.column("lr")), color=colour, marker=".", label=f"{name}lr")
        return
    if run.has(column):
        ax.plot(epochs, _plottable(run.column(column)), color=colour, marker=".", label=f"{name}training")
    if run.has(f"val_{column}"):
        ax.plot(epochs, _plottable(run.column(f"val_{column}")), color=colour if several else COLOURS[1], marker=".",
                linestyle="--", label=f"{name}validation")
