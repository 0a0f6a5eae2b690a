"""Training curves: loss and the metric (accuracy, mae or rmse) per epoch, training solid and validation
dashed; the lr when recorded; each layer's gradient norm when the run gathered diagnostics."""

from __future__ import annotations

import math
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # run_dir draws its curves with this module
    from netdsl.draw.run_dir import Run

METRIC_TITLES = {"accuracy": "accuracy", "mae": "mean absolute error", "rmse": "root mean squared error"}
GRADIENTS = "grad_norm"  # the diagnostic the extra panel draws
LAYER_LEGEND = 12  # at most this many layers are named in the gradient panel's legend
# Values beyond this are drawn at it: matplotlib's tick locator overflows on a range like 1e308 - -1e308.
PLOT_LIMIT = 1e100
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")


def _panels(runs: list[Run]) -> list[tuple[str, str]]:
    """(column, title) of each panel: loss, each metric recorded (accuracy, mae, rmse), lr when any run recorded it."""
    panels = [("loss", "loss")]
    for metric, title in METRIC_TITLES.items():
        if any(run.has(metric) or run.has(f"val_{metric}") for run in runs):
            panels.append((metric, title))
    if any(run.has("lr") for run in runs):
        panels.append(("lr", "learning rate"))
    if any(run.layer_series(GRADIENTS) for run in runs):
        panels.append((GRADIENTS, "gradient norm per layer"))
    return panels


def save_curves(
    runs: list[Run], handle: IO[bytes], fmt: str = "png", title: str = "", max_width: float | None = None
) -> None:
    """One figure with a panel per quantity; each run one colour, named by its label when there are several.
    `max_width` (inches at 100 dpi) narrows the panels to fit a page."""
    from matplotlib.figure import Figure  # not pyplot: a notebook's own backend stays as it is

    panels = _panels(runs)
    width = min(4.6 * len(panels), max_width or math.inf)
    figure = Figure(figsize=(width, 3.8 + 0.25 * len(runs)), dpi=100)
    axes = figure.subplots(1, len(panels), squeeze=False)
    for ax, (column, heading) in zip(axes[0], panels):
        if column == GRADIENTS:
            _plot_gradients(ax, runs)
        for index, run in enumerate(runs if column != GRADIENTS else ()):
            _plot_run(ax, run, column, COLOURS[index % len(COLOURS)], several=len(runs) > 1)
        ax.set_title(heading)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(True, alpha=0.3)
        if column == "lr" and all(v > 0 for run in runs for v in run.column("lr") if math.isfinite(v)):
            ax.set_yscale("log")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="lower center", ncol=2 if len(runs) == 1 else 1, fontsize=8, frameon=False)
    if title:
        figure.suptitle(title)
    legend_rows = 1 if len(runs) == 1 else 2 * len(runs)
    figure.tight_layout(rect=(0, min(0.45, 0.035 * legend_rows + 0.04), 1, 1))
    metadata = (
        {"Creator": "netdsl", "CreationDate": None}
        if fmt == "pdf"
        else {"Date": None}
        if fmt == "svg"
        else {"Software": "netdsl"}
    )
    figure.savefig(handle, format=fmt, metadata=metadata)


def _plot_gradients(ax, runs: list[Run]) -> None:
    """Each layer's mean gradient norm per epoch, log scale, coloured from the input (dark) to the output (light);
    several runs are told apart by their line style."""
    from matplotlib import colormaps

    styles = ("-", "--", ":", "-.")
    named = 0
    for index, run in enumerate(runs):
        series = run.layer_series(GRADIENTS)
        for depth, (layer, (epochs, values)) in enumerate(series.items()):
            colour = colormaps["viridis"](depth / max(len(series) - 1, 1) * 0.9)
            label = layer if len(series) <= LAYER_LEGEND else None
            if label and len(runs) > 1:
                label = f"{index + 1}: {layer}"
            positive = [(e, v) for e, v in zip(epochs, _plottable(values)) if v > 0]
            if positive:
                ax.plot(
                    *zip(*positive),
                    color=colour,
                    marker=".",
                    linestyle=styles[index % len(styles)],
                    label=label,
                    linewidth=1,
                )
                named += label is not None
    ax.set_yscale("log")
    if named:
        ax.legend(fontsize=7, ncol=1 + named // 13, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))


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
        ax.plot(
            epochs,
            _plottable(run.column(f"val_{column}")),
            color=colour if several else COLOURS[1],
            marker=".",
            linestyle="--",
            label=f"{name}validation",
        )
