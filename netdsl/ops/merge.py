"""Ops that join branches: add, concat and mul."""

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
    if len(ranks) > 1 or (ranks != {1} and len({i.shape[1:] for i in ins}) > 1):
        raise ShapeError(f"joins along channels and needs equal spatial sizes, but {_listing(ins)}")
    return (sum(i.shape[0] for i in ins),) + ins[0].shape[1:], {}


def _mul_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    """Equal shapes, except that a C x 1 (x 1 ...) branch is broadcast over the others' positions."""
    shapes = {i.shape for i in ins}
    full = {s for s in shapes if not (len(s) >= 2 and set(s[1:]) == {1})} or shapes
    shape = next(iter(full))
    gates_fit = all(s[0] == shape[0] and len(s) == len(shape) >= 2 for s in shapes - full)
    if len(full) > 1 or not gates_fit:
        raise ShapeError(
            f"needs every branch to give the same shape (or C x 1 x 1 to scale each channel), but {_listing(ins)}"
        )
    return shape, {}


ADD = OpDef(name="add", aliases=("sum",), infer=_add_infer, arity="many", traits=frozenset({"merge"}))
CONCAT = OpDef(
    name="concat", aliases=("concatenate", "cat"), infer=_concat_infer, arity="many", traits=frozenset({"merge"})
)

MUL = OpDef(name="mul", aliases=("multiply",), infer=_mul_infer, arity="many", traits=frozenset({"merge"}))

OPS = (ADD, CONCAT, MUL)
