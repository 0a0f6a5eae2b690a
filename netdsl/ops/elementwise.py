"""Ops that keep the shape: activations, dropout, batchnorm, lrn, identity."""

from __future__ import annotations

from netdsl.ops.base import Arg, Input, OpDef, Shape, ShapeError, fmt_shape, positive_int, real

_ACTIVATION = frozenset({"activation", "elementwise"})

RELU = OpDef(name="relu", traits=_ACTIVATION)
SIGMOID = OpDef(name="sigmoid", traits=_ACTIVATION)
TANH = OpDef(name="tanh", traits=_ACTIVATION)
SWISH = OpDef(name="swish", aliases=("silu",), traits=_ACTIVATION)
SOFTMAX = OpDef(name="softmax", traits=frozenset({"activation"}))
LEAKYRELU = OpDef(name="leakyrelu", aliases=("leaky_relu", "lrelu"),
                  args=(Arg("alpha", real(0.0), 0.01),), shown=("alpha",), traits=_ACTIVATION)
IDENTITY = OpDef(name="identity", traits=_ACTIVATION)
DROPOUT = OpDef(name="dropout", args=(Arg("rate", real(0.0, 1.0, high_open=True)),), shown=("rate",),
                traits=frozenset({"regularization", "elementwise"}))


def _channels(ins: list[Input]) -> int:
    return ins[0].shape[0]


def _bn_params(attrs: dict, ins: list[Input]) -> dict[str, Shape]:
    c = _channels(ins)
    return {"weight": (c,), "bias": (c,)}


def _bn_buffers(attrs: dict, ins: list[Input]) -> dict[str, Shape]:
    c = _channels(ins)
    return {"running_mean": (c,), "running_var": (c,)}


BATCHNORM = OpDef(
    name="batchnorm",
    aliases=("bn", "batchnormalization", "batchnorm2d"),
    args=(Arg("eps", real(0.0, low_open=True), 1e-5), Arg("momentum", real(0.0, 1.0), 0.1)),
    params=_bn_params,
    buffers=_bn_buffers,
    traits=frozenset({"normalization"}),
)


def _lrn_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    if len(ins[0].shape) != 3:
        raise ShapeError(f"needs an image input (C x H x W), but {ins[0].name} gives a vector of "
                         f"{fmt_shape(ins[0].shape)}")
    return ins[0].shape, {}


LRN = OpDef(
    name="lrn",
    aliases=("localresponsenorm",),
    args=(Arg("size", positive_int(), 5), Arg("alpha", real(0.0), 1e-4),
          Arg("beta", real(0.0), 0.75), Arg("k", real(0.0, low_open=True), 2.0)),
    infer=_lrn_infer,
    shown=("size",),
    traits=frozenset({"normalization"}),
)

ACTIVATION_OPS = (RELU, SIGMOID, TANH, SWISH, SOFTMAX, LEAKYRELU)
OPS = ACTIVATION_OPS + (IDENTITY, DROPOUT, BATCHNORM, LRN)
