"""The abstract syntax tree: plain dataclasses, each carrying its source span."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from netdsl.diagnostics import Span

# ---- expressions (arguments and train settings) ----


@dataclass(frozen=True)
class Num:
    value: int | float
    span: Span


@dataclass(frozen=True)
class Size:
    """`5x5`, `1x28x28`."""

    dims: tuple[int, ...]
    span: Span


@dataclass(frozen=True)
class Str:
    value: str
    span: Span


@dataclass(frozen=True)
class Name:
    """An identifier: a block parameter, an enum value (`same`) or `true`/`false`."""

    id: str
    span: Span


@dataclass(frozen=True)
class TupleExpr:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * / // %
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Neg:
    operand: Expr
    span: Span


@dataclass(frozen=True)
class Call:
    """`adam(lr=0.001)` in a train section."""

    name: str
    args: tuple[Expr, ...]
    kwargs: tuple[Kwarg, ...]
    span: Span


@dataclass(frozen=True)
class Kwarg:
    name: str
    value: Expr
    span: Span


Expr = Union[Num, Size, Str, Name, TupleExpr, BinOp, Neg, Call]

# ---- layers and chains ----


@dataclass(frozen=True)
class Layer:
    """`label: op(args, key=value)`: an op or a block instance."""

    op: str
    label: str | None
    args: tuple[Expr, ...]
    kwargs: tuple[Kwarg, ...]
    span: Span
    op_span: Span


@dataclass(frozen=True)
class Seq:
    """A chain: each item feeds the next."""

    items: tuple[Element, ...]
    span: Span


@dataclass(frozen=True)
class Repeat:
    body: Element
    count: Expr
    span: Span


@dataclass(frozen=True)
class Branches:
    """`add { A | B }` or `concat { A | B }` (the op name as written)."""

    op: str
    label: str | None
    branches: tuple[Seq, ...]
    span: Span
    op_span: Span


Element = Union[Layer, Seq, Repeat, Branches]

# ---- top level ----


@dataclass(frozen=True)
class Param:
    name: str
    default: Expr | None
    span: Span


@dataclass(frozen=True)
class Network:
    name: str
    body: Seq
    span: Span
    name_span: Span


@dataclass(frozen=True)
class Block:
    name: str
    params: tuple[Param, ...]
    body: Seq
    span: Span
    name_span: Span


@dataclass(frozen=True)
class Setting:
    key: str
    value: Expr
    span: Span
    key_span: Span


@dataclass(frozen=True)
class Train:
    network: str | None
    settings: tuple[Setting, ...]
    span: Span


@dataclass
class Program:
    file: str
    source: str
    networks: list[Network] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    trains: list[Train] = field(default_factory=list)
