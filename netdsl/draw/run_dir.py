"""What the pictures read from a training run's directory, and the two files training adds to it.

`netdsl train` writes weights.npz, checkpoint.npz and history.csv; after each epoch the Trainer also
calls `write_epoch_files`, which writes settings.json (the network, its program and the effective
training settings) and curves.png, each atomically.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from netdsl.fileio import atomic_write, atomic_write_text

SETTINGS = "settings.json"
CURVES = "curves.png"
HISTORY = "history.csv"
MAX_HISTORY_BYTES = 50 * 2**20


class RunError(Exception):
    """A run directory that cannot be read; one line naming the path and the problem."""


@dataclass
class Run:
    """One run: its directory, its per-epoch rows and its settings (empty when none were saved)."""

    directory: Path
    rows: list[dict[str, float]]
    settings: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)  # diagnostics.csv's rows, when it has one

    @property
    def label(self) -> str:
        """`runs/adam: adam lr 0.001`, for legends."""
        optimizer, lr = self.settings.get("optimizer"), self.settings.get("lr")
        if optimizer is None:
            return f"{self.directory} (no settings saved)"
        return (
            f"{self.directory}: {optimizer} lr {lr:g}"
            if isinstance(lr, (int, float))
            else f"{self.directory}: {optimizer}"
        )

    def column(self, key: str) -> list[float]:
        return [row.get(key, math.nan) for row in self.rows]

    def has(self, key: str) -> bool:
        return any(math.isfinite(v) for v in self.column(key))

    def layer_series(self, key: str) -> dict[str, tuple[list[int], list[float]]]:
        """layer -> (epochs, values) of one diagnostic, for the layers that have it, in the network's order."""
        series: dict[str, tuple[list[int], list[float]]] = {}
        for row in self.diagnostics:
            value = row.get(key, math.nan)
            if isinstance(value, float) and math.isfinite(value):
                epochs, values = series.setdefault(row["layer"], ([], []))
                epochs.append(int(row["epoch"]))
                values.append(value)
        return series


def run_settings(config, network: str, program: str) -> dict[str, Any]:
    """settings.json's content: the network, its program text and the training settings with defaults filled in."""
    settings = {"network": network, **asdict(config), "lr": config.lr, "optimizer_args": config.optimizer_settings()}
    return {**settings, "program": program}


def write_epoch_files(trainer) -> None:
    """After an epoch of a run with a directory: settings.json and curves.png, each atomically."""
    from netdsl.draw.curves import save_curves

    out = Path(trainer.out_dir)
    settings = run_settings(trainer.config, trainer.executor.graph.name, getattr(trainer, "program", ""))
    atomic_write_text(out / SETTINGS, json.dumps(settings, indent=2, default=str) + "\n")
    run = Run(out, [dict(row) for row in trainer.history.rows], settings, list(trainer.history.diagnostics))
    title = f"{settings['network']}: {settings['optimizer']} lr {settings['lr']:g}"
    atomic_write(out / CURVES, lambda handle: save_curves([run], handle, "png", title=title))


# ---- reading ----


def read_run(directory: str | Path) -> Run:
    """history.csv and the settings of a run directory (settings.json, else the checkpoint's, else none)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RunError(f"{directory}: {'no such directory' if not directory.exists() else 'not a directory'}")
    history = directory / HISTORY
    if not history.is_file():
        raise RunError(f"{directory}: no {HISTORY}; give a directory that netdsl train wrote")
    return Run(directory, read_history(history), read_settings(directory), read_diagnostics(directory))


def read_diagnostics(directory: Path) -> list[dict[str, Any]]:
    """The rows of the run's diagnostics.csv ([] when it has none); one line for a file that is not one."""
    from netdsl.train.layer_stats import DIAGNOSTICS, from_csv

    path = directory / DIAGNOSTICS
    if not path.is_file():
        return []
    if path.stat().st_size > MAX_HISTORY_BYTES:
        raise RunError(f"{path}: larger than {MAX_HISTORY_BYTES // 2**20} MiB; not a netdsl diagnostics file")
    try:
        return from_csv(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, KeyError, csv.Error) as err:
        raise RunError(f"{path}: not a netdsl diagnostics file ({err})") from None


def read_history(path: Path) -> list[dict[str, float]]:
    """The rows of a history.csv as numbers; one line for a file that is not one."""
    if path.stat().st_size > MAX_HISTORY_BYTES:
        raise RunError(f"{path}: larger than {MAX_HISTORY_BYTES // 2**20} MiB; not a netdsl history")
    try:
        reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
        rows = [{key: float(value) for key, value in row.items() if key and value not in (None, "")} for row in reader]
    except (UnicodeDecodeError, ValueError, csv.Error) as err:
        raise RunError(f"{path}: not a netdsl history ({err})") from None
    if not rows or not all("epoch" in row and "loss" in row for row in rows):
        raise RunError(f"{path}: holds no epochs (expected the columns epoch, loss, ...)")
    return rows


def read_settings(directory: Path) -> dict[str, Any]:
    """settings.json, or the settings a checkpoint's meta holds; {} when neither exists."""
    path = directory / SETTINGS
    if path.is_file():
        try:
            settings = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RunError(f"{path}: not a JSON file ({err})") from None
        if not isinstance(settings, dict):
            raise RunError(f"{path}: expected a JSON object")
        return settings
    return _checkpoint_settings(directory / "checkpoint.npz")


def _checkpoint_settings(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    from netdsl.backends.numpy.weights import WeightsError, read_npz

    try:
        meta = json.loads(str(read_npz(path).get("meta", "{}")))
    except (WeightsError, json.JSONDecodeError):
        return {}
    settings = meta.get("settings") if isinstance(meta, dict) else None
    if not isinstance(settings, dict):
        return {}
    args = settings.get("optimizer_args") or {}
    return {**settings, "lr": settings.get("lr", args.get("lr") if isinstance(args, dict) else None)}
