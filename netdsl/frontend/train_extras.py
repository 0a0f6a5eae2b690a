"""The train section's v1 settings: schedule, warmup, augment, early_stop, classes (LANGUAGE.md section 9).

Parsed from the AST and checked against their declarations (netdsl/train/declarations.py; no numpy:
`netdsl check` stays light); the trainer reads the resulting specs (netdsl/train/config.py) in
netdsl/train/schedules.py, augment.py and early_stop.py. The generated train script imports
`Transform` from here, so it stays importable from this module.
"""

from __future__ import annotations

from typing import Any

from netdsl.diagnostics import CompileError, Span, did_you_mean
from netdsl.frontend import ast
from netdsl.train.config import EarlyStop, Schedule, Transform
from netdsl.train.declarations import (
    AUGMENTATION_ALIASES,
    AUGMENTATIONS,
    EARLY_STOP_ARGS,
    EARLY_STOP_DEFAULTS,
    MONITOR_ALIASES,
    RECORDED,
    SCHEDULES,
    ScheduleDef,
)

EXTRA_SETTINGS = ("schedule", "warmup", "augment", "early_stop", "classes")
TEST_SPLIT_DATA = ("mnist", "fashion_mnist", "cifar10")


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


def _bind(
    name: str, schema: dict[str, tuple[str, Any]], args, kwargs, span: Span, aliases: dict[str, str]
) -> dict[str, tuple[Any, Span]]:
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
        raise CompileError(
            f"unknown schedule '{name}'",
            setting.value.span,
            did_you_mean(key, list(SCHEDULES)) or f"choose from {', '.join(SCHEDULES)}",
        )
    declaration = SCHEDULES[key]
    schema = {arg.name: (arg.kind, arg.default) for arg in declaration.args}
    bound = _bind(key, schema, args, kwargs, setting.value.span, declaration.arg_aliases)
    return Schedule(key, tuple(_schedule_values(declaration, bound, setting.value.span).items()))


def _schedule_values(declaration: ScheduleDef, bound: dict[str, tuple[Any, Span]], span: Span) -> dict[str, Any]:
    """Each argument given, checked against its declaration, and each default; a required one missing is an error."""
    values: dict[str, Any] = {}
    for arg in declaration.args:
        if arg.name not in bound:
            if arg.default is None and not arg.defaults_to_lr:
                raise CompileError(f"{declaration.name} needs {arg.name} ({arg.example})", span)
            if arg.default is not None:
                values[arg.name] = arg.default
            continue
        value, value_span = bound[arg.name]
        number = _typed(value, arg.kind, declaration.name, arg.name, value_span)
        if number not in arg.range:
            raise CompileError(f"{declaration.name}: {arg.name} {arg.problem}, received {number}", value_span, arg.hint)
        values[arg.name] = number
    return values


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
    name = AUGMENTATION_ALIASES.get(alias, alias)
    if name not in AUGMENTATIONS:
        known = [*AUGMENTATIONS, *AUGMENTATION_ALIASES]
        raise CompileError(
            f"unknown augmentation '{written}'",
            expr.span,
            did_you_mean(alias, known) or f"choose from {', '.join(AUGMENTATIONS)}",
        )
    declaration = AUGMENTATIONS[name]
    if kwargs:
        raise CompileError(f"{written} takes its argument by position, e.g. {written}(...)", kwargs[0].span)
    if declaration.arg is None:
        if args:
            raise CompileError(f"{written} takes no arguments ({declaration.doc})", args[0].span)
        return Transform(name)
    if len(args) != 1:
        raise CompileError(f"{written} takes one argument, e.g. {declaration.example}", expr.span)
    value, span = _literal(args[0]), args[0].span
    if declaration.kind == "amount":  # shift: the Keras spellings set one axis each
        amount = _shift_amount(written, value, span)
        dy = 0 if alias == "width_shift_range" else amount
        dx = 0 if alias == "height_shift_range" else amount
        return Transform(name, (dy, dx))
    number = _typed(value, declaration.kind, written, declaration.arg, span)
    if number not in declaration.range:
        raise CompileError(f"{written}: {declaration.problem}, received {value!r}", span)
    return Transform(name, (number,))


