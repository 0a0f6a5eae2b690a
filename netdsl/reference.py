"""Each op's NCHW NumPy reference: the semantics every backend matches.

The generated NumPy module copies the functions its layers call from here (netdsl.codegen reads their
source), and the tests hold the NumPy backend's fast NHWC kernels to them. `@reference(OP)` registers a
function as an op's reference; helpers without it (pad, windows) serve the others. Only numpy is used,
and no function refers to netdsl: the source must run on its own in a generated file.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from netdsl.ops.base import OpDef
from netdsl.ops.elementwise import BATCHNORM, LRN, SIGMOID, SOFTMAX
from netdsl.ops.spatial import AVGPOOL, CONV, MAXPOOL

REFERENCES: dict[str, Callable] = {}


def reference(op: OpDef) -> Callable[[Callable], Callable]:
    """Register a function as the NCHW reference of `op`."""
    def register(fn: Callable) -> Callable:
        REFERENCES[op.name] = fn
        return fn

    return register


def pad(x: np.ndarray, pads: tuple[int, int, int, int], value: float = 0.0) -> np.ndarray:
    """Pad H and W of an NCHW array by (top, left, bottom, right)."""
    top, left, bottom, right = pads
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
            dilation: tuple[int, int] = (1, 1)) -> np.ndarray:
    """A read-only view (N, C, OH, OW, KH, KW) of every window of a padded NCHW array."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    view = np.lib.stride_tricks.sliding_window_view(x, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]


@reference(CONV)
def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple[int, int],
           pads: tuple[int, int, int, int], dilation: tuple[int, int] = (1, 1), groups: int = 1) -> np.ndarray:
    """Convolution of NCHW x with an OIHW weight: im2col, then one matrix product per group."""
    n, (o, cg, kh, kw) = len(x), w.shape
    win = windows(pad(x, pads), (kh, kw), stride, dilation)
    oh, ow = win.shape[2:4]
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(n, groups, cg * kh * kw, oh * ow)
    y = np.matmul(w.reshape(groups, o // groups, cg * kh * kw), cols).reshape(n, o, oh, ow)
    return y if b is None else y + b.reshape(1, o, 1, 1)


@reference(MAXPOOL)
def maxpool2d(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
              pads: tuple[int, int, int, int]) -> np.ndarray:
    """Max over each window; the padding is -inf, so it never wins."""
    win = windows(pad(x, pads, -np.inf), kernel, stride)
    y = win[..., 0, 0].copy()
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            np.maximum(y, win[..., i, j], out=y)
    return y


@reference(AVGPOOL)
def avgpool2d(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
              pads: tuple[int, int, int, int]) -> np.ndarray:
    """Mean over each window, dividing by the number of real (not padded) inputs in it."""
    total = windows(pad(x, pads), kernel, stride).sum(axis=(4, 5))
    count = windows(pad(np.ones((1, 1) + x.shape[2:], x.dtype), pads), kernel, stride).sum(axis=(4, 5))
    return total / count


@reference(BATCHNORM)
def batchnorm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, running_mean: np.ndarray,
              running_var: np.ndarray, eps: float) -> np.ndarray:
    """Batch norm at inference: the running statistics, per channel (axis 1)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    scale = (1 / np.sqrt(running_var + eps)).reshape(shape)
    return (x - running_mean.reshape(shape)) * scale * weight.reshape(shape) + bias.reshape(shape)


@reference(SIGMOID)
def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@reference(SOFTMAX)
def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the channels (axis 1)."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@reference(LRN)
def lrn(x: np.ndarray, size: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """ONNX LRN: x / (k + alpha / size * the sum of x^2 over `size` neighbouring channels) ** beta."""
    before = (size - 1) // 2
    squares = np.pad(x * x, ((0, 0), (before, size - 1 - before), (0, 0), (0, 0)))
    total = sum(squares[:, i:i + x.shape[1]] for i in range(size))
    return x / (k + alpha / size * total) ** beta
