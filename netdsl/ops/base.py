"""What an op is, backend-neutral: its arguments, shape rule, parameters, MACs, receptive field."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

Shape = tuple[int, ...]
REQUIRED = object()
MAX_SIZE = 2**31 - 1  # the largest size or count an argument may give (docs/security.md)


class Symbol(str):
    """An identifier used as a value (`same`, `relu`), as opposed to a quoted string."""


class ArgError(Exception):
    """An argument value is wrong; the message says what was expected and what was received."""


class ShapeError(Exception):
    """The input shapes do not fit the op; the message continues '<layer> ...'."""


@dataclass(frozen=True)
class Input:
    """An input of a node as a shape rule sees it: the producer's name and its output shape."""

    name: str
    shape: Shape


# ---- argument coercers: (value, arg name) -> normalized value, raising ArgError ----


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Symbol):
        return f"'{value}'"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "(" + ", ".join(_kind(v) for v in value) + ")"
    return repr(value)


def positive_int(minimum: int = 1) -> Callable:
    def coerce(value: Any, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ArgError(f"{name} must be an integer, received {name}={_kind(value)}")
        if value < minimum:
            raise ArgError(f"{name} must be at least {minimum}, received {name}={value}")
        if value > MAX_SIZE:
            raise ArgError(f"{name} must be at most {MAX_SIZE:,}, received {name}={value:,}")
        return value

    return coerce


class Every(tuple):
    """A per-axis size written as one integer (`kernel=3`): the same on every axis of whatever rank the input has.
    Held as (v, v) so that 2-D code reads it as before; shape rules widen it with `per_axis`."""


RANK_NAMES = {1: "a sequence (C x L)", 2: "an image (C x H x W)", 3: "a volume (C x D x H x W)"}
AXIS_LETTERS = {1: "L", 2: "HxW", 3: "DxHxW"}


def per_axis(value: tuple, rank: int, name: str) -> tuple[int, ...]:
    """`value` with one entry per spatial axis; ShapeError when it names another number of axes."""
    if isinstance(value, Every):
        return (value[0],) * rank
    if len(value) != rank:
        given = "x".join(str(v) for v in value)
        raise ShapeError(
            f"has {name}={given}, which names {len(value)} axes, but its input is "
            f"{RANK_NAMES[rank]} with {rank} spatial ax{'is' if rank == 1 else 'es'}: give {name} as "
            + ("one integer (L)" if rank == 1 else f"one integer or {rank} ({AXIS_LETTERS[rank]})")
        )
    return tuple(value)


def pair(minimum: int = 1) -> Callable:
    """An int (the same on every axis) or `HxW`, `DxHxW` / `(h, w)`, one per axis, each at least `minimum`."""
    one = positive_int(minimum)

    def coerce(value: Any, name: str) -> tuple[int, ...]:
        if isinstance(value, tuple):
            if not 1 <= len(value) <= 3:
                raise ArgError(
                    f"{name} takes one integer or one per axis (L, HxW or DxHxW), received {name}={_kind(value)}"
                )
            return tuple(one(v, name) for v in value)
        v = one(value, name)
        return Every((v, v))

    return coerce


def padding(value: Any, name: str) -> str | tuple[int, ...]:
    """`valid`, `same`, an int or one per axis; 0 means valid."""
    if isinstance(value, str) and value.lower() in ("valid", "same"):
        return value.lower()
    if isinstance(value, (int, tuple)) and not isinstance(value, bool):
        pads = pair(0)(value, name)
        return "valid" if not any(pads) else pads
    raise ArgError(f"{name} must be valid, same, an integer or one per axis (h, w), received {name}={_kind(value)}")


def real(low: float, high: float | None = None, *, low_open: bool = False, high_open: bool = False) -> Callable:
    def coerce(value: Any, name: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ArgError(f"{name} must be a number, received {name}={_kind(value)}")
        too_low = value <= low if low_open else value < low
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high:
            lo = f"{low} {'<' if low_open else '<='} "
            hi = f" {'<' if high_open else '<='} {high}" if high is not None else ""
            raise ArgError(f"{name} must satisfy {lo}{name}{hi}, received {name}={value}")
        return float(value)

    return coerce


def boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ArgError(f"{name} must be true or false, received {name}={_kind(value)}")


def choice(*options: str) -> Callable:
    def coerce(value: Any, name: str) -> str:
        if isinstance(value, str) and value.lower() in options:
            return value.lower()
        listed = ", ".join(options)
        raise ArgError(f"{name} must be one of {listed}, received {name}={_kind(value)}")

    return coerce


# `activation=linear` means no activation (`linear` alone is fc's alias)
ACTIVATION_ALIASES = {"linear": "identity"}


def activation_names() -> list[str]:
    """The ops `activation=` takes: those with the "activation" trait, in declaration order."""
    from netdsl.ops import ops_with

    return [op.name for op in ops_with("activation")]


def __getattr__(name: str) -> Any:
    """ACTIVATIONS: the names `activation=` takes, read from the declarations' traits on each use."""
    if name == "ACTIVATIONS":
        return tuple(activation_names())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def activation(value: Any, name: str) -> str:
    from netdsl.ops import lookup

    names = activation_names()
    if isinstance(value, str):
        low = value.lower()
        op = lookup(ACTIVATION_ALIASES.get(low, low))
        if low == "none":
            return low
        if op is not None and op.has("activation"):
            return op.name
    raise ArgError(f"{name} must be none or one of {', '.join(names)}, received {name}={_kind(value)}")


@dataclass(frozen=True)
class Arg:
    name: str
    coerce: Callable[[Any, str], Any]
    default: Any = REQUIRED


# ---- op definition ----


FAN = "fan"  # He normal when a rectifier follows the layer, Glorot uniform otherwise (fans from the layout)


@dataclass(frozen=True)
class ParamSpec:
    """One tensor of a layer: its shape, how it starts and whether training updates it.

    init is FAN, "zeros", "ones" or a number (every value starts at it); trainable=False is a buffer
    (batchnorm's running statistics), which training sets but no gradient reaches.
    """

    shape: Shape
    init: str | float = FAN
    trainable: bool = True


def no_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    return {}


def no_macs(attrs: dict, ins: list[Input], out: Shape) -> int:
    return 0


@dataclass(frozen=True)
class Step:
    """One op of a decomposition: `inputs` name the layer's inputs (`x0`, `x1`, ...) or earlier steps.
    The last step computes the layer's output."""

    name: str
    op: str
    attrs: dict = field(default_factory=dict)
    inputs: tuple[str, ...] = ("x0",)


def same_shape(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    return ins[0].shape, {}


# shown without their key, as the tutorials write them
_POSITIONAL = ("filters", "units", "kernel", "rate", "vocabulary", "dim")


def _default_of(arg: Arg, attrs: dict) -> Any:
    """An argument's default as normalized attrs hold it; a None default (a pool's stride) is the window."""
    if arg.default is REQUIRED:
        return REQUIRED
    if arg.default is None:
        return attrs.get("kernel")
    return arg.coerce(arg.default, arg.name)


def _is_default(default: Any, value: Any) -> bool:
    """Whether a normalized value is the default; a one-integer default (`stride=1`) holds on every axis."""
    if isinstance(default, Every) and isinstance(value, tuple):
        return set(value) == {default[0]}
    return default == value


def arg_values(args: tuple[Arg, ...], attrs: dict, shown: tuple[str, ...]) -> dict[str, Any]:
    """Every argument of a node by name (`shown` first, then the op's declared order), as normalized."""
    names = dict.fromkeys((*shown, "shape", *(arg.name for arg in args)))
    return {name: attrs[name] for name in names if name in attrs}


def _arg_text(key: str, value: Any) -> str:
    if isinstance(value, tuple) and key != "kernel" and len(set(value)) == 1:
        value = value[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    return "x".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def describe_args(op: str, attrs: dict, shown: tuple[str, ...], args: tuple[Arg, ...] = ()) -> str:
    """`maxpool(3x3, stride=1, pad=1)`: the op with `shown` and every argument that differs from its default."""
    declared = {arg.name: arg for arg in args}
    parts = []
    for key, value in arg_values(args, attrs, shown).items():
        arg = declared.get(key)
        if value is None or (key not in shown and arg is None) or (arg and _is_default(_default_of(arg, attrs), value)):
            continue
        text = _arg_text(key, value)
        parts.append(text if key in _POSITIONAL else f"{key}={text}")
    return f"{op}({', '.join(parts)})" if parts else op


# What an op is, as the rest of the compiler asks it (lint, drawing, backends): never a list of op names.
TRAITS = {
    "input": "the network's input",
    "sugar": "exists only in the front end: expands into other ops before the IR is built",
    "conv": "a learned window (convolution)",
    "dense": "a fully connected layer",
    "pool": "pooling over a window or the whole image",
    "windowed": "slides a kernel x kernel window with a stride over the image (not the global pools)",
    "reshape": "changes the shape, not the values",
    "flattens": "takes a vector: an image input gets an implicit flatten before it",
    "activation": "a nonlinearity, also usable as `activation=`",
    "distribution": "turns scores into a probability distribution over the channels (belongs at the output)",
    "rectifier": "relu-like: the layer before it starts with He initialization (Glorot otherwise)",
    "transparent": "the He/Glorot choice looks through it to the op that follows",
    "after_logits": "may follow the logits layer, whose weights then start scaled by HEAD_SCALE",
    "normalization": "normalizes its input (batchnorm, lrn)",
    "centering": "subtracts a mean per channel, so a bias right before it is cancelled",
    "regularization": "changes training only (dropout)",
    "noop": "computes nothing at inference",
    "merge": "combines `{ A | B }` branches",
    "elementwise": "acts on each value alone: the shape is kept",
    "lookup": "reads its input as integer ids below its `vocabulary` (embedding): it belongs after input(L, tokens=V)",
}

Decomposition = Callable[[dict, list[Shape]], list[Step]]


@dataclass(frozen=True)
class OpDef:
    """Everything the compiler knows about one op; backends register their kernels and lowerings against it."""

    name: str
    aliases: tuple[str, ...] = ()
    args: tuple[Arg, ...] = ()
    # (attrs, inputs) -> (output shape, attributes derived from the input such as explicit pads)
    infer: Callable[[dict, list[Input]], tuple[Shape, dict]] = same_shape
    # (attrs, inputs) -> the layer's tensors (parameters and buffers), in the order weights files list them
    tensors: Callable[[dict, list[Input]], dict[str, ParamSpec]] = no_tensors
    macs: Callable[[dict, list[Input], Shape], int] = no_macs
    # "window": attrs give kernel/stride/dilation; "pointwise": keeps the receptive field; "none": not spatial
    receptive: str = "pointwise"
    arity: str = "one"  # "one", "many" (add, concat) or "none" (input)
    shown: tuple[str, ...] = ()
    # an op that is sugar for a chain (output = fc - softmax): attrs -> [(op, attrs, name suffix)]
    expand: Callable[[dict], list[tuple[str, dict, str]]] | None = None
    variadic: bool = False  # positional arguments are a list (input's dims)
    traits: frozenset[str] = frozenset()  # keys of TRAITS
    # (attrs, input shapes) -> the same computation in other ops; a backend without its own
    # implementation of this op runs these steps instead (netdsl.ir.decompose)
    decompose: Decomposition | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.traits) - set(TRAITS)
        if unknown:
            raise ValueError(f"op {self.name}: unknown traits {sorted(unknown)}")

    def has(self, trait: str) -> bool:
        return trait in self.traits

    def describe(self, attrs: dict) -> str:
        return describe_args(self.name, attrs, self.shown, self.args)

    def params(self, attrs: dict, ins: list[Input]) -> dict[str, Shape]:
        """The trainable tensors' shapes."""
        return {k: s.shape for k, s in self.tensors(attrs, ins).items() if s.trainable}

    def buffers(self, attrs: dict, ins: list[Input]) -> dict[str, Shape]:
        """The non-trainable tensors' shapes (running statistics)."""
        return {k: s.shape for k, s in self.tensors(attrs, ins).items() if not s.trainable}


def fmt_shape(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)


def numel(shape: Shape) -> int:
    return math.prod(shape)
