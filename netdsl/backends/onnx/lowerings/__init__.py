"""The ONNX lowerings, one module per op family; importing this package registers them all."""

from netdsl.backends.onnx.lowerings import activation, conv, core, embedding, merge, normalization, pool, resample

__all__ = ["activation", "conv", "core", "embedding", "merge", "normalization", "pool", "resample"]
