"""Each op's NCHW NumPy reference: the semantics every backend matches. Channels come first at every rank:
N x C x L sequences, N x C x H x W images, N x C x D x H x W volumes.

The generated NumPy module copies the functions its layers call from here (netdsl.codegen reads their
source), and the tests hold the NumPy backend's fast NHWC kernels to them. `@reference(OP)` registers a
function as an op's reference; helpers without it (pad, windows) serve the others. Only numpy is used,
and no function refers to netdsl: the source must run on its own in a generated file.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from netdsl.ops.activation import (
    ELU,
    GELU,
    HARDSIGMOID,
    HARDSWISH,
    MISH,
    PRELU,
    RELU6,
    SELU,
    SIGMOID,
    SOFTMAX,
    SOFTPLUS,
)
from netdsl.ops.base import OpDef
from netdsl.ops.conv import CONV, DECONV, DWCONV
from netdsl.ops.embedding import EMBEDDING
from netdsl.ops.normalization import BATCHNORM, GROUPNORM, LAYERNORM, LRN, SCALE
from netdsl.ops.pool import AVGPOOL, MAXPOOL
from netdsl.ops.resample import SHUFFLE, UPSAMPLE, ZEROPAD

REFERENCES: dict[str, Callable] = {}


def reference(op: OpDef) -> Callable[[Callable], Callable]:
    """Register a function as the NCHW reference of `op`."""

    def register(fn: Callable) -> Callable:
        REFERENCES[op.name] = fn
        return fn

    return register


def pad(x: np.ndarray, pads: tuple[int, ...], value: float = 0.0) -> np.ndarray:
    """Pad the spatial axes of an N x C x ... array (a sequence, an image or a volume): pads are the begins of
    each axis, then the ends ((top, left, bottom, right) for an image)."""
    if not any(pads):
        return x
    rank = len(pads) // 2
    return np.pad(x, ((0, 0), (0, 0), *zip(pads[:rank], pads[rank:])), constant_values=value)


def windows(
    x: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...] | None = None
) -> np.ndarray:
    """A read-only view (N, C, *outputs, *kernel) of every window of a padded N x C x ... array."""
    rank = len(kernel)
    dilation = dilation or (1,) * rank
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = np.lib.stride_tricks.sliding_window_view(x, spans, axis=tuple(range(2, 2 + rank)))
    steps = (*(slice(None, None, s) for s in stride), *(slice(None, None, d) for d in dilation))
    return view[(slice(None), slice(None), *steps)]


@reference(CONV)
@reference(DWCONV)  # a conv with one group per channel (its filters and groups come from the input)
def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: tuple[int, ...],
    pads: tuple[int, ...],
    dilation: tuple[int, ...] | None = None,
    groups: int = 1,
) -> np.ndarray:
    """Convolution of x (N x C x L, N x C x H x W or N x C x D x H x W) with an (O, C / groups, *kernel)
    weight: im2col, then one matrix product per group."""
    n, o, cg, kernel = len(x), w.shape[0], w.shape[1], w.shape[2:]
    rank = len(kernel)
    win = windows(pad(x, pads), kernel, stride, dilation)
    out = win.shape[2 : 2 + rank]
    taps = cg * int(np.prod(kernel))
    order = (0, 1, *range(2 + rank, 2 + 2 * rank), *range(2, 2 + rank))
    cols = win.transpose(order).reshape(n, groups, taps, -1)
    y = np.matmul(w.reshape(groups, o // groups, taps), cols).reshape(n, o, *out)
    return y if b is None else y + b.reshape(1, o, *(1,) * rank)


@reference(MAXPOOL)
def maxpool2d(x: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...], pads: tuple[int, ...]) -> np.ndarray:
    """Max over each window (of any rank); the padding is -inf, so it never wins."""
    return windows(pad(x, pads, -np.inf), kernel, stride).max(axis=tuple(range(-len(kernel), 0)))


@reference(AVGPOOL)
def avgpool2d(x: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...], pads: tuple[int, ...]) -> np.ndarray:
    """Mean over each window (of any rank), dividing by the number of real (not padded) inputs in it."""
    axes = tuple(range(-len(kernel), 0))
    total = windows(pad(x, pads), kernel, stride).sum(axis=axes)
    count = windows(pad(np.ones((1, 1) + x.shape[2:], x.dtype), pads), kernel, stride).sum(axis=axes)
    return total / count


@reference(BATCHNORM)
def batchnorm(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray, eps: float
) -> np.ndarray:
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
    total = sum(squares[:, i : i + x.shape[1]] for i in range(size))
    return x / (k + alpha / size * total) ** beta


# ---- the section-9 activations (PyTorch's formulas) ----


def erf(x: np.ndarray) -> np.ndarray:
    """The error function to double precision (NumPy has none): below 3 the series
    2/sqrt(pi) exp(-x^2) sum x (2x^2)^n / (2n+1)!!, whose terms are all positive; above it 1 - erfc with
    erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), a continued fraction."""
    a = np.abs(x.astype(np.float64))
    small = np.minimum(a, 3.0)
    term = small.copy()
    total = small.copy()
    for n in range(1, 64):
        term = term * (2.0 * small * small) / (2 * n + 1)
        total = total + term
    series = 2.0 / np.sqrt(np.pi) * np.exp(-small * small) * total
    large = np.maximum(a, 3.0)
    fraction = large.copy()
    for k in range(60, 0, -1):
        fraction = large + (k / 2.0) / fraction
    tail = 1.0 - np.exp(-large * large) / (np.sqrt(np.pi) * fraction)
    return (np.sign(x) * np.where(a < 3.0, series, tail)).astype(x.dtype)


@reference(GELU)
def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """x * Phi(x), or its tanh approximation."""
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh((2.0 / np.pi) ** 0.5 * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + erf(x * 0.5**0.5))


@reference(RELU6)
def relu6(x: np.ndarray) -> np.ndarray:
    """min(max(x, 0), 6)."""
    return np.clip(x, 0.0, 6.0)


@reference(HARDSIGMOID)
def hardsigmoid(x: np.ndarray) -> np.ndarray:
    """relu6(x + 3) / 6."""
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


@reference(HARDSWISH)
def hardswish(x: np.ndarray) -> np.ndarray:
    """x * relu6(x + 3) / 6."""
    return x * (np.clip(x + 3.0, 0.0, 6.0) / 6.0)


@reference(ELU)
def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """x above 0, alpha * (exp(x) - 1) below."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


