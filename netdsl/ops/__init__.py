"""The op registry: every op's backend-neutral facts, looked up by name or alias (case-insensitive)."""

from __future__ import annotations

from netdsl.ops import dense, elementwise, merge, nonlinear, normalization, resample, spatial
from netdsl.ops.base import OpDef

ALL: tuple[OpDef, ...] = (spatial.OPS + dense.OPS + elementwise.OPS + merge.OPS + nonlinear.OPS + normalization.OPS
                          + resample.OPS)
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
