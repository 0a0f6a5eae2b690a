"""The train section's v1 settings: schedule, warmup, augment, early_stop, classes (LANGUAGE.md section 9).

Parsed from the AST and checked here (no numpy: `netdsl check` stays light); the trainer reads the
resulting specs (netdsl/train/schedules.py, netdsl/train/augment.py, netdsl/train/early_stop.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netdsl.diagnostics import CompileError, Span, did_you_mean
from netdsl.frontend import ast

EXTRA_SETTINGS = ("schedule", "warmup", "augment", "early_stop", "classes")


@dataclass(frozen=True)
class Schedule:
    """`schedule = step(every=10, gamma=0.1)`: a name and its arguments, defaults filled in."""

    name: str
    args: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str) -> Any:
        """An argument's value, else its default (None for a required one)."""
        return dict(self.args).get(key, SCHEDULES[self.name].get(key, ("", None))[1])


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
    patience: int = 5
    min_delta: float = 0.0

    @property
    def mode(self) -> str:
        """'max' for an accuracy, 'min' for a loss or an error (mae, rmse)."""
        return "max" if self.monitor.endswith("accuracy") else "min"


# name -> {argument: (kind, default)}; a default of None means the argument is required, except
# onecycle's max_lr, which defaults to the optimizer's lr.
SCHEDULES: dict[str, dict[str, tuple[str, Any]]] = {
    "step": {"every": ("int", None), "gamma": ("float", 0.1)},
    "exponential": {"gamma": ("float", None)},
    "cosine": {},
    "onecycle": {"max_lr": ("float", None), "pct_start": ("float", 0.3), "div_factor": ("float", 25.0),
                 "final_div_factor": ("float", 1e4)},
}
SCHEDULE_ARG_ALIASES = {"step_size": "every"}  # PyTorch's StepLR
OPTIONAL_ARGS = {("onecycle", "max_lr")}

TRANSFORMS = ("flip", "shift", "crop", "rotate", "cutout")
# Keras' ImageDataGenerator spellings -> (transform, which shift axes it sets)
TRANSFORM_ALIASES = {"horizontal_flip": "flip", "rotation_range": "rotate", "width_shift_range": "shift",
                     "height_shift_range": "shift", "random_crop": "crop"}

TEST_SPLIT_DATA = ("mnist", "fashion_mnist", "cifar10")
# a classifier's first: a near miss such as val_auc is taken for val_accuracy before val_mae
RECORDED = ("val_loss", "val_accuracy", "loss", "accuracy", "val_mae", "mae", "val_rmse", "rmse")
MONITOR_ALIASES = {"val_acc": "val_accuracy", "acc": "accuracy"}


def _name_and_args(expr: ast.Expr, what: str, example: str) -> tuple[str, tuple[ast.Expr, ...], tuple[ast.Kwarg, ...]]:
    if isinstance(expr, ast.Name):
        return expr.id, (), ()
    if isinstance(expr, ast.Call):
        return expr.name, expr.args, expr.kwargs
    raise CompileError(f"{what} must be a name or a call such as {example}", expr.span)


def _literal(expr: ast.Expr) -> Any:
    """A number (also negative) or string argument; anything else is returned as its AST node's kind."""
    if isinstance(expr, ast.Num):
        return expr.value
    if isinstance(expr, ast.Neg) and isinstance(expr.operand, ast.Num):
        return -expr.operand.value
    if isinstance(expr, ast.Str):
        return expr.value
    if isinstance(expr, ast.Name):
        return {"true": True, "false": False}.get(expr.id.lower(), expr.id)
    raise CompileError("expected a number here", expr.span)


