"""Window geometry on NHWC arrays: output sizes, padding, the strided view of one kernel tap."""

from __future__ import annotations

import numpy as np

from netdsl.backends.numpy.buffers import scratch

Array = np.ndarray
Pair = tuple[int, int]
Pads = tuple[int, int, int, int]


def conv_output_size(size: int, k: int, s: int, p0: int, p1: int, d: int = 1) -> int:
    """Output length of a convolution/pooling window along one axis."""
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def out_hw_of(x: Array, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair) -> Pair:
    """Output (Ho, Wo) for an NHWC input."""
    ho = conv_output_size(x.shape[1], kernel[0], stride[0], pads[0], pads[2], dilation[0])
    wo = conv_output_size(x.shape[2], kernel[1], stride[1], pads[1], pads[3], dilation[1])
    if ho <= 0 or wo <= 0:
        raise ValueError(f"window {kernel} does not fit input {x.shape[1:3]} with pads {pads}")
    return ho, wo


def pad_nhwc(x: Array, pads: Pads, value: float = 0.0, tag: str = "") -> Array:
    """Pad H and W of an NHWC array (returns ``x`` itself when pads are zero)."""
    top, left, bottom, right = pads
    if not any(pads):
        return x
    n, h, w, c = x.shape
    shape = (n, h + top + bottom, w + left + right, c)
    out = scratch(tag, shape, x.dtype) if tag else np.empty(shape, x.dtype)
    out[:, :top] = value
    out[:, top + h :] = value
    out[:, top : top + h, :left] = value
    out[:, top : top + h, left + w :] = value
    out[:, top : top + h, left : left + w] = x
    return out


def tap(xp: Array, i: int, j: int, out_hw: Pair, stride: Pair, dilation: Pair) -> tuple[slice, ...]:
    """Index selecting the (N, Ho, Wo, C) inputs seen by kernel offset (i, j)."""
    ho, wo = out_hw
    r0, c0 = i * dilation[0], j * dilation[1]
    return (
        slice(None),
        slice(r0, r0 + stride[0] * (ho - 1) + 1, stride[0]),
        slice(c0, c0 + stride[1] * (wo - 1) + 1, stride[1]),
    )


def kernel_taps(kernel: Pair) -> list[Pair]:
    """Kernel offsets in row-major order."""
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


def crop(dxp: Array, pads: Pads, shape: tuple[int, ...]) -> Array:
    """Remove the H/W padding of a padded NHWC gradient."""
    if not any(pads):
        return dxp
    return np.ascontiguousarray(dxp[:, pads[0] : pads[0] + shape[1], pads[1] : pads[1] + shape[2]])


def lift_sequence(kernel: tuple, stride: tuple, pads: tuple, dilation: tuple = (1,)) -> tuple:
    """A 1-D window (kernel, stride, (begin, end), dilation) as the 2-D window of a 1 x L image: sequences run
    through the image kernels at no extra cost."""
    return (1, *kernel), (1, *stride), (0, pads[0], 0, pads[1]), (1, *dilation)


def plane_pads(pads: tuple) -> Pads:
    """The (top, left, bottom, right) of a volume's (front, top, left, back, bottom, right) pads."""
    return (pads[1], pads[2], pads[4], pads[5])
