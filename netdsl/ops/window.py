"""The window geometry that conv and pooling share (shape rules of LANGUAGE.md section 4), and the
`activation=` argument's expansion."""

from __future__ import annotations

from typing import cast

from netdsl.ops.base import Input, Shape, ShapeError, fmt_shape, per_axis


def require_image(ins: list[Input], what: str) -> Shape:
    """The input's shape when it is a 2-D image (ops that work on images only: lrn)."""
    shape = ins[0].shape
    if len(shape) != 3:
        raise ShapeError(
            f"needs an image input (C x H x W), but {ins[0].name} gives {_kind_of(shape)}; {what} works on images"
        )
    return shape


def _kind_of(shape: Shape) -> str:
    kinds = {1: "a vector of", 2: "a sequence of", 4: "a volume of"}
    return f"{kinds.get(len(shape), 'a tensor of')} {fmt_shape(shape)}"


def require_spatial(ins: list[Input], what: str) -> Shape:
    """The input's shape when it has 1, 2 or 3 spatial axes (C x L, C x H x W, C x D x H x W)."""
    shape = ins[0].shape
    if not 2 <= len(shape) <= 4:
        raise ShapeError(
            f"needs an image input (C x H x W), a sequence (C x L) or a volume (C x D x H x W), but "
            f"{ins[0].name} gives {_kind_of(shape)}; {what} works on those"
        )
    return shape


def spatial_rank(ins: list[Input], what: str) -> int:
    """1 for a sequence, 2 for an image, 3 for a volume."""
    return len(require_spatial(ins, what)) - 1


def axis_output(i: int, k: int, s: int, d: int, pad: str | int, ceil: bool) -> tuple[int, int, int]:
    """One spatial axis: (output size, pad before, pad after), pads made explicit and exact."""
    span = d * (k - 1) + 1
    if pad == "same":
        o = -(-i // s)
        total = max((o - 1) * s + span - i, 0)
        return o, total // 2, total - total // 2
    before = after = cast(int, pad)  # not "same" here: an int
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


def window_axes(attrs: dict, rank: int) -> dict:
    """kernel, stride and dilation with one entry per spatial axis (an int widened to the rank)."""
    axes = {name: per_axis(attrs[name], rank, name) for name in ("kernel", "stride") if attrs.get(name) is not None}
    axes["dilation"] = per_axis(attrs.get("dilation", (1,) * rank), rank, "dilation")
    return axes


def pad_axes(pad: str | tuple, rank: int, name: str = "pad") -> tuple[int, ...]:
    """The symmetric pad of each axis: `valid` (and `same`, resolved per axis later) give zeros."""
    return per_axis(pad, rank, name) if isinstance(pad, tuple) else (0,) * rank


def window_shape(attrs: dict, ins: list[Input], channels: int | None, what: str) -> tuple[Shape, dict]:
    """Output C x spatial and explicit pads (begins of every axis, then ends: ONNX's order, for images
    (top, left, bottom, right)) for a windowed op; kernel, stride and dilation come back per axis."""
    shape = require_spatial(ins, what)
    rank = len(shape) - 1
    axes = window_axes(attrs, rank)
    kernel, stride, dilation = axes["kernel"], axes["stride"], axes["dilation"]
    pad = attrs["pad"]
    pads = pad_axes(pad, rank)
    ceil = attrs.get("ceil", False)
    sizes = shape[1:]
    need = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if pad != "same" and any(i + 2 * p < n for i, p, n in zip(sizes, pads, need)):
        padded = f" (padded {fmt_shape(tuple(i + 2 * p for i, p in zip(sizes, pads)))})" if any(pads) else ""
        raise ShapeError(
            f"needs an input of at least {fmt_shape(need)}, but {ins[0].name} gives {fmt_shape(ins[0].shape)}{padded}"
        )
    per = [
        axis_output(i, k, s, d, "same" if pad == "same" else p, ceil)
        for i, k, s, d, p in zip(sizes, kernel, stride, dilation, pads)
    ]
    out = tuple(o for o, _, _ in per)
    begins, ends = tuple(b for _, b, _ in per), tuple(e for _, _, e in per)
    derived = {
        **axes,
        "pads": begins + ends,
        "unread": tuple(
            unread(i, o, k, s, d, b) for i, o, k, s, d, b in zip(sizes, out, kernel, stride, dilation, begins)
        ),
    }
    return (channels if channels is not None else shape[0], *out), derived


def defaults(op_name: str) -> dict:
    """The attributes of `activation=NAME`: that op's own defaults (gelu's approximate, elu's alpha)."""
    from netdsl import ops  # the registry imports this module

    return {arg.name: arg.coerce(arg.default, arg.name) for arg in ops.REGISTRY[op_name].args}


def with_activation(op: str):
    def expand(attrs: dict) -> list[tuple[str, dict, str]]:
        act = attrs.get("activation", "none")
        core = {k: v for k, v in attrs.items() if k != "activation"}
        steps = [(op, core, "")]
        if act not in ("none", "identity"):
            steps.append((act, defaults(act), f"_{act}"))
        return steps

    return expand
