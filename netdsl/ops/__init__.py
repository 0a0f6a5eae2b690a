"""The op registry: every op's backend-neutral facts, looked up by name or alias (case-insensitive)."""

from __future__ import annotations

from netdsl.ops import activation, conv, core, embedding, merge, normalization, pool, resample
from netdsl.ops.base import OpDef

# the order in which the ops are listed (docs, the editor grammar and generated files follow it), kept from
# before the op families were grouped by kind; an op not named here comes after these, in module order
_ORDER = (
    "conv",
    "maxpool",
    "avgpool",
    "globalavgpool",
    "globalmaxpool",
    "input",
    "fc",
    "output",
    "flatten",
    "relu",
    "sigmoid",
    "tanh",
    "swish",
    "softmax",
    "leakyrelu",
    "identity",
    "dropout",
    "batchnorm",
    "lrn",
    "add",
    "concat",
    "mul",
    "gelu",
    "relu6",
    "hardswish",
    "hardsigmoid",
    "elu",
    "selu",
    "softplus",
    "mish",
    "prelu",
    "layernorm",
    "groupnorm",
    "scale",
    "upsample",
    "deconv",
    "dwconv",
    "zeropad",
)
ALL: tuple[OpDef, ...] = tuple(
    sorted(
        core.OPS + conv.OPS + pool.OPS + activation.OPS + normalization.OPS + merge.OPS + resample.OPS + embedding.OPS,
        key=lambda op: _ORDER.index(op.name) if op.name in _ORDER else len(_ORDER),
    )
)
REGISTRY: dict[str, OpDef] = {op.name: op for op in ALL}
_ALIASES: dict[str, str] = {alias: op.name for op in ALL for alias in (op.name, *op.aliases)}


def ops_with(trait: str) -> tuple[OpDef, ...]:
    """The ops that have a trait, in declaration order."""
    return tuple(op for op in ALL if op.has(trait))


def with_trait(trait: str) -> list[str]:
    """The canonical names of the ops that have a trait (netdsl.ops.base.TRAITS), sorted."""
    return sorted(op.name for op in ALL if op.has(trait))


# ops that exist only in the front end: they expand into others before the IR is built
SUGAR = set(with_trait("sugar"))
# ops that take `{ A | B }` branches
MERGE_OPS = set(with_trait("merge"))


def lookup(name: str) -> OpDef | None:
    """The op for a name or alias, case-insensitive, or None."""
    canonical = _ALIASES.get(name.lower())
    return REGISTRY[canonical] if canonical else None


def known_names() -> list[str]:
    return sorted(_ALIASES)
