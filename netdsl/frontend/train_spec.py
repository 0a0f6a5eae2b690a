"""The `train { ... }` section: parsed, validated, defaults filled in (LANGUAGE.md section 6)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from netdsl.diagnostics import CompileError, DiagnosticSink, Span, did_you_mean
from netdsl.frontend import ast
from netdsl.frontend.expand import evaluate
from netdsl.frontend.train_extras import EXTRA_SETTINGS, EarlyStop, Schedule, Transform, check_together, parse_extra
from netdsl.train.settings import FUSED_HEADS  # noqa: F401 (stated there, for the backends too)

BUILTIN_DATA = ("digits", "mnist", "fashion_mnist", "cifar10", "waves", "spectrograms", "sentences")
LOSSES = ("cross_entropy", "mse", "binary_cross_entropy", "mae", "huber")
CLASS_LOSSES = ("cross_entropy", "binary_cross_entropy")  # need class labels: not for target = values
METRICS = ("accuracy", "mae", "rmse", "none")  # none: the loss alone
TARGETS = ("labels", "input", "values")  # input: reproduce the input (an autoencoder); values: regression
LOGS = ("none", "tensorboard")  # `log = tensorboard`: event files in the run directory

# Each optimizer's hyper-parameters and defaults (PyTorch's, as the NumPy backend implements them).
OPTIMIZERS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0},
    "rmsprop": {"lr": 0.001, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "weight_decay": 0.0},
    "adagrad": {"lr": 0.01, "eps": 1e-10, "weight_decay": 0.0},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    "adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    "adamw": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
    "adamax": {"lr": 0.002, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    "nadam": {"lr": 0.002, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
}

# Keras and PyTorch spellings accepted for the same thing (documented in docs/training.md).
LOSS_ALIASES = {
    "categorical_crossentropy": "cross_entropy", "sparse_categorical_crossentropy": "cross_entropy",
    "crossentropy": "cross_entropy", "crossentropyloss": "cross_entropy", "categorical_cross_entropy": "cross_entropy",
    "binary_crossentropy": "binary_cross_entropy", "bce": "binary_cross_entropy", "bceloss": "binary_cross_entropy",
    "mean_squared_error": "mse", "mseloss": "mse",
    "l1": "mae", "l1loss": "mae", "mean_absolute_error": "mae", "huberloss": "huber", "huber_loss": "huber",
}
OPTIMIZER_ARG_ALIASES = {"learning_rate": "lr", "beta_1": "beta1", "beta_2": "beta2", "epsilon": "eps"}
RMSPROP_RHO = "rho"  # Keras' RMSprop(rho=) is PyTorch's alpha


def canonical_loss(name: str) -> str:
    """The loss a Keras or PyTorch spelling names (`categorical_crossentropy` -> cross_entropy), else name."""
    key = name.lower()
    return LOSS_ALIASES.get(key, key)


def canonical_optimizer_arg(optimizer: str, key: str) -> str:
    """An optimizer argument under netdsl's (PyTorch's) name: learning_rate -> lr, epsilon -> eps, ..."""
    if optimizer == "rmsprop" and key == RMSPROP_RHO:
        return "alpha"
    return OPTIMIZER_ARG_ALIASES.get(key, key)


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
        return float(self.optimizer_args.get("lr", OPTIMIZERS[self.optimizer]["lr"]))

    @property
    def decay(self) -> float:
        """Keras' `decay`: the lr is divided by (1 + decay * iterations)."""
        return float(self.optimizer_args.get("decay", 0.0))

    def optimizer_kwargs(self) -> dict[str, Any]:
        """Every argument of the optimizer, defaults filled in, beta1/beta2 as PyTorch's `betas` pair."""
        merged = {**OPTIMIZERS[self.optimizer], **self.optimizer_args}
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


def _number(value: Any, key: str, setting: ast.Setting, *, integer: bool, minimum: float) -> Any:
    ok = not isinstance(value, bool) and isinstance(value, int if integer else (int, float))
    if not ok or value < minimum:
        kind = "an integer" if integer else "a number"
        raise CompileError(f"{key} must be {kind} >= {minimum}, received {value!r}", setting.value.span)
    return value


def _flag(value: Any, key: str, setting: ast.Setting) -> bool:
    if isinstance(value, bool):
        return value
    raise CompileError(f"{key} must be true or false, received {value!r}", setting.value.span)


def _choice(value: Any, key: str, options: tuple[str, ...], setting: ast.Setting) -> str:
    if isinstance(value, str) and value.lower() in options:
        return value.lower()
    hint = did_you_mean(str(value), list(options)) if isinstance(value, str) else None
    raise CompileError(f"{key} must be one of {', '.join(options)}, received {value!r}", setting.value.span, hint)


