"""NumPy kernels registered against the op declarations: forward and backward side by side.

    @kernel(RELU)
    class Relu:
        forward = staticmethod(unary(relu_forward))             # (node, inputs, ctx) -> (y, cache)
        backward = staticmethod(unary_backward(relu_backward))  # (node, dy, cache, need_dx)
                                                                #   -> ([dx per input], {param: grad})

The executor looks each layer's kernel up once per graph, never per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from netdsl.ir.graph import Node
from netdsl.ops.base import OpDef

Array = np.ndarray


@dataclass
class Ctx:
    """What a forward step needs besides the inputs: the parameters, the mode and the RNG."""

    params: dict[str, Array]
    buffers: dict[str, Array]
    training: bool
    rng: np.random.Generator | None

    def param(self, node: Node, name: str) -> Array | None:
        return self.params.get(f"{node.name}.{name}")


Forward = Callable[[Node, list[Array], Ctx], tuple[Array, Any]]
Backward = Callable[[Node, Array, Any, bool], tuple[list[Array | None], dict[str, Array]]]


@dataclass(frozen=True)
class Kernel:
    op: OpDef
    forward: Forward
    backward: Backward


KERNELS: dict[str, Kernel] = {}


def kernel(op: OpDef) -> Callable[[type], type]:
    """Register a class's `forward` and `backward` as the NumPy implementation of `op`."""

    def register(cls: type) -> type:
        if op.name in KERNELS:
            raise ValueError(f"op {op.name} has two NumPy kernels")
        KERNELS[op.name] = Kernel(op, cls.forward, cls.backward)  # type: ignore[attr-defined]  # the class's contract
        return cls

    return register


def kernels() -> dict[str, Kernel]:
    """Every registered kernel (importing the op families registers them)."""
    import netdsl.backends.numpy.ops  # noqa: F401

    return KERNELS


# ---- adapters from array kernels `f(x, ...) -> (y, cache)` and `g(dy, cache) -> dx` ----


def unary(kernel_fwd: Callable, *attr_names: str) -> Forward:
    """Forward of a one-input op whose kernel takes the input and some attributes."""

    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return kernel_fwd(xs[0], *(node.attrs[n] for n in attr_names))

    return forward


def unary_backward(kernel_bwd: Callable) -> Backward:
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        return [kernel_bwd(dy, cache)], {}

    return backward


def window(kernel_fwd: Callable) -> Forward:
    """Forward of a pooling kernel taking (x, kernel, stride, pads)."""

    def forward(node: Node, xs: list[Array], ctx: Ctx):
        a = node.attrs
        return kernel_fwd(xs[0], a["kernel"], a["stride"], a["pads"])

    return forward


def many(kernel_fwd: Callable) -> Forward:
    """Forward of a merge kernel taking every input."""

    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return kernel_fwd(*xs)

    return forward


def many_backward(kernel_bwd: Callable) -> Backward:
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        return list(kernel_bwd(dy, cache)), {}

    return backward


def weighted_backward(kernel_bwd: Callable) -> Backward:
    """Backward of a layer with a weight and an optional bias (conv, fc)."""

    def backward(node: Node, dy: Array, cache, need_dx: bool):
        dx, dw, db = kernel_bwd(dy, cache, need_dx=need_dx)
        return [dx], {"weight": dw} | ({"bias": db} if db is not None else {})

    return backward
