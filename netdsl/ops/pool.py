"""Pooling: max and average windows, global max and average. Shape rules of LANGUAGE.md section 4."""

from __future__ import annotations

from netdsl.ops.base import Arg, Input, OpDef, Shape, ShapeError, boolean, fmt_shape, padding, pair, per_axis
from netdsl.ops.window import pad_axes, require_spatial, spatial_rank, window_shape


def _pool_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    rank = spatial_rank(ins, "pooling")
    kernel = per_axis(attrs["kernel"], rank, "size")
    pad = attrs["pad"]
    pads = pad_axes(pad, rank)
    if isinstance(pad, tuple) and any(p > k // 2 for p, k in zip(pads, kernel)):
        halves = tuple(k // 2 for k in kernel)
        raise ShapeError(
            f"has pad={fmt_shape(pads)}, but pooling pads at most half the window "
            f"({fmt_shape(halves)} for {fmt_shape(kernel)})"
        )
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
    c, *sizes = require_spatial(ins, "global pooling")
    return (c, *(1,) * len(sizes)), {"kernel": tuple(sizes), "stride": (1,) * len(sizes)}


GLOBALAVGPOOL = OpDef(
    name="globalavgpool",
    aliases=("gap", "globalaveragepool", "globalaveragepooling2d"),
    infer=_global_infer,
    receptive="window",
    traits=frozenset({"pool"}),
)
GLOBALMAXPOOL = OpDef(
    name="globalmaxpool",
    aliases=("globalmaxpooling2d",),
    infer=_global_infer,
    receptive="window",
    traits=frozenset({"pool"}),
)

OPS = (MAXPOOL, AVGPOOL, GLOBALAVGPOOL, GLOBALMAXPOOL)