def _optimizer(setting: ast.Setting) -> tuple[str, dict[str, Any]]:
    expr = setting.value
    if isinstance(expr, ast.Name):
        name, args, kwargs = expr.id.lower(), (), ()
    elif isinstance(expr, ast.Call):
        name, args, kwargs = expr.name.lower(), expr.args, expr.kwargs
    else:
        raise CompileError("optimizer must be a name such as adam or a call such as adam(lr=0.001)", expr.span)
    if name not in OPTIMIZERS:
        raise CompileError(f"unknown optimizer '{name}'", expr.span,
                           did_you_mean(name, list(OPTIMIZERS)) or f"choose from {', '.join(OPTIMIZERS)}")
    schema = optimizer_schema(name)
    if len(args) > 1:
        raise CompileError(f"{name} takes the learning rate as its only positional argument", args[1].span)
    values: dict[str, Any] = {}
    spans = {}
    if args:
        values["lr"], spans["lr"] = evaluate(args[0], {}), args[0].span
    for kw in kwargs:
        if kw.name == "betas" and "beta1" in schema:  # PyTorch's betas=(0.9, 0.999)
            betas = _betas(name, kw)
            values.update(betas)
            spans.update(dict.fromkeys(betas, kw.span))
            continue
        key = canonical_optimizer_arg(name, kw.name)
        if key not in schema:
            hint = did_you_mean(kw.name, list(schema))
            raise CompileError(f"{name} has no argument '{kw.name}'", kw.span,
                               hint or f"{name} takes {', '.join(schema)}")
        if key in values:
            raise CompileError(f"{name} got '{key}' twice (as '{kw.name}' too)", kw.span)
        values[key], spans[key] = evaluate(kw.value, {}), kw.value.span
    for key, problem in optimizer_problems(name, values):
        raise CompileError(f"{name}: {problem}", spans.get(key, expr.span))
    return name, values


def optimizer_schema(name: str) -> dict[str, Any]:
    """The arguments optimizer `name` takes, with their defaults: its own and Keras' lr `decay`."""
    return {**OPTIMIZERS[name], "decay": 0.0}


def _betas(name: str, kw: ast.Kwarg) -> dict[str, Any]:
    """PyTorch's betas=(b1, b2) as beta1 and beta2."""
    value = evaluate(kw.value, {})
    if not isinstance(value, tuple) or len(value) != 2:
        raise CompileError(f"{name}: betas takes two numbers, e.g. betas=(0.9, 0.999), received {value!r}", kw.span)
    return {"beta1": value[0], "beta2": value[1]}


# The range of each numeric optimizer argument (the rest must be finite and >= 0): beyond it an update
# divides by zero (eps = 0, beta = 1) or grows without bound.
_ARGUMENT_RANGES: dict[str, tuple[str, Callable[[float], bool]]] = {
    "lr": ("> 0", lambda v: v > 0),
    "eps": ("> 0", lambda v: v > 0),
    "beta1": ("in [0, 1)", lambda v: 0 <= v < 1),
    "beta2": ("in [0, 1)", lambda v: 0 <= v < 1),
    "alpha": ("in [0, 1]", lambda v: 0 <= v <= 1),
    "rho": ("in [0, 1]", lambda v: 0 <= v <= 1),
}


