"""A train section as the trainer, checkpoints and codegen read it: TrainConfig and the specs it holds.

The front end (netdsl/frontend/train_spec.py, train_extras.py) builds these from a program, checked
against netdsl/train/declarations.py; the runtime reads them without importing the front end.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from netdsl.diagnostics import Span
from netdsl.train.declarations import EARLY_STOP_DEFAULTS, OPTIMIZERS, SCHEDULES


@dataclass(frozen=True)
class Schedule:
    """`schedule = step(every=10, gamma=0.1)`: a name and its arguments, defaults filled in."""

    name: str
    args: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str) -> Any:
        """An argument's value, else its default (None for a required one)."""
        given = dict(self.args)
        if key in given:
            return given[key]
        arg = SCHEDULES[self.name].arg(key)
        return arg.default if arg else None


@dataclass(frozen=True)
class Transform:
    """One augmentation: `flip`; `shift` (dy, dx), each a fraction (float < 1) or pixels (int);
    `crop` (pad,); `rotate` (degrees,); `cutout` (size,)."""

    name: str
    args: tuple[int | float, ...] = ()

    def __str__(self) -> str:
        return self.name if not self.args else f"{self.name}({', '.join(f'{a:g}' for a in self.args)})"


@dataclass(frozen=True)
class EarlyStop:
    """`early_stop = val_loss(patience=5, min_delta=0)`: stop when `monitor` stops improving."""

    monitor: str
    patience: int = int(EARLY_STOP_DEFAULTS["patience"])
    min_delta: float = float(EARLY_STOP_DEFAULTS["min_delta"])

    @property
    def mode(self) -> str:
        """'max' for an accuracy, 'min' for a loss or an error (mae, rmse)."""
        return "max" if self.monitor.endswith("accuracy") else "min"


@dataclass(frozen=True)
class TrainConfig:
    data: str = "digits"
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    optimizer_args: dict[str, Any] = field(default_factory=lambda: {"lr": 0.001})
    epochs: int = 10
    batch: int = 32
    metrics: tuple[str, ...] = ("accuracy",)
    seed: int = 0
    val_split: float = 0.1
    schedule: Schedule | None = None
    warmup: int = 0
    augment: tuple[Transform, ...] = ()
    early_stop: EarlyStop | None = None
    classes: str | tuple[str, ...] | None = None
    target: str = "labels"
    diagnostics: bool = False  # per-layer statistics each epoch (netdsl/train/layer_stats.py)
    log: str = "none"
    target_span: Span | None = field(default=None, compare=False, repr=False)  # for errors about the target

    @property
    def reproduces_input(self) -> bool:
        """`target = input`: an autoencoder, whose input is its target."""
        return self.target == "input"

    @property
    def regression(self) -> bool:
        """`target = values`: real-valued targets, no classes."""
        return self.target == "values"

    @property
    def metric(self) -> str | None:
        """The one metric recorded beside the loss (history, curves, evaluate), None for `metrics = none`."""
        return self.metrics[0] if self.metrics else None

    @property
    def lr(self) -> float:
        return float(self.optimizer_args.get("lr", OPTIMIZERS[self.optimizer].defaults()["lr"]))

    @property
    def decay(self) -> float:
        """Keras' `decay`: the lr is divided by (1 + decay * iterations)."""
        return float(self.optimizer_args.get("decay", 0.0))

    def optimizer_settings(self) -> dict[str, Any]:
        """The optimizer's arguments a program may set, defaults filled in (Keras' decay when given)."""
        return {**OPTIMIZERS[self.optimizer].defaults(), **self.optimizer_args}

    def optimizer_kwargs(self) -> dict[str, Any]:
        """Every argument of the optimizer, defaults filled in, beta1/beta2 as PyTorch's `betas` pair."""
        merged = self.optimizer_settings()
        kwargs: dict[str, Any] = {}
        for key, value in merged.items():
            if key == "beta1":
                kwargs["betas"] = (float(value), float(merged["beta2"]))
            elif key not in ("beta2", "decay"):  # decay is applied by the trainer's schedule
                kwargs[key] = value
        return kwargs

    def override(self, **changes: Any) -> TrainConfig:
        """A copy with the given (non-None) settings replaced; `lr` goes into the optimizer's arguments."""
        changes = {k: v for k, v in changes.items() if v is not None}
        lr = changes.pop("lr", None)
        if "optimizer" in changes and changes["optimizer"] != self.optimizer:
            changes.setdefault("optimizer_args", {})
        config = replace(self, **changes)
        if lr is not None:
            config = replace(config, optimizer_args={**config.optimizer_args, "lr": float(lr)})
        return config
