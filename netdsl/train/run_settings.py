"""What the run that made a weights file says about its data: settings.json beside the weights.

`predict`, `evaluate`, `export` (and so `run`) take the data set, class names, target and metric from the
run rather than from the program, which may name another data set: a net trained with `--data digits`
whose program says `data = cifar10` predicts digits, not "7 horse".
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from netdsl.train.config import TrainConfig
from netdsl.train.declarations import LOSSES, METRICS, TARGETS

SETTINGS = "settings.json"
MAX_SETTINGS_BYTES = 4 * 2**20  # the program text (at most 1 MiB) and the settings


def settings_beside(weights: str | Path) -> tuple[dict[str, Any] | None, Path, str | None]:
    """(the settings of the run in the weights file's folder or None, settings.json's path, why it was not
    used when one is there but unreadable)."""
    path = Path(weights).parent / SETTINGS
    try:
        if not path.is_file():
            return None, path, None
        if path.stat().st_size > MAX_SETTINGS_BYTES:
            return None, path, "larger than a netdsl run's settings"
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, path, f"not readable JSON ({err})"
    if not isinstance(settings, dict):
        return None, path, "not a JSON object"
    problem = _problem(settings)
    return (None, path, problem) if problem else (settings, path, None)


def _problem(settings: dict[str, Any]) -> str | None:
    """What makes the data settings unusable, if anything (a hand-edited or foreign file)."""
    data, classes, target = settings.get("data"), settings.get("classes"), settings.get("target", "labels")
    if not isinstance(data, str):
        return "no data set recorded"
    if (
        classes is not None
        and not isinstance(classes, str)
        and not (isinstance(classes, list) and all(isinstance(name, str) for name in classes))
    ):
        return "classes must be a file name or a list of names"
    if target not in TARGETS:
        return f"unknown target {target!r}"
    if settings.get("loss", "cross_entropy") not in LOSSES:
        return f"unknown loss {settings.get('loss')!r}"
    metrics = settings.get("metrics", ["accuracy"])
    if not isinstance(metrics, list) or any(metric not in METRICS for metric in metrics):
        return f"unknown metrics {metrics!r}"
    seed, share = settings.get("seed", 0), settings.get("val_split", 0.1)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        return f"seed must be a non-negative integer, found {seed!r}"
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not (math.isfinite(share) and 0 <= share < 1):
        return f"val_split must be in [0, 1), found {share!r}"
    return None


def with_run_settings(
    config: TrainConfig, weights: str | Path, network: str | None = None
) -> tuple[TrainConfig, list[str]]:
    """The program's settings with the data settings of the run that wrote `weights` (a run of `network`),
    and the notices to show: where they came from when they differ from the program's, or why settings.json
    was not used."""
    from netdsl.train.checkpoint import data_key

    settings, path, problem = settings_beside(weights)
    if settings is not None and network is not None and settings.get("network", network) != network:
        problem = f"it is a run of network {settings.get('network')!r}, not {network!r}"
    if problem:
        return config, [f"{path}: not used ({problem}); taking the data set and classes from the program"]
    if settings is None:
        return config, []
    classes = settings.get("classes")
    run = replace(
        config,
        data=settings["data"],
        classes=tuple(classes) if isinstance(classes, list) else classes,
        target=settings.get("target", "labels"),
        loss=settings.get("loss", config.loss),
        metrics=tuple(settings.get("metrics", ["accuracy"])),
        seed=settings.get("seed", 0),
        val_split=float(settings.get("val_split", 0.1)),
    )
    notices = []
    if data_key(run.data) != data_key(config.data):
        notices.append(
            f"{Path(weights).name} was trained on {_shown(run.data)} ({path}), the program says "
            f"{_shown(config.data)}: using the run's data set and class names"
        )
    elif run.classes != config.classes:
        notices.append(
            f"{Path(weights).name} was trained with other class names than the program's ({path}): using the run's"
        )
    return run, notices


def _shown(data: str) -> str:
    """A data spec as the user wrote it: a file by its name."""
    return Path(data).name if data.lower().endswith((".npz", ".csv")) else data
