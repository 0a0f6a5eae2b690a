"""The ONNX lowerings, one module per op family; importing this package registers them all."""

from netdsl.backends.onnx.lowerings import activation, conv, core, merge, normalization, pool, resample

__all__ = ["activation", "conv", "core", "merge", "normalization", "pool", "resample"]
