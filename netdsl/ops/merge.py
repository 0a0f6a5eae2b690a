"""Ops that join branches: add and concat."""

from __future__ import annotations

from netdsl.ops.base import Input, OpDef, Shape, ShapeError, fmt_shape


def _listing(ins: list[Input]) -> str:
    return ", ".join(f"{i.name} gives {fmt_shape(i.shape)}" for i in ins)


def _add_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    if len({i.shape for i in ins}) > 1:
        raise ShapeError(f"needs every branch to give the same shape, but {_listing(ins)}")
    return ins[0].shape, {}


def _concat_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    ranks = {len(i.shape) for i in ins}
    if len(ranks) > 1 or (ranks == {3} and len({i.shape[1:] for i in ins}) > 1):
        raise ShapeError(f"joins along channels and needs equal spatial sizes, but {_listing(ins)}")
    return (sum(i.shape[0] for i in ins),) + ins[0].shape[1:], {}


ADD = OpDef(name="add", aliases=("sum",), infer=_add_infer, arity="many", traits=frozenset({"merge"}))
CONCAT = OpDef(name="concat", aliases=("concatenate", "cat"), infer=_concat_infer, arity="many",
                traits=frozenset({"merge"}))

OPS = (ADD, CONCAT)
