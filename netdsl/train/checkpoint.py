"""Checkpoints: read and checked before any of it is used, and the run's settings they carry."""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from netdsl.backends.numpy.optimizers import Optimizer
from netdsl.backends.numpy.weights import WeightsError, read_npz
from netdsl.train.config import TrainConfig
from netdsl.train.declarations import LOSSES, OPTIMIZERS

CHECKPOINT = "checkpoint.npz"
# The progress counters of a checkpoint's meta and the type each must have.
_COUNTERS = {"epoch": int, "step": int, "seen": int, "loss_sum": float, "correct_sum": float, "seconds": float}


class CheckpointError(Exception):
    """A checkpoint that cannot be resumed from; one line naming the file and the problem."""


class SettingsConflict(Exception):
    """A flag that contradicts the settings a resumed run was started with (bad command-line use)."""


@dataclass
class Checkpoint:
    path: Path
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {k[len("param/") :]: v for k, v in self.arrays.items() if k.startswith("param/")}

    @property
    def optimizer_state(self) -> dict[str, np.ndarray]:
        return {k[len("optim/") :]: v for k, v in self.arrays.items() if k.startswith("optim/")}


def read_checkpoint(directory: str | Path) -> Checkpoint:
    """The checkpoint of a run directory, its meta checked; CheckpointError otherwise."""
    directory = Path(directory)
    path = directory / CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"{directory}: no {CHECKPOINT} to resume from")
    try:
        arrays = read_npz(path)
        meta = json.loads(str(arrays["meta"]))
    except (WeightsError, KeyError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: not a netdsl checkpoint ({err})") from None
    check_meta(meta, arrays.get("perm"), path)
    return Checkpoint(path, meta, arrays)


def check_meta(meta: Any, perm: np.ndarray | None, path: Path) -> None:
    """Every field a resume uses is there with a usable type and value."""
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: meta must be a JSON object, found {type(meta).__name__}")
    for key, kind in _COUNTERS.items():
        value = meta.get(key)
        if not _is_number(value, kind) or value < 0:
            raise CheckpointError(f"{path}: meta {key} must be a non-negative {kind.__name__}, found {value!r}")
    if not isinstance(meta.get("program_hash"), str):
        raise CheckpointError(f"{path}: meta lacks program_hash")
    _check_rng_state(meta.get("rng_state"), path)
    _check_data(meta.get("data"), path)
    _check_perm(meta, perm, path)
    if "history" in meta:
        _check_history(meta["history"], meta["epoch"], path)


def _is_number(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return False
    if kind is int:
        return isinstance(value, int)
    return isinstance(value, (int, float)) and math.isfinite(value)


def _check_rng_state(state: Any, path: Path) -> None:
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: meta lacks rng_state (the generator of shuffling and dropout)")
    try:
        np.random.default_rng().bit_generator.state = state
    except (TypeError, ValueError, KeyError) as err:
        raise CheckpointError(f"{path}: meta rng_state is not a generator state ({err})") from None


def _check_data(data: Any, path: Path) -> None:
    if data is None:
        return
    if not (
        isinstance(data, dict)
        and _is_number(data.get("train"), int)
        and _is_number(data.get("val"), int)
        and isinstance(data.get("sha256"), str)
    ):
        raise CheckpointError(f"{path}: meta data must give the train and val sample counts and a sha256")


def _check_perm(meta: dict[str, Any], perm: np.ndarray | None, path: Path) -> None:
    """Mid-epoch, the epoch's order: a permutation of the training samples."""
    if meta["step"] == 0:
        return
    if perm is None:
        raise CheckpointError(f"{path}: stopped at step {meta['step']} but holds no perm (the epoch's order)")
    if (
        perm.ndim != 1
        or not np.issubdtype(perm.dtype, np.integer)
        or not np.array_equal(np.sort(perm), np.arange(len(perm)))
    ):
        raise CheckpointError(
            f"{path}: perm is not a permutation of the training samples (shape {list(perm.shape)}, dtype {perm.dtype})"
        )
    samples = (meta.get("data") or {}).get("train")
    if samples is not None and samples != len(perm):
        raise CheckpointError(f"{path}: perm orders {len(perm)} samples, the run trains on {samples}")
    if meta["seen"] > len(perm):
        raise CheckpointError(f"{path}: {meta['seen']} samples seen in an epoch of {len(perm)}")


def _check_history(rows: Any, epochs: int, path: Path) -> None:
    ok = (
        isinstance(rows, list)
        and len(rows) >= epochs
        and all(
            isinstance(row, dict) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row.values())
            for row in rows
        )
    )
    if not ok:
        raise CheckpointError(f"{path}: meta history must hold one row of numbers per completed epoch ({epochs})")


def load_optimizer_state(
    optimizer: Optimizer, state: dict[str, np.ndarray], params: dict[str, np.ndarray], path: Path
) -> None:
    """The optimizer's state from a checkpoint: a step count, and slots shaped like their parameters."""
    step = state.get("step")
    if step is None or step.shape != () or not np.issubdtype(step.dtype, np.integer) or step < 0:
        raise CheckpointError(f"{path}: optimizer step must be a non-negative integer, found {step!r}")
    for key, array in state.items():
        slot, _, name = key.partition(".")
        if not name:
            continue  # step and the optimizer's scalars
        if name not in params:
            raise CheckpointError(f"{path}: optimizer state {key} belongs to no parameter of the network")
        if array.shape != params[name].shape or not np.issubdtype(array.dtype, np.floating):
            raise CheckpointError(
                f"{path}: optimizer state {key} is {array.dtype} {list(array.shape)}, "
                f"the parameter {name} is {params[name].dtype} {list(params[name].shape)}"
            )
    try:
        optimizer.load_state_dict(state)
    except (KeyError, ValueError, TypeError) as err:
        raise CheckpointError(f"{path}: optimizer state does not fit {type(optimizer).__name__} ({err})") from None


# ---- the run's settings ----


# The settings a resume takes from the checkpoint: those the flags can change. The rest comes from the program,
# which the checkpoint's program hash proves unchanged.
RESUMED = ("data", "loss", "optimizer", "optimizer_args", "epochs", "batch", "seed", "val_split")


def settings_of(config: TrainConfig) -> dict[str, Any]:
    """The run's effective settings that flags can change, as JSON, optimizer defaults filled in."""
    settings = {key: getattr(config, key) for key in RESUMED}
    settings["data"] = data_key(config.data)
    settings["optimizer_args"] = config.optimizer_settings()
    return settings


def data_key(spec: str) -> str:
    """A data spec as a resume compares it: built-in names in lower case, files as absolute paths."""
    if spec.lower().endswith((".npz", ".csv")):
        return os.path.abspath(spec)
    return spec.strip().lower()


def config_from_settings(settings: Any, path: Path, program: TrainConfig) -> TrainConfig:
    """The program's TrainConfig with a checkpoint's settings, each checked as the train section checks it."""
    if not isinstance(settings, dict):
        raise CheckpointError(f"{path}: meta settings must be a JSON object")
    values = {key: settings[key] for key in RESUMED if key in settings}
    problem = _settings_problem(values)
    if problem:
        raise CheckpointError(f"{path}: meta settings: {problem}")
    return replace(program, **values)


def _settings_problem(values: dict[str, Any]) -> str | None:
    for key in ("epochs", "batch"):
        if key in values and not (_is_number(values[key], int) and values[key] >= 1):
            return f"{key} must be a positive integer, found {values[key]!r}"
    if "seed" in values and not (_is_number(values["seed"], int) and values["seed"] >= 0):
        return f"seed must be a non-negative integer, found {values['seed']!r}"
    if "val_split" in values and not (_is_number(values["val_split"], float) and 0 <= values["val_split"] < 1):
        return f"val_split must be in [0, 1), found {values['val_split']!r}"
    if "data" in values and not isinstance(values["data"], str):
        return f"data must be a string, found {values['data']!r}"
    if values.get("loss", "cross_entropy") not in LOSSES:
        return f"unknown loss {values['loss']!r}"
    optimizer = values.get("optimizer", "adam")
    if optimizer not in OPTIMIZERS:
        return f"unknown optimizer {optimizer!r}"
    arguments = values.get("optimizer_args", {})
    if not isinstance(arguments, dict):
        return "optimizer_args must be a JSON object"
    problems = OPTIMIZERS[optimizer].problems(arguments)
    return f"{optimizer}: {problems[0][1]}" if problems else None


# The flags a resume may be given, by the TrainConfig attribute each sets.
FLAGS = {
    "data": "--data",
    "epochs": "--epochs",
    "batch": "--batch",
    "lr": "--lr",
    "optimizer": "--optimizer",
    "seed": "--seed",
    "val_split": "--val-split",
    "loss": "--loss",
}


def resume_config(
    stored: TrainConfig, flagged: TrainConfig, given: set[str], directory: Path, reached_epoch: int
) -> TrainConfig:
    """The stored settings; a given flag must agree with them, except --epochs, which may extend the run."""
    for key in sorted(given - {"epochs"}):
        mine, theirs = getattr(flagged, key), getattr(stored, key)
        differs = data_key(mine) != data_key(theirs) if key == "data" else mine != theirs
        if differs:
            raise SettingsConflict(
                f"{FLAGS.get(key, key)} {_shown(mine)} contradicts the run in {directory}, "
                f"which was started with {key} {_shown(theirs)}; resume without "
                f"{FLAGS.get(key, key)}, or start a new run with another --out"
            )
    if "epochs" not in given:
        return stored
    if flagged.epochs < reached_epoch:
        raise SettingsConflict(
            f"--epochs {flagged.epochs}: the run in {directory} has already reached epoch "
            f"{reached_epoch}; give --epochs {reached_epoch} or more to extend it"
        )
    return replace(stored, epochs=flagged.epochs)


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def data_fingerprint(
    x: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None, rows: int = 4096
) -> dict:
    """Sample counts and a SHA-256 of every label and of `rows` evenly spaced samples: a resume must train on the
    same data (hashing every byte of a large set would take seconds)."""
    digest = hashlib.sha256()
    x_val, y_val = validation or (x[:0], y[:0])
    for samples, labels in ((x, y), (x_val, y_val)):
        digest.update(f"{samples.dtype.str}{samples.shape}{labels.dtype.str}{labels.shape}".encode())
        digest.update(np.ascontiguousarray(samples[:: max(1, len(samples) // rows)]).tobytes())
        digest.update(np.ascontiguousarray(labels).tobytes())
    return {"train": len(x), "val": len(x_val), "sha256": digest.hexdigest()}