def _typed(value: Any, kind: str, owner: str, key: str, span: Span) -> int | float:
    """Check one argument's type: `int` is a whole number, `float` any number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CompileError(f"{owner}: {key} must be a number, received {value!r}", span)
    if kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise CompileError(f"{owner}: {key} must be a whole number, received {value!r}", span)
        return int(value)
    return float(value)


def _bind(name: str, schema: dict[str, tuple[str, Any]], args, kwargs, span: Span,
          aliases: dict[str, str]) -> dict[str, tuple[Any, Span]]:
    """Positional and keyword arguments matched to a schema: key -> (value, span)."""
    keys = list(schema)
    if len(args) > len(keys):
        extra = args[len(keys)]
        takes = f"takes {', '.join(keys)}" if keys else "takes no arguments"
        raise CompileError(f"{name} {takes}", extra.span)
    bound = {key: (_literal(arg), arg.span) for key, arg in zip(keys, args)}
    for kw in kwargs:
        key = aliases.get(kw.name, kw.name)
        if key not in schema:
            hint = did_you_mean(kw.name, keys) or (f"{name} takes {', '.join(keys)}" if keys else None)
            raise CompileError(f"{name} has no argument '{kw.name}'", kw.span, hint)
        if key in bound:
            raise CompileError(f"{name}: {key} is given twice", kw.span)
        bound[key] = (_literal(kw.value), kw.value.span)
    return bound


def parse_schedule(setting: ast.Setting) -> Schedule:
    """`schedule = cosine | step(every=10, gamma=0.1) | exponential(gamma=0.95) | onecycle(max_lr=0.1)`."""
    name, args, kwargs = _name_and_args(setting.value, "schedule", "step(every=10, gamma=0.1)")
    key = name.lower()
    if key not in SCHEDULES:
        raise CompileError(f"unknown schedule '{name}'", setting.value.span,
                           did_you_mean(key, list(SCHEDULES)) or f"choose from {', '.join(SCHEDULES)}")
    schema = SCHEDULES[key]
    bound = _bind(key, schema, args, kwargs, setting.value.span, SCHEDULE_ARG_ALIASES)
    values: dict[str, Any] = {}
    for arg, (kind, default) in schema.items():
        if arg not in bound:
            if default is None and (key, arg) not in OPTIONAL_ARGS:
                example = {"every": "every=10", "gamma": "gamma=0.95"}.get(arg, f"{arg}=...")
                raise CompileError(f"{key} needs {arg} ({example})", setting.value.span)
            if default is not None:
                values[arg] = default
            continue
        value, span = bound[arg]
        number = _typed(value, kind, key, arg, span)
        _check_schedule_range(key, arg, number, span)
        values[arg] = number
    return Schedule(key, tuple(values.items()))


def _check_schedule_range(name: str, arg: str, value: float, span: Span) -> None:
    if arg == "every" and value < 1:
        raise CompileError(f"{name}: every must be at least 1 epoch, received {value}", span)
    if arg == "gamma" and not 0 < value <= 1:
        raise CompileError(f"{name}: gamma must be in (0, 1], received {value}", span,
                           "gamma multiplies the learning rate; below 1 it decays")
    if arg == "pct_start" and not 0 < value < 1:
        raise CompileError(f"{name}: pct_start must be between 0 and 1, received {value}", span)
    if arg in ("max_lr", "div_factor", "final_div_factor") and value <= 0:
        raise CompileError(f"{name}: {arg} must be positive, received {value}", span)


def parse_warmup(setting: ast.Setting) -> int:
    """`warmup = 2`: whole epochs of linear warm-up."""
    value = _literal(setting.value) if isinstance(setting.value, (ast.Num, ast.Neg, ast.Name)) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CompileError(f"warmup must be a whole number of epochs >= 0, received {value!r}", setting.value.span)
    return value


def parse_augment(setting: ast.Setting) -> tuple[Transform, ...]:
    """`augment = (flip, shift(0.1), crop(4), rotate(15), cutout(8))`, or a single transform."""
    expr = setting.value
    items = expr.items if isinstance(expr, ast.TupleExpr) else (expr,)
    return tuple(_transform(item) for item in items)


def _transform(expr: ast.Expr) -> Transform:
    written, args, kwargs = _name_and_args(expr, "each augmentation", "flip or shift(0.1)")
    alias = written.lower()
    name = TRANSFORM_ALIASES.get(alias, alias)
    if name not in TRANSFORMS:
        known = [*TRANSFORMS, *TRANSFORM_ALIASES]
        raise CompileError(f"unknown augmentation '{written}'", expr.span,
                           did_you_mean(alias, known) or f"choose from {', '.join(TRANSFORMS)}")
    if kwargs:
        raise CompileError(f"{written} takes its argument by position, e.g. {written}(...)", kwargs[0].span)
    if name == "flip":
        if args:
            raise CompileError(f"{written} takes no arguments (it flips half the samples)", args[0].span)
        return Transform("flip")
    if len(args) != 1:
        example = {"shift": "shift(0.1)", "crop": "crop(4)", "rotate": "rotate(15)", "cutout": "cutout(8)"}[name]
        raise CompileError(f"{written} takes one argument, e.g. {example}", expr.span)
    value, span = _literal(args[0]), args[0].span
    if name == "shift":
        amount = _shift_amount(written, value, span)
        dy = 0 if alias == "width_shift_range" else amount
        dx = 0 if alias == "height_shift_range" else amount
        return Transform("shift", (dy, dx))
    if name == "rotate":
        degrees = _typed(value, "float", written, "degrees", span)
        if not 0 < degrees <= 180:
            raise CompileError(f"{written}: degrees must be in (0, 180], received {value!r}", span)
        return Transform("rotate", (degrees,))
    size = _typed(value, "int", written, "size" if name == "cutout" else "padding", span)
    if size < 1:
        raise CompileError(f"{written}: needs at least 1 pixel, received {value!r}", span)
    return Transform(name, (size,))


def _shift_amount(written: str, value: Any, span: Span) -> int | float:
    """A fraction of the size (0 < s < 1) or whole pixels (an integer >= 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise CompileError(f"{written}: the shift must be a positive number, received {value!r}", span)
    if value < 1:
        return float(value)
    if isinstance(value, float) and not value.is_integer():
        raise CompileError(f"{written}({value:g}): a fraction of the image must be below 1.0", span,
                           f"write {written}({value / 10:g}) for a share of the size, or "
                           f"{written}({round(value)}) for pixels")
    return int(value)


def parse_early_stop(setting: ast.Setting) -> EarlyStop:
    """`early_stop = val_loss(patience=5, min_delta=0)` (or val_accuracy, loss, accuracy)."""
    written, args, kwargs = _name_and_args(setting.value, "early_stop", "val_loss(patience=5, min_delta=0)")
    monitor = MONITOR_ALIASES.get(written.lower(), written.lower())
    if monitor not in RECORDED:
        raise CompileError(f"early_stop: '{written}' is not a recorded metric", setting.value.span,
                           did_you_mean(monitor, list(RECORDED[:4])) or did_you_mean(monitor, list(RECORDED))
                           or f"history.csv records {', '.join(RECORDED)}")
    schema = {"patience": ("int", 5), "min_delta": ("float", 0.0)}
    bound = _bind(monitor, schema, args, kwargs, setting.value.span, {})
    patience = _typed(bound["patience"][0], "int", monitor, "patience", bound["patience"][1]) \
        if "patience" in bound else 5
    min_delta = _typed(bound["min_delta"][0], "float", monitor, "min_delta", bound["min_delta"][1]) \
        if "min_delta" in bound else 0.0
    if patience < 0 or min_delta < 0:
        span = bound["patience" if patience < 0 else "min_delta"][1]
        raise CompileError(f"{monitor}: patience and min_delta must be >= 0", span)
    return EarlyStop(monitor, patience, min_delta)


def parse_classes(setting: ast.Setting) -> str | tuple[str, ...]:
    """`classes = "classes.txt"` (one name per line, relative to the .net file) or `("cat", "dog")`."""
    expr = setting.value
    if isinstance(expr, ast.Str):
        if not expr.value.strip():
            raise CompileError("classes: the file name is empty", expr.span)
        return expr.value
    if isinstance(expr, ast.TupleExpr) and all(isinstance(item, ast.Str) for item in expr.items):
        names = tuple(item.value for item in expr.items)
        if len(set(names)) != len(names):
            raise CompileError("classes: a name appears twice", expr.span)
        return names
    raise CompileError('classes must be a quoted file name such as "classes.txt" or a tuple of quoted names',
                       expr.span)


def parse_extra(setting: ast.Setting) -> Any:
    """The value of one of EXTRA_SETTINGS."""
    return {"schedule": parse_schedule, "warmup": parse_warmup, "augment": parse_augment,
            "early_stop": parse_early_stop, "classes": parse_classes}[setting.key](setting)


def check_together(config: dict[str, Any], seen: dict[str, ast.Setting]) -> list[CompileError]:
    """Settings that contradict each other within one section."""
    errors = []
    stop = config.get("early_stop")
    has_test_split = config.get("data", "digits") in TEST_SPLIT_DATA  # their test split validates
    if stop is not None and stop.monitor.startswith("val_") and config.get("val_split", 0.1) == 0 \
            and not has_test_split:
        errors.append(CompileError(f"early_stop monitors {stop.monitor}, but val_split = 0 records no validation",
                                   seen["early_stop"].value.span, "monitor loss, or keep a validation split"))
    metrics = config.get("metrics", ("mae",) if config.get("target") == "values" else ("accuracy",))
    if stop is not None and stop.monitor.removeprefix("val_") not in ("loss", *metrics):
        recorded = metrics[0] if metrics else "none"
        errors.append(CompileError(f"early_stop monitors {stop.monitor}, which metrics = {recorded} does not record",
                                   seen["early_stop"].value.span, "monitor val_loss, or record that metric"))
    warmup = config.get("warmup", 0)
    schedule = config.get("schedule")
    if warmup and schedule is not None and schedule.name == "onecycle":
        errors.append(CompileError("onecycle has its own warm-up phase; drop warmup", seen["warmup"].value.span))
    epochs = config.get("epochs", 10)
    if warmup and warmup >= epochs:
        errors.append(CompileError(f"warmup ({warmup} epochs) must be shorter than epochs ({epochs})",
                                   seen["warmup"].value.span))
    return errors

