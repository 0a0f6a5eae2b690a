"""The training side's declarations, each stated once: losses, optimizers, schedules, augmentations, early stopping.

Backend-neutral and free of numpy (like netdsl/ops/): the front end validates a train section against
them, the NumPy backend registers one implementation per optimizer, schedule and augmentation
(`implements(...)`), codegen reads each one's torch name, the language server completes and hovers
from them, and the docs are tested against them. Adding an optimizer is one `OptimizerDef` here and
one implementation in netdsl/backends/numpy/optimizers.py (docs/design.md, "Adding an optimizer").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# ---- value ranges ----


@dataclass(frozen=True)
class Range:
    """An interval of numbers, written as the error messages and docs say it: `> 0`, `in [0, 1)`."""

    low: float = 0.0
    high: float = math.inf
    low_closed: bool = True
    high_closed: bool = False

    def __contains__(self, value: float) -> bool:
        above = value >= self.low if self.low_closed else value > self.low
        below = value <= self.high if self.high_closed else value < self.high
        return above and below

    def __str__(self) -> str:
        if self.high == math.inf:
            return f"{'>=' if self.low_closed else '>'} {self.low:g}"
        return f"in {'[' if self.low_closed else '('}{self.low:g}, {self.high:g}{']' if self.high_closed else ')'}"


AT_LEAST_0 = Range()
ABOVE_0 = Range(low_closed=False)
AT_LEAST_1 = Range(1)
UNIT_OPEN = Range(0, 1)  # [0, 1): a decay rate that must forget
UNIT = Range(0, 1, high_closed=True)
BETWEEN_0_AND_1 = Range(0, 1, low_closed=False)
UP_TO_1 = Range(0, 1, low_closed=False, high_closed=True)  # (0, 1]: a factor that shrinks the lr


# ---- losses ----

LOSSES = ("cross_entropy", "mse", "binary_cross_entropy", "mae", "huber")
CLASS_LOSSES = ("cross_entropy", "binary_cross_entropy")  # need class labels: not for target = values
METRICS = ("accuracy", "mae", "rmse", "none")  # none: the loss alone
TARGETS = ("labels", "input", "values")  # input: reproduce the input (an autoencoder); values: regression
LOGS = ("none", "tensorboard")  # `log = tensorboard`: event files in the run directory
# Keras and PyTorch spellings accepted for the same loss (documented in docs/language.md).
LOSS_ALIASES = {
    "categorical_crossentropy": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy",
    "crossentropy": "cross_entropy",
    "crossentropyloss": "cross_entropy",
    "categorical_cross_entropy": "cross_entropy",
    "binary_crossentropy": "binary_cross_entropy",
    "bce": "binary_cross_entropy",
    "bceloss": "binary_cross_entropy",
    "mean_squared_error": "mse",
    "mseloss": "mse",
    "l1": "mae",
    "l1loss": "mae",
    "mean_absolute_error": "mae",
    "huberloss": "huber",
    "huber_loss": "huber",
}


def canonical_loss(name: str) -> str:
    """The loss a Keras or PyTorch spelling names (`categorical_crossentropy` -> cross_entropy), else name."""
    key = name.lower()
    return LOSS_ALIASES.get(key, key)


# ---- optimizers ----


@dataclass(frozen=True)
class Hyper:
    """One hyper-parameter of an optimizer: its default (torch.optim's unless the optimizer says why not),
    the values it may take, and whether a program may set it (`internal`: only the NumPy implementation
    and torch take it, at this default)."""

    name: str
    default: float | bool
    range: Range = AT_LEAST_0
    internal: bool = False


# Keras' names for PyTorch's arguments, accepted by every optimizer that has the argument.
COMMON_ARG_ALIASES = {"learning_rate": "lr", "beta_1": "beta1", "beta_2": "beta2", "epsilon": "eps"}
# A rule over all of an optimizer's arguments at once: (argument to blame, what is wrong) or None.
Rule = Callable[[dict[str, Any]], "tuple[str, str] | None"]


@dataclass(frozen=True)
class OptimizerDef:
    """An optimizer as the language offers it and torch.optim names it."""

    name: str
    torch_class: str  # torch.optim.<torch_class>
    hypers: tuple[Hyper, ...]
    doc: str
    arg_aliases: dict[str, str] = field(default_factory=dict)  # beyond COMMON_ARG_ALIASES
    rules: tuple[Rule, ...] = ()
    differs_from_torch: dict[str, str] = field(default_factory=dict)  # argument -> why its default is not torch's

    def defaults(self) -> dict[str, Any]:
        """The arguments a program may set, with their defaults, in declaration order."""
        return {h.name: h.default for h in self.hypers if not h.internal}

    def all_defaults(self) -> dict[str, Any]:
        """Every hyper-parameter the implementations take (the internal ones too), with its default."""
        return {h.name: h.default for h in self.hypers}

    def hyper(self, name: str) -> Hyper | None:
        return next((h for h in self.hypers if h.name == name and not h.internal), None)

    def canonical_arg(self, key: str) -> str:
        """An argument under its PyTorch name: learning_rate -> lr, epsilon -> eps, rmsprop's rho -> alpha."""
        return self.arg_aliases.get(key, COMMON_ARG_ALIASES.get(key, key))

    def problems(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        """(argument, what is wrong) for each given argument this optimizer cannot run with ('decay' included)."""
        found = []
        for key, value in values.items():
            hyper = DECAY if key == DECAY.name else self.hyper(key)
            if hyper is None:
                found.append((key, f"has no argument '{key}'"))
            elif isinstance(hyper.default, bool):
                if not isinstance(value, bool):
                    found.append((key, f"{key} must be true or false, received {value!r}"))
            elif (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value not in hyper.range
            ):
                found.append((key, f"{key} must be a finite number {hyper.range}, received {value!r}"))
        merged = {**self.defaults(), **values}
        found += [problem for rule in self.rules if (problem := rule(merged))]
        return found


# Keras' `decay`, taken by every optimizer: the lr of a step is lr / (1 + decay * iterations before it).
DECAY = Hyper("decay", 0.0)


def _nesterov_needs_momentum(args: dict[str, Any]) -> tuple[str, str] | None:
    momentum = args.get("momentum")
    if args.get("nesterov") is True and not (isinstance(momentum, (int, float)) and momentum > 0):
        return "nesterov", "nesterov=true needs momentum > 0"
    return None


def _adam_like(lr: float, weight_decay: float = 0.0) -> tuple[Hyper, ...]:
    return (
        Hyper("lr", lr, ABOVE_0),
        Hyper("beta1", 0.9, UNIT_OPEN),
        Hyper("beta2", 0.999, UNIT_OPEN),
        Hyper("eps", 1e-8, ABOVE_0),
        Hyper("weight_decay", weight_decay),
    )


SGD = OptimizerDef(
    "sgd",
    "SGD",
    (
        Hyper("lr", 0.01, ABOVE_0),
        Hyper("momentum", 0.0),
        Hyper("nesterov", False),
        Hyper("weight_decay", 0.0),
        Hyper("dampening", 0.0, internal=True),
    ),
    "Stochastic gradient descent, with optional (Nesterov) momentum.",
    rules=(_nesterov_needs_momentum,),
    differs_from_torch={
        "lr": "torch.optim.SGD's lr defaulted to none (required) until torch 2.6, then 0.001; "
        "netdsl keeps Keras' 0.01, which programs written since netdsl 0.1 rely on"
    },
)
RMSPROP = OptimizerDef(
    "rmsprop",
    "RMSprop",
    (
        Hyper("lr", 0.01, ABOVE_0),
        Hyper("alpha", 0.99, UNIT),
        Hyper("eps", 1e-8, ABOVE_0),
        Hyper("momentum", 0.0),
        Hyper("weight_decay", 0.0),
        Hyper("centered", False, internal=True),
    ),
    "RMSprop: divides the gradient by a running root mean square of its recent values.",
    arg_aliases={"rho": "alpha"},
)  # Keras' RMSprop(rho=) is PyTorch's alpha
ADAGRAD = OptimizerDef(
    "adagrad",
    "Adagrad",
    (
        Hyper("lr", 0.01, ABOVE_0),
        Hyper("eps", 1e-10, ABOVE_0),
        Hyper("weight_decay", 0.0),
        Hyper("lr_decay", 0.0, internal=True),
        Hyper("initial_accumulator_value", 0.0, internal=True),
    ),
    "Adagrad: per-parameter rates shrinking with the sum of squared gradients.",
)
ADADELTA = OptimizerDef(
    "adadelta",
    "Adadelta",
    (Hyper("lr", 1.0, ABOVE_0), Hyper("rho", 0.9, UNIT), Hyper("eps", 1e-6, ABOVE_0), Hyper("weight_decay", 0.0)),
    "Adadelta: Adagrad with running averages of squared gradients and updates.",
)
ADAM = OptimizerDef(
    "adam",
    "Adam",
    (*_adam_like(0.001), Hyper("amsgrad", False, internal=True)),
    "Adam: bias-corrected running averages of the gradient and its square.",
)
ADAMW = OptimizerDef(
    "adamw",
    "AdamW",
    (*_adam_like(0.001, weight_decay=0.01), Hyper("amsgrad", False, internal=True)),
    "AdamW: Adam with decoupled weight decay (p -= lr * weight_decay * p).",
)
ADAMAX = OptimizerDef(
    "adamax", "Adamax", _adam_like(0.002), "Adamax: Adam with the infinity norm in place of the second moment."
)
NADAM = OptimizerDef(
    "nadam",
    "NAdam",
    (*_adam_like(0.002), Hyper("momentum_decay", 0.004, internal=True)),
    "NAdam: Adam with Nesterov momentum and torch's momentum decay schedule.",
)
RADAM = OptimizerDef(
    "radam",
    "RAdam",
    _adam_like(0.001),
    "RAdam: Adam whose adaptive step is rectified while the variance estimate is unreliable (plain momentum "
    "SGD for the first steps).",
)

OPTIMIZERS: dict[str, OptimizerDef] = {
    o.name: o for o in (SGD, RMSPROP, ADAGRAD, ADADELTA, ADAM, ADAMW, ADAMAX, NADAM, RADAM)
}


# ---- learning-rate schedules ----


@dataclass(frozen=True)
class ScheduleArg:
    """One argument of a schedule. `default` None: required, unless `defaults_to_lr` (then the optimizer's lr)."""

    name: str
    kind: str  # "int": a whole number; "float": any number
    default: float | None
    range: Range
    problem: str  # what the error says when the value is outside the range
    hint: str | None = None
    defaults_to_lr: bool = False

    @property
    def example(self) -> str:
        return f"{self.name}={10 if self.kind == 'int' else 0.95}"


@dataclass(frozen=True)
class ScheduleDef:
    """A learning-rate schedule, stepped once an epoch: its arguments and the torch scheduler it is."""

    name: str
    args: tuple[ScheduleArg, ...]
    torch_class: str  # torch.optim.lr_scheduler.<torch_class>
    # its keyword arguments, in order: `{arg}` is one of ours, anything else an expression of the train script
    torch_args: tuple[tuple[str, str], ...]
    formula: str  # the lr it gives, for docs and hover
    arg_aliases: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str) -> ScheduleArg | None:
        return next((a for a in self.args if a.name == name), None)


_GAMMA_PROBLEM, _GAMMA_HINT = "must be in (0, 1]", "gamma multiplies the learning rate; below 1 it decays"
_POSITIVE = "must be positive"
STEP = ScheduleDef(
    "step",
    (
        ScheduleArg("every", "int", None, AT_LEAST_1, "must be at least 1 epoch"),
        ScheduleArg("gamma", "float", 0.1, UP_TO_1, _GAMMA_PROBLEM, _GAMMA_HINT),
    ),
    "StepLR",
    (("step_size", "{every}"), ("gamma", "{gamma}")),
    "lr * gamma ** (epoch // every)",
    arg_aliases={"step_size": "every"},
)  # PyTorch's StepLR
EXPONENTIAL = ScheduleDef(
    "exponential",
    (ScheduleArg("gamma", "float", None, UP_TO_1, _GAMMA_PROBLEM, _GAMMA_HINT),),
    "ExponentialLR",
    (("gamma", "{gamma}"),),
    "lr * gamma ** epoch",
)
COSINE = ScheduleDef(
    "cosine", (), "CosineAnnealingLR", (("T_max", "epochs - WARMUP"),), "lr * (1 + cos(pi * epoch / epochs)) / 2"
)
ONECYCLE = ScheduleDef(
    "onecycle",
    (
        ScheduleArg("max_lr", "float", None, ABOVE_0, _POSITIVE, defaults_to_lr=True),
        ScheduleArg("pct_start", "float", 0.3, BETWEEN_0_AND_1, "must be between 0 and 1"),
        ScheduleArg("div_factor", "float", 25.0, ABOVE_0, _POSITIVE),
        ScheduleArg("final_div_factor", "float", 1e4, ABOVE_0, _POSITIVE),
    ),
    "OneCycleLR",
    (
        ("max_lr", "{max_lr}"),
        ("total_steps", "epochs"),
        ("pct_start", "{pct_start}"),
        ("div_factor", "{div_factor}"),
        ("final_div_factor", "{final_div_factor}"),
        ("cycle_momentum", "False"),
    ),
    "up from max_lr / div_factor to max_lr over pct_start of the epochs, then down to "
    "max_lr / div_factor / final_div_factor (cosine annealing)",
)

SCHEDULES: dict[str, ScheduleDef] = {s.name: s for s in (STEP, EXPONENTIAL, COSINE, ONECYCLE)}


# ---- augmentations ----


@dataclass(frozen=True)
class AugmentationDef:
    """A transform of training images: its one positional argument (if any) and its Keras spellings."""

    name: str
    arg: str | None  # the argument's name in errors; None: takes no argument
    kind: str  # "int" (pixels), "float", "amount" (a fraction of the size below 1, or whole pixels); "" for none
    example: str
    doc: str
    aliases: tuple[str, ...] = ()  # Keras' ImageDataGenerator spellings
    range: Range = ABOVE_0  # of an "int" or "float" argument ("amount" is checked as a fraction or pixels)
    problem: str = ""  # what the error says when the argument is outside the range


_PIXELS = "needs at least 1 pixel"
FLIP = AugmentationDef("flip", None, "", "flip", "mirror half the images left-right", ("horizontal_flip",))
SHIFT = AugmentationDef(
    "shift",
    "shift",
    "amount",
    "shift(0.1)",
    "move each image by up to s of its size (s < 1) or s pixels, zeros in",
    ("width_shift_range", "height_shift_range"),
)
CROP = AugmentationDef(
    "crop",
    "padding",
    "int",
    "crop(4)",
    "pad by p pixels of zeros and crop back at a random place",
    ("random_crop",),
    AT_LEAST_1,
    _PIXELS,
)
ROTATE = AugmentationDef(
    "rotate",
    "degrees",
    "float",
    "rotate(15)",
    "rotate by an angle drawn from [-degrees, degrees], bilinear",
    ("rotation_range",),
    Range(0, 180, low_closed=False, high_closed=True),
    "degrees must be in (0, 180]",
)
CUTOUT = AugmentationDef(
    "cutout", "size", "int", "cutout(8)", "zero a size x size square at a random place", (), AT_LEAST_1, _PIXELS
)

AUGMENTATIONS: dict[str, AugmentationDef] = {a.name: a for a in (FLIP, SHIFT, CROP, ROTATE, CUTOUT)}
AUGMENTATION_ALIASES = {alias: a.name for a in AUGMENTATIONS.values() for alias in a.aliases}


# ---- early stopping ----


@dataclass(frozen=True)
class EarlyStopArg:
    name: str
    kind: str
    default: float


# the history columns early stopping may watch; a classifier's first: a near miss such as val_auc is taken for
# val_accuracy before val_mae
RECORDED = ("val_loss", "val_accuracy", "loss", "accuracy", "val_mae", "mae", "val_rmse", "rmse")
MONITOR_ALIASES = {"val_acc": "val_accuracy", "acc": "accuracy"}
EARLY_STOP_ARGS = (EarlyStopArg("patience", "int", 5), EarlyStopArg("min_delta", "float", 0.0))
EARLY_STOP_DEFAULTS = {a.name: a.default for a in EARLY_STOP_ARGS}
