"""Ops that keep the shape: activations, dropout, batchnorm, lrn, identity."""

from __future__ import annotations

from netdsl.ops.base import Arg, Input, OpDef, ParamSpec, Shape, ShapeError, Step, fmt_shape, positive_int, real

_ACTIVATION = frozenset({"activation", "elementwise"})
_RECTIFIER = _ACTIVATION | {"rectifier"}


def _swish_steps(attrs: dict, shapes: list[Shape]) -> list[Step]:
    """swish(x) = x * sigmoid(x)."""
    return [Step("sigmoid", "sigmoid"), Step("mul", "mul", inputs=("x0", "sigmoid"))]


RELU = OpDef(name="relu", traits=_RECTIFIER)
SIGMOID = OpDef(name="sigmoid", traits=_ACTIVATION | {"after_logits"})
TANH = OpDef(name="tanh", traits=_ACTIVATION)
SWISH = OpDef(name="swish", aliases=("silu",), traits=_RECTIFIER, decompose=_swish_steps)
SOFTMAX = OpDef(name="softmax", traits=frozenset({"activation", "distribution", "after_logits"}))
LEAKYRELU = OpDef(name="leakyrelu", aliases=("leaky_relu", "lrelu"),
                  args=(Arg("alpha", real(0.0), 0.01),), shown=("alpha",), traits=_RECTIFIER)
IDENTITY = OpDef(name="identity", traits=_ACTIVATION | {"noop", "transparent", "after_logits"})
DROPOUT = OpDef(name="dropout", args=(Arg("rate", real(0.0, 1.0, high_open=True)),), shown=("rate",),
                traits=frozenset({"regularization", "elementwise", "transparent", "after_logits"}))


def _channels(ins: list[Input]) -> int:
    return ins[0].shape[0]


def _bn_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    c = (_channels(ins),)
    return {"weight": ParamSpec(c, "ones"), "bias": ParamSpec(c, "zeros"),
            "running_mean": ParamSpec(c, "zeros", trainable=False),
            "running_var": ParamSpec(c, "ones", trainable=False)}


BATCHNORM = OpDef(
    name="batchnorm",
    aliases=("bn", "batchnormalization", "batchnorm2d"),
    args=(Arg("eps", real(0.0, low_open=True), 1e-5), Arg("momentum", real(0.0, 1.0), 0.1)),
    tensors=_bn_tensors,
    traits=frozenset({"normalization", "centering", "transparent"}),
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