def _shift_amount(written: str, value: Any, span: Span) -> int | float:
    """A fraction of the size (0 < s < 1) or whole pixels (an integer >= 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise CompileError(f"{written}: the shift must be a positive number, received {value!r}", span)
    if value < 1:
        return float(value)
    if isinstance(value, float) and not value.is_integer():
        raise CompileError(
            f"{written}({value:g}): a fraction of the image must be below 1.0",
            span,
            f"write {written}({value / 10:g}) for a share of the size, or {written}({round(value)}) for pixels",
        )
    return int(value)


def parse_early_stop(setting: ast.Setting) -> EarlyStop:
    """`early_stop = val_loss(patience=5, min_delta=0)` (or val_accuracy, loss, accuracy)."""
    written, args, kwargs = _name_and_args(setting.value, "early_stop", "val_loss(patience=5, min_delta=0)")
    monitor = MONITOR_ALIASES.get(written.lower(), written.lower())
    if monitor not in RECORDED:
        raise CompileError(
            f"early_stop: '{written}' is not a recorded metric",
            setting.value.span,
            did_you_mean(monitor, list(RECORDED[:4]))
            or did_you_mean(monitor, list(RECORDED))
            or f"history.csv records {', '.join(RECORDED)}",
        )
    schema = {arg.name: (arg.kind, arg.default) for arg in EARLY_STOP_ARGS}
    bound = _bind(monitor, schema, args, kwargs, setting.value.span, {})
    values = {key: _typed(value, schema[key][0], monitor, key, span) for key, (value, span) in bound.items()}
    patience = int(values.get("patience", EARLY_STOP_DEFAULTS["patience"]))
    min_delta = float(values.get("min_delta", EARLY_STOP_DEFAULTS["min_delta"]))
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
        names = tuple(item.value for item in expr.items if isinstance(item, ast.Str))  # every item is one
        if len(set(names)) != len(names):
            raise CompileError("classes: a name appears twice", expr.span)
        return names
    raise CompileError('classes must be a quoted file name such as "classes.txt" or a tuple of quoted names', expr.span)


def parse_extra(setting: ast.Setting) -> Any:
    """The value of one of EXTRA_SETTINGS."""
    return {
        "schedule": parse_schedule,
        "warmup": parse_warmup,
        "augment": parse_augment,
        "early_stop": parse_early_stop,
        "classes": parse_classes,
    }[setting.key](setting)


def check_together(config: dict[str, Any], seen: dict[str, ast.Setting]) -> list[CompileError]:
    """Settings that contradict each other within one section."""
    errors = []
    stop = config.get("early_stop")
    has_test_split = config.get("data", "digits") in TEST_SPLIT_DATA  # their test split validates
    if (
        stop is not None
        and stop.monitor.startswith("val_")
        and config.get("val_split", 0.1) == 0
        and not has_test_split
    ):
        errors.append(
            CompileError(
                f"early_stop monitors {stop.monitor}, but val_split = 0 records no validation",
                seen["early_stop"].value.span,
                "monitor loss, or keep a validation split",
            )
        )
    metrics = config.get("metrics", ("mae",) if config.get("target") == "values" else ("accuracy",))
    if stop is not None and stop.monitor.removeprefix("val_") not in ("loss", *metrics):
        recorded = metrics[0] if metrics else "none"
        errors.append(
            CompileError(
                f"early_stop monitors {stop.monitor}, which metrics = {recorded} does not record",
                seen["early_stop"].value.span,
                "monitor val_loss, or record that metric",
            )
        )
    warmup = config.get("warmup", 0)
    schedule = config.get("schedule")
    if warmup and schedule is not None and schedule.name == "onecycle":
        errors.append(CompileError("onecycle has its own warm-up phase; drop warmup", seen["warmup"].value.span))
    epochs = config.get("epochs", 10)
    if warmup and warmup >= epochs:
        errors.append(
            CompileError(f"warmup ({warmup} epochs) must be shorter than epochs ({epochs})", seen["warmup"].value.span)
        )
    return errors