def optimizer_problems(name: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(argument, what is wrong) for each argument of optimizer `name` that it cannot run with."""
    schema = optimizer_schema(name)
    problems = []
    for key, value in values.items():
        if key not in schema:
            problems.append((key, f"has no argument '{key}'"))
        elif isinstance(schema[key], bool):
            if not isinstance(value, bool):
                problems.append((key, f"{key} must be true or false, received {value!r}"))
        else:
            wanted, valid = _ARGUMENT_RANGES.get(key, (">= 0", lambda v: v >= 0))
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not valid(value):
                problems.append((key, f"{key} must be a finite number {wanted}, received {value!r}"))
    merged = {**schema, **values}
    if merged.get("nesterov") is True and not (isinstance(merged["momentum"], (int, float)) and merged["momentum"] > 0):
        problems.append(("nesterov", "nesterov=true needs momentum > 0"))
    return problems


def _data(value: Any, setting: ast.Setting) -> str:
    if isinstance(setting.value, ast.Str):
        path = value
        if not path.lower().endswith((".npz", ".csv")):
            raise CompileError(f'data file "{path}" must end in .npz or .csv', setting.value.span)
        return path
    if isinstance(value, str) and value.lower() in BUILTIN_DATA:
        return value.lower()
    hint = did_you_mean(str(value), list(BUILTIN_DATA))
    raise CompileError(f"unknown data set {value!r}", setting.value.span,
                       hint or f'use one of {", ".join(BUILTIN_DATA)} or a quoted path "file.npz"')


def setting_names() -> list[str]:
    """The keys a train section may set, in TrainConfig's order."""
    return [name for name in TrainConfig.__dataclass_fields__ if name not in ("optimizer_args", "target_span")]


def train_config(section: ast.Train, sink: DiagnosticSink) -> TrainConfig:
    """Validate one train section; every bad setting is reported, the rest keep their values."""
    config: dict[str, Any] = {}
    seen: dict[str, ast.Setting] = {}
    for setting in section.settings:
        key = setting.key
        try:
            if key in seen:
                raise CompileError(f"'{key}' is set twice in this train section", setting.key_span)
            seen[key] = setting
            # an unknown key's value is not read: `optimiser = adam(...)` is a misspelt name, not a bad value
            literal = key in setting_names() and key not in ("optimizer", *EXTRA_SETTINGS)
            value = evaluate(setting.value, {}) if literal else None
            if key in EXTRA_SETTINGS:
                config[key] = parse_extra(setting)
            elif key == "data":
                config["data"] = _data(value, setting)
            elif key == "loss":
                value = canonical_loss(value) if isinstance(value, str) else value
                config["loss"] = _choice(value, key, LOSSES, setting)
            elif key == "optimizer":
                config["optimizer"], config["optimizer_args"] = _optimizer(setting)
            elif key in ("epochs", "batch", "seed"):
                config[key] = _number(value, key, setting, integer=True, minimum=0 if key == "seed" else 1)
            elif key == "metrics":
                config["metrics"] = _metrics(value, setting)
            elif key == "target":
                config["target"], config["target_span"] = _choice(value, key, TARGETS, setting), setting.span
            elif key == "diagnostics":
                config["diagnostics"] = _flag(value, key, setting)
            elif key == "log":
                config["log"] = _choice(value, key, LOGS, setting)
            elif key == "val_split":
                share = _number(value, key, setting, integer=False, minimum=0)
                if share >= 1:
                    raise CompileError(f"val_split must be below 1, received {share}", setting.value.span)
                config["val_split"] = float(share)
            else:
                known = setting_names()
                raise CompileError(f"unknown train setting '{key}'", setting.key_span,
                                   did_you_mean(key, known) or f"settings are {', '.join(known)}")
        except CompileError as err:
            sink.add(err.diagnostic)
    for err in check_together(config, seen):
        sink.add(err.diagnostic)
    if config.get("target") in ("input", "values") and "loss" not in config:
        config["loss"] = "mse"  # reproducing an image is regression
    if config.get("target") == "values":
        config.setdefault("metrics", ("mae",))
        if config.get("loss") in CLASS_LOSSES:
            sink.error(f"loss {config['loss']} needs class labels, but target = values trains on real numbers",
                       seen["loss"].value.span, "use loss = mse, mae or huber, or train on labels (target = labels)")
    return TrainConfig(**config)


def regression_defaults(config: TrainConfig) -> TrainConfig:
    """The settings of `target = values` for data found to hold real-valued labels: a class loss becomes mse and
    accuracy becomes mae (the losses and metrics for classes mean nothing there)."""
    loss = "mse" if config.loss in CLASS_LOSSES else config.loss
    metrics = ("mae",) if config.metrics == ("accuracy",) else config.metrics
    return replace(config, target="values", loss=loss, metrics=metrics)


def _metrics(value: Any, setting: ast.Setting) -> tuple[str, ...]:
    """`metrics = mae` (or a one-item tuple): the one metric recorded; `none` records the loss alone."""
    items = value if isinstance(value, tuple) else (value,)
    chosen = tuple(dict.fromkeys(_choice(v, "metrics", METRICS, setting) for v in items))
    if len(chosen) != 1:
        raise CompileError(f"metrics names one of {', '.join(METRICS)}, received {len(chosen)}", setting.value.span,
                           "choose the one recorded beside the loss")
    return () if chosen == ("none",) else chosen


def check_target(config: TrainConfig, input_shape: tuple, output_shape: tuple, sink: DiagnosticSink) -> None:
    """`target = input` needs a network whose output has its input's shape."""
    if config.target == "input" and tuple(output_shape) != tuple(input_shape) and config.target_span:
        given, wanted = "x".join(map(str, output_shape)), "x".join(map(str, input_shape))
        sink.error(f"target = input trains the network to reproduce its input, but it gives {given} for an input "
                   f"of {wanted}", config.target_span,
                   f"end the network with a layer that gives {wanted}, or train on labels (target = labels)")
