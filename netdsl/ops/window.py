"""The window geometry that conv and pooling share (shape rules of LANGUAGE.md section 4), and the
`activation=` argument's expansion."""

from __future__ import annotations

from netdsl.ops.base import Input, Shape, ShapeError, fmt_shape


def require_image(ins: list[Input], what: str) -> Shape:
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
    c, h, w = require_image(ins, what)
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
