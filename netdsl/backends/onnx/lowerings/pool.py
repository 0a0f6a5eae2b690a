"""Pooling as ONNX MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool."""

from __future__ import annotations

from netdsl.backends.onnx.lower import Lowering, spatial_attrs
from netdsl.backends.onnx.registry import lowering
from netdsl.ops.pool import AVGPOOL, GLOBALAVGPOOL, GLOBALMAXPOOL, MAXPOOL


@lowering(MAXPOOL)
def lower_maxpool(low: Lowering) -> None:
    """maxpool: MaxPool; ceil mode is already explicit bottom/right padding, so ceil_mode=0."""
    low.emit("MaxPool", ceil_mode=0, **spatial_attrs(low.node.attrs))


@lowering(AVGPOOL)
def lower_avgpool(low: Lowering) -> None:
    """avgpool: AveragePool dividing by the real (unpadded) values in each window."""
    low.emit("AveragePool", ceil_mode=0, count_include_pad=0, **spatial_attrs(low.node.attrs))


@lowering(GLOBALAVGPOOL)
def lower_globalavgpool(low: Lowering) -> None:
    """globalavgpool: GlobalAveragePool, C x 1 x 1."""
    low.emit("GlobalAveragePool")


@lowering(GLOBALMAXPOOL)
def lower_globalmaxpool(low: Lowering) -> None:
    """globalmaxpool: GlobalMaxPool, C x 1 x 1."""
    low.emit("GlobalMaxPool")
