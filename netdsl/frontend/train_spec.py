"""The `train { ... }` section: parsed, validated, defaults filled in (LANGUAGE.md section 6)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from netdsl.diagnostics import CompileError, DiagnosticSink, did_you_mean
from netdsl.frontend import ast
from netdsl.frontend.expand import evaluate
from netdsl.frontend.train_extras import EXTRA_SETTINGS, check_together, parse_extra
from netdsl.train.config import TrainConfig
from netdsl.train.declarations import CLASS_LOSSES, DECAY, LOGS, LOSSES, METRICS, OPTIMIZERS, TARGETS, canonical_loss
from netdsl.train.settings import FUSED_HEADS  # noqa: F401 (stated there, for the backends too)

BUILTIN_DATA = ("digits", "mnist", "fashion_mnist", "cifar10", "waves", "spectrograms", "sentences")


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
    args: tuple[ast.Expr, ...] = ()
    kwargs: tuple[ast.Kwarg, ...] = ()
    if isinstance(expr, ast.Name):
        name = expr.id.lower()
    elif isinstance(expr, ast.Call):
        name, args, kwargs = expr.name.lower(), expr.args, expr.kwargs
    else:
        raise CompileError("optimizer must be a name such as adam or a call such as adam(lr=0.001)", expr.span)
    if name not in OPTIMIZERS:
        raise CompileError(
            f"unknown optimizer '{name}'",
            expr.span,
            did_you_mean(name, list(OPTIMIZERS)) or f"choose from {', '.join(OPTIMIZERS)}",
        )
    declaration = OPTIMIZERS[name]
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
        key = declaration.canonical_arg(kw.name)
        if key not in schema:
            hint = did_you_mean(kw.name, list(schema))
            raise CompileError(
                f"{name} has no argument '{kw.name}'", kw.span, hint or f"{name} takes {', '.join(schema)}"
            )
        if key in values:
            raise CompileError(f"{name} got '{key}' twice (as '{kw.name}' too)", kw.span)
        values[key], spans[key] = evaluate(kw.value, {}), kw.value.span
    for key, problem in declaration.problems(values):
        raise CompileError(f"{name}: {problem}", spans.get(key, expr.span))
    return name, values


def optimizer_schema(name: str) -> dict[str, Any]:
    """The arguments optimizer `name` takes, with their defaults: its own and Keras' lr `decay`."""
    return {**OPTIMIZERS[name].defaults(), DECAY.name: DECAY.default}


def _betas(name: str, kw: ast.Kwarg) -> dict[str, Any]:
    """PyTorch's betas=(b1, b2) as beta1 and beta2."""
    value = evaluate(kw.value, {})
    if not isinstance(value, tuple) or len(value) != 2:
        raise CompileError(f"{name}: betas takes two numbers, e.g. betas=(0.9, 0.999), received {value!r}", kw.span)
    return {"beta1": value[0], "beta2": value[1]}


def _data(value: Any, setting: ast.Setting) -> str:
    if isinstance(setting.value, ast.Str):
        path = value
        if not path.lower().endswith((".npz", ".csv")):
            raise CompileError(f'data file "{path}" must end in .npz or .csv', setting.value.span)
        return path
    if isinstance(value, str) and value.lower() in BUILTIN_DATA:
        return value.lower()
    hint = did_you_mean(str(value), list(BUILTIN_DATA))
    raise CompileError(
        f"unknown data set {value!r}",
        setting.value.span,
        hint or f'use one of {", ".join(BUILTIN_DATA)} or a quoted path "file.npz"',
    )


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
                raise CompileError(
                    f"unknown train setting '{key}'",
                    setting.key_span,
                    did_you_mean(key, known) or f"settings are {', '.join(known)}",
                )
        except CompileError as err:
            sink.add(err.diagnostic)
    for problem in check_together(config, seen):
        sink.add(problem.diagnostic)
    if config.get("target") in ("input", "values") and "loss" not in config:
        config["loss"] = "mse"  # reproducing an image is regression
    if config.get("target") == "values":
        config.setdefault("metrics", ("mae",))
        if config.get("loss") in CLASS_LOSSES:
            sink.error(
                f"loss {config['loss']} needs class labels, but target = values trains on real numbers",
                seen["loss"].value.span,
                "use loss = mse, mae or huber, or train on labels (target = labels)",
            )
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
        raise CompileError(
            f"metrics names one of {', '.join(METRICS)}, received {len(chosen)}",
            setting.value.span,
            "choose the one recorded beside the loss",
        )
    return () if chosen == ("none",) else chosen


def check_target(config: TrainConfig, input_shape: tuple, output_shape: tuple, sink: DiagnosticSink) -> None:
    """`target = input` needs a network whose output has its input's shape."""
    if config.target == "input" and tuple(output_shape) != tuple(input_shape) and config.target_span:
        given, wanted = "x".join(map(str, output_shape)), "x".join(map(str, input_shape))
        sink.error(
            f"target = input trains the network to reproduce its input, but it gives {given} for an input of {wanted}",
            config.target_span,
            f"end the network with a layer that gives {wanted}, or train on labels (target = labels)",
        )
