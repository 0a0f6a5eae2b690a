"""What the language knows, for completion and hover: ops and their arguments, train settings,
optimizers, losses and data sets, all read from their declarations."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class ArgInfo:
    name: str
    default: str | None  # as a program would write it; None when the argument is required


@dataclass(frozen=True)
class OpInfo:
    name: str
    aliases: tuple[str, ...]
    args: tuple[ArgInfo, ...]
    variadic: bool  # positional arguments are a list (input's dimensions)

    def signature(self) -> str:
        parts = ["dims..."] if self.variadic else []
        parts += [a.name if a.default is None else f"{a.name}={a.default}" for a in self.args]
        return f"{self.name}({', '.join(parts)})" if parts else self.name


@lru_cache(maxsize=1)
def op_catalog() -> tuple[OpInfo, ...]:
    """Every op with its aliases and arguments: the one place that reads the op declarations."""
    from netdsl import ops
    from netdsl.ops.base import REQUIRED

    return tuple(
        OpInfo(
            op.name,
            tuple(op.aliases),
            tuple(ArgInfo(arg.name, None if arg.default is REQUIRED else value_text(arg.default)) for arg in op.args),
            bool(getattr(op, "variadic", False)),
        )
        for op in ops.ALL
    )


@lru_cache(maxsize=1)
def _by_name() -> dict[str, OpInfo]:
    return {name.lower(): op for op in op_catalog() for name in (op.name, *op.aliases)}


def find_op(name: str) -> OpInfo | None:
    """The op for a name or alias, case-insensitive."""
    return _by_name().get(name.lower())


def value_text(value: Any) -> str:
    """A value as a program writes it: true/false, none, 2x2 for a pair of ints."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return "x".join(str(v) for v in value)
        return "(" + ", ".join(value_text(v) for v in value) + ")"
    return str(value)


# ---- the train section ----

SETTING_DOCS: dict[str, str] = {
    "data": "The data set: `digits` (built in), `mnist`, `fashion_mnist`, `cifar10`, the generated `waves`, "
    "`spectrograms` and `sentences`, or a quoted path to an `.npz` file (arrays `x`, `y`) or a `.csv` file "
    "(last column the label).",
    "loss": "The loss: `cross_entropy` (fused with a final softmax), `mse`, or `binary_cross_entropy` (fused with "
    "a final sigmoid); for `target = values` also `mae` (`l1`) and `huber`.",
    "optimizer": "The optimizer and its arguments, e.g. `adam(lr=0.001)` or `sgd(lr=0.1, momentum=0.9)`.",
    "epochs": "How many passes over the training data.",
    "batch": "Samples per training step.",
    "metrics": "What is reported each epoch besides the loss: `accuracy`, `mae` or `rmse` (the default for "
    "`target = values` is `mae`), or `none`.",
    "seed": "The random seed for weight initialization, shuffling and the validation split.",
    "val_split": "The share of the data held out for validation (0 <= val_split < 1).",
    "target": "`labels` (classification, the default), `values` (regression on real numbers; the loss defaults "
    "to `mse`) or `input`: train the network to reproduce its input (an autoencoder; the loss defaults to "
    "`mse`).",
    "schedule": "Multiplies the optimizer's `lr` per epoch: `step(every=10, gamma=0.1)`, "
    "`exponential(gamma=0.95)`, `cosine` or `onecycle(max_lr=0.1)`.",
    "warmup": "Epochs of linear warm-up of the learning rate before the schedule.",
    "augment": "Transforms applied to training batches, in order: `flip`, `shift(s)`, `crop(pad)`, "
    "`rotate(degrees)`, `cutout(size)`; one or a tuple.",
    "early_stop": "Stop when validation stops improving: `val_loss(patience=5, min_delta=0)` or "
    "`val_accuracy(...)`; restores the best weights.",
    "classes": 'A file with one class name per line, for user data sets: `"classes.txt"`.',
    "diagnostics": "`true`: measure each layer every epoch (gradient and update size against the weights, dead "
    "ReLUs, activation statistics); writes `diagnostics.csv` and names the worst layers.",
    "log": "`tensorboard`: write TensorBoard event files into the run directory (needs tensorboardX).",
}


def train_defaults() -> dict[str, str]:
    """Each train setting the compiler accepts, with its default as a program would write it."""
    from dataclasses import fields

    from netdsl.train.config import TrainConfig

    config = TrainConfig()
    defaults: dict[str, str] = {}
    for item in fields(TrainConfig):
        if item.name == "optimizer_args":
            continue
        value = getattr(config, item.name)
        if item.name == "optimizer" and config.optimizer_args:
            args = ", ".join(f"{k}={value_text(v)}" for k, v in config.optimizer_args.items())
            value = f"{value}({args})"
        elif isinstance(value, tuple) and len(value) == 1:
            value = value[0]
        defaults[item.name] = value_text(value)
    return defaults


def optimizers() -> dict[str, dict[str, str]]:
    """Each optimizer's arguments and their defaults."""
    from netdsl.train.declarations import OPTIMIZERS

    return {
        name: {key: value_text(value) for key, value in optimizer.defaults().items()}
        for name, optimizer in OPTIMIZERS.items()
    }


def optimizer_doc(name: str) -> str:
    """What an optimizer does and the torch.optim class it matches."""
    from netdsl.train.declarations import OPTIMIZERS

    optimizer = OPTIMIZERS[name]
    return f"{optimizer.doc} (torch.optim.{optimizer.torch_class})"


def value_docs(key: str) -> list[str]:
    """Hover lines for the names a setting takes from the training declarations: schedules, augmentations."""
    from netdsl.train.declarations import AUGMENTATIONS, SCHEDULES

    if key == "schedule":
        return [
            f"- `{s.name}({', '.join(a.name for a in s.args)})`: {s.formula} (torch.optim.lr_scheduler.{s.torch_class})"
            for s in SCHEDULES.values()
        ]
    if key == "augment":
        return [f"- `{a.example}`: {a.doc}" for a in AUGMENTATIONS.values()]
    return []


def setting_values(key: str) -> tuple[str, ...]:
    """The names a setting takes (data sets, losses, optimizers); empty when it takes a number or path."""
    from netdsl.frontend import train_spec
    from netdsl.train import declarations

    return {
        "data": train_spec.BUILTIN_DATA,
        "loss": declarations.LOSSES,
        "metrics": declarations.METRICS,
        "optimizer": tuple(declarations.OPTIMIZERS),
        "target": declarations.TARGETS,
        "schedule": tuple(declarations.SCHEDULES),
        "augment": tuple(declarations.AUGMENTATIONS),
    }.get(key, ())
