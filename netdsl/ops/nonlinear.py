"""The modern activations of LANGUAGE.md section 9: gelu, relu6, hardswish, hardsigmoid, elu, selu, softplus,
mish and prelu (the one with a learned slope per channel). Semantics are PyTorch's."""

from __future__ import annotations

from typing import Any

from netdsl.ops.base import Arg, ArgError, Input, OpDef, Shape, choice, real


def number(value: Any, name: str) -> float:
    """Any finite number (a learned parameter's starting value)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        raise ArgError(f"{name} must be a number, received {name}={value!r}")
    return float(value)


_ACTIVATION = frozenset({"activation", "elementwise"})

GELU = OpDef(name="gelu", args=(Arg("approximate", choice("none", "tanh"), "none"),), shown=("approximate",),
             traits=_ACTIVATION)
RELU6 = OpDef(name="relu6", traits=_ACTIVATION)
HARDSWISH = OpDef(name="hardswish", aliases=("hard_swish", "hswish"), traits=_ACTIVATION)
HARDSIGMOID = OpDef(name="hardsigmoid", aliases=("hard_sigmoid",), traits=_ACTIVATION)
ELU = OpDef(name="elu", args=(Arg("alpha", real(0.0), 1.0),), shown=("alpha",), traits=_ACTIVATION)
SELU = OpDef(name="selu", traits=_ACTIVATION)
SOFTPLUS = OpDef(name="softplus", traits=_ACTIVATION)
MISH = OpDef(name="mish", traits=_ACTIVATION)


def _prelu_params(attrs: dict, ins: list[Input]) -> dict[str, Shape]:
    """One slope per channel: C for images, N for vectors (torch.nn.PReLU(num_parameters=C))."""
    return {"weight": (ins[0].shape[0],)}


PRELU = OpDef(name="prelu", args=(Arg("init", number, 0.25),), params=_prelu_params,
              traits=frozenset({"activation"}))

OPS = (GELU, RELU6, HARDSWISH, HARDSIGMOID, ELU, SELU, SOFTPLUS, MISH, PRELU)
