"""Windowed ops: conv, max/avg pooling, global pooling. Shape rules of LANGUAGE.md section 4."""

from __future__ import annotations

from netdsl.ops.base import (
    Arg,
    Input,
    OpDef,
    ParamSpec,
    Shape,
    ShapeError,
    activation,
    boolean,
    fmt_shape,
    padding,
    pair,
    positive_int,
)


def _require_image(ins: list[Input], what: str) -> Shape:
    shape = ins[0].shape
    if len(shape) != 3:
        raise ShapeError(f"needs an image input (C x H x W), but {ins[0].name} gives a vector of {fmt_shape(shape)}; "
                         f"{what} works on images")
    return shape


def axis_output(i: int, k: int, s: int, d: int, pad: str | int, ceil: bool) -> tuple[int, int, int]:
    """One spatial axis: (output size, pad before, pad after), pads made explicit and exact."""
    span = d * (k - 1) + 1
    if pad == "same":
        o = -(-i // s)
        total = max((o - 1) * s + span - i, 0)
        return o, total // 2, total - total // 2
    before = after = pad
    if ceil:
        o = -(-(i + before + after - span) // s) + 1
        if (o - 1) * s >= i + before:  # the last window must start inside the input (Caffe, PyTorch)
            o -= 1
        after = max(after, (o - 1) * s + span - i - before)
    else:
        o = (i + before + after - span) // s + 1
    return o, before, after


def unread(i: int, o: int, k: int, s: int, d: int, before: int) -> int:
    """Input rows (or columns) at the end that no window reads."""
    last_read = (o - 1) * s + d * (k - 1) - before
    return max(i - 1 - last_read, 0)


def window_shape(attrs: dict, ins: list[Input], channels: int | None, what: str) -> tuple[Shape, dict]:
    """Output C x H x W and explicit pads (top, left, bottom, right) for a windowed op."""
    c, h, w = _require_image(ins, what)
    (kh, kw), (sh, sw) = attrs["kernel"], attrs["stride"]
    dh, dw = attrs.get("dilation", (1, 1))
    pad = attrs["pad"]
    ph, pw = (pad, pad) if pad == "same" else (0, 0) if pad == "valid" else pad
    ceil = attrs.get("ceil", False)
    need_h, need_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if pad != "same" and (h + 2 * ph < need_h or w + 2 * pw < need_w):
        padded = f" (padded {h + 2 * ph}x{w + 2 * pw})" if ph or pw else ""
        raise ShapeError(f"needs an input of at least {need_h}x{need_w}, but {ins[0].name} gives "
                         f"{fmt_shape(ins[0].shape)}{padded}")
    oh, top, bottom = axis_output(h, kh, sh, dh, ph, ceil)
    ow, left, right = axis_output(w, kw, sw, dw, pw, ceil)
    derived = {"pads": (top, left, bottom, right),
               "unread": (unread(h, oh, kh, sh, dh, top), unread(w, ow, kw, sw, dw, left))}
    return (channels if channels is not None else c, oh, ow), derived


# ---- conv ----


def _conv_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c = _require_image(ins, "conv")[0]
    groups, filters = attrs["groups"], attrs["filters"]
    if c % groups or filters % groups:
        raise ShapeError(f"has groups={groups}, which must divide both the input channels ({c}, from "
                         f"{ins[0].name}) and filters={filters}")
    return window_shape(attrs, ins, filters, "conv")


def _conv_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    kh, kw = attrs["kernel"]
    c = ins[0].shape[0]
    tensors = {"weight": ParamSpec((attrs["filters"], c // attrs["groups"], kh, kw))}
    if attrs["bias"]:
        tensors["bias"] = ParamSpec((attrs["filters"],), "zeros")
    return tensors


def _conv_macs(attrs: dict, ins: list[Input], out: Shape) -> int:
    kh, kw = attrs["kernel"]
    return out[1] * out[2] * attrs["filters"] * kh * kw * ins[0].shape[0] // attrs["groups"]


def _defaults(op_name: str) -> dict:
    """The attributes of `activation=NAME`: that op's own defaults (gelu's approximate, elu's alpha)."""
    from netdsl import ops  # the registry imports this module

    return {arg.name: arg.coerce(arg.default, arg.name) for arg in ops.REGISTRY[op_name].args}


def _with_activation(op: str):
    def expand(attrs: dict) -> list[tuple[str, dict, str]]:
        act = attrs.get("activation", "none")
        core = {k: v for k, v in attrs.items() if k != "activation"}
        steps = [(op, core, "")]
        if act not in ("none", "identity"):
            steps.append((act, _defaults(act), f"_{act}"))
        return steps

    return expand


CONV = OpDef(
    name="conv",
    aliases=("conv2d", "convolution", "convolution2d"),
    args=(
        Arg("filters", positive_int()),
        Arg("kernel", pair()),
        Arg("stride", pair(), 1),
        Arg("pad", padding, "valid"),
        Arg("dilation", pair(), 1),
        Arg("groups", positive_int(), 1),
        Arg("bias", boolean, True),
        Arg("activation", activation, "none"),
    ),
    infer=_conv_infer,
    tensors=_conv_tensors,
    macs=_conv_macs,
    receptive="window",
    shown=("filters", "kernel", "stride", "pad", "dilation", "groups"),
    expand=_with_activation("conv"),
    traits=frozenset({"conv", "windowed"}),
)

# ---- pooling ----


def _pool_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    kh, kw = attrs["kernel"]
    pad = attrs["pad"]
    if isinstance(pad, tuple) and (pad[0] > kh // 2 or pad[1] > kw // 2):
        raise ShapeError(f"has pad={pad[0]}x{pad[1]}, but pooling pads at most half the window "
                         f"({kh // 2}x{kw // 2} for {kh}x{kw})")
    return window_shape(attrs, ins, None, "pooling")


def _pool_args(attrs: dict) -> dict:
    """`stride` defaults to the pool size; the size is the pool's kernel."""
    attrs = dict(attrs)
    attrs["kernel"] = attrs.pop("size")
    if attrs["stride"] is None:
        attrs["stride"] = attrs["kernel"]
    return attrs


def _pool(name: str, aliases: tuple[str, ...], traits: frozenset[str]) -> OpDef:
    return OpDef(
        name=name,
        aliases=aliases,
        args=(
            Arg("size", pair()),
            Arg("stride", lambda v, n: None if v is None else pair()(v, n), None),
            Arg("pad", padding, "valid"),
            Arg("ceil", boolean, False),
        ),
        infer=_pool_infer,
        receptive="window",
        shown=("kernel", "stride", "pad"),
        expand=lambda attrs: [(name, _pool_args(attrs), "")],
        traits=traits,
    )


_WINDOW_POOL = frozenset({"pool", "windowed", "transparent"})
MAXPOOL = _pool("maxpool", ("pool", "maxpool2d", "maxpooling", "maxpooling2d"), _WINDOW_POOL)
AVGPOOL = _pool("avgpool", ("meanpool", "avgpool2d", "averagepool", "averagepooling2d", "avgpooling"), _WINDOW_POOL)


def _global_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    c, h, w = _require_image(ins, "global pooling")
    return (c, 1, 1), {"kernel": (h, w), "stride": (1, 1)}


GLOBALAVGPOOL = OpDef(name="globalavgpool", aliases=("gap", "globalaveragepool", "globalaveragepooling2d"),
                      infer=_global_infer, receptive="window", traits=frozenset({"pool"}))
GLOBALMAXPOOL = OpDef(name="globalmaxpool", aliases=("globalmaxpooling2d",),
                      infer=_global_infer, receptive="window", traits=frozenset({"pool"}))

OPS = (CONV, MAXPOOL, AVGPOOL, GLOBALAVGPOOL, GLOBALMAXPOOL)