@reference(SELU)
def selu(x: np.ndarray) -> np.ndarray:
    """scale * elu(x, alpha) with the self-normalizing constants."""
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


@reference(SOFTPLUS)
def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)); x itself above 20 (PyTorch's threshold)."""
    return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0))))


@reference(MISH)
def mish(x: np.ndarray) -> np.ndarray:
    """x * tanh(softplus(x))."""
    return x * np.tanh(softplus(x))


def per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """A per-channel vector shaped to broadcast over axis 1 of an array of `ndim` axes."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


@reference(PRELU)
def prelu(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """x above 0, weight[c] * x below, one slope per channel (axis 1)."""
    return np.where(x > 0, x, per_channel(weight, x.ndim) * x)


# ---- normalizations and layer scale ----


@reference(LAYERNORM)
def layernorm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Normalize over axis 1 (the channels) at each position; biased variance (ConvNeXt's LayerNorm2d)."""
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * per_channel(weight, x.ndim) + per_channel(bias, x.ndim)


@reference(GROUPNORM)
def groupnorm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, groups: int, eps: float = 1e-5) -> np.ndarray:
    """Normalize each group of C / groups channels over those channels and all positions."""
    grouped = x.reshape(len(x), groups, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    var = ((grouped - mean) ** 2).mean(axis=2, keepdims=True)
    y = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    return y * per_channel(weight, x.ndim) + per_channel(bias, x.ndim)


@reference(SCALE)
def layer_scale(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """x times a learned factor per channel (layer scale)."""
    return x * per_channel(weight, x.ndim)


# ---- resampling ----


def interpolation_matrix(size: int, factor: int) -> np.ndarray:
    """(size*factor, size) weights of linear interpolation with half-pixel centres (align_corners=False)."""
    out = np.arange(size * factor)
    src = np.maximum((out + 0.5) / factor - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(int), size - 1)
    high = np.minimum(low + 1, size - 1)
    matrix = np.zeros((size * factor, size))
    np.add.at(matrix, (out, low), 1.0 - (src - low))
    np.add.at(matrix, (out, high), src - low)
    return matrix


@reference(UPSAMPLE)
def upsample(x: np.ndarray, factor: tuple[int, ...], mode: str = "nearest") -> np.ndarray:
    """Repeat each position (nearest) or interpolate linearly along each spatial axis in turn (bilinear; linear
    for a sequence, trilinear for a volume)."""
    for axis, f in enumerate(factor, start=2):
        if mode == "nearest":
            x = x.repeat(f, axis=axis)
        else:
            matrix = interpolation_matrix(x.shape[axis], f).astype(x.dtype)
            x = np.moveaxis(np.tensordot(matrix, x, axes=([1], [axis])), 0, axis)
    return x


@reference(DECONV)
def deconv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: tuple[int, ...],
    pads: tuple[int, ...],
    output_padding: tuple[int, ...] | None = None,
    dilation: tuple[int, ...] | None = None,
    groups: int = 1,
) -> np.ndarray:
    """Transposed conv of x (N x C x ..., any rank) with a (C, filters/groups, *kernel) weight: each input
    position adds its weighted kernel into the output at stride steps; then `pads` (the begins of each axis,
    then the ends) are cropped and `output_padding` zeros appended at the end of each axis (ONNX
    ConvTranspose)."""
    n, c, *sizes = x.shape
    _, og, *kernel = w.shape
    rank = len(sizes)
    dilation = dilation or (1,) * rank
    output_padding = output_padding or (0,) * rank
    full = tuple(
        (i - 1) * s + d * (k - 1) + 1 + p for i, s, d, k, p in zip(sizes, stride, dilation, kernel, output_padding)
    )
    y = np.zeros((n, groups, og, *full), x.dtype)
    xg = x.reshape(n, groups, c // groups, *sizes)
    wg = w.reshape(groups, c // groups, og, *kernel)
    every = (slice(None),) * 3
    for tap in np.ndindex(*kernel):
        part = np.einsum("ngc...,gco->ngo...", xg, wg[(*every, *tap)])
        where = tuple(slice(t * d, t * d + (i - 1) * s + 1, s) for t, d, i, s in zip(tap, dilation, sizes, stride))
        y[(*every, *where)] += part
    y = y.reshape(n, groups * og, *full)
    y = y[(slice(None), slice(None), *(slice(a, f - e) for a, e, f in zip(pads[:rank], pads[rank:], full)))]
    return y if b is None else y + b.reshape(1, -1, *(1,) * rank)


@reference(ZEROPAD)
def zeropad(x: np.ndarray, pads: tuple[int, ...]) -> np.ndarray:
    """Zeros around each spatial axis: pads are the begins of each axis, then the ends ((top, left, bottom,
    right) for an image)."""
    return pad(x, pads)


@reference(EMBEDDING)
def embedding(x: np.ndarray, weight: np.ndarray, as_image: bool = False) -> np.ndarray:
    """Token ids (N, L) -> each id's row of the table, channels first: (N, D, L), or as an image (N, 1, L, D)."""
    rows = weight[x.astype(np.int64)]
    return rows[:, None] if as_image else rows.transpose(0, 2, 1)


@reference(SHUFFLE)
def shuffle(x: np.ndarray, groups: int) -> np.ndarray:
    """ShuffleNet's channel shuffle (NCHW): channels as (groups, C/groups), transposed, flattened again."""
    n, c, h, w = x.shape
    return x.reshape(n, groups, c // groups, h, w).swapaxes(1, 2).reshape(n, c, h, w)
