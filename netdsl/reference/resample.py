"""References of upsample, deconv (transposed conv) and zeropad."""

from __future__ import annotations

import numpy as np


def upsample_nearest(x: np.ndarray, scale: tuple[int, int]) -> np.ndarray:
    """Each pixel repeated scale times along H and W."""
    return x.repeat(scale[0], axis=2).repeat(scale[1], axis=3)


def bilinear_matrix(size: int, scale: int) -> np.ndarray:
    """(size*scale, size) weights of linear interpolation with half-pixel centres (align_corners=False)."""
    out = np.arange(size * scale)
    src = np.maximum((out + 0.5) / scale - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(int), size - 1)
    high = np.minimum(low + 1, size - 1)
    frac = src - low
    matrix = np.zeros((size * scale, size))
    np.add.at(matrix, (out, low), 1.0 - frac)
    np.add.at(matrix, (out, high), frac)
    return matrix


def upsample_bilinear(x: np.ndarray, scale: tuple[int, int]) -> np.ndarray:
    """Separable linear interpolation along H, then W (PyTorch's bilinear, align_corners=False)."""
    rows = bilinear_matrix(x.shape[2], scale[0]).astype(x.dtype)
    cols = bilinear_matrix(x.shape[3], scale[1]).astype(x.dtype)
    return np.einsum("ph,nchw,qw->ncpq", rows, x, cols, optimize=True)


def deconv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple[int, int],
             pads: tuple[int, int, int, int], output_padding: tuple[int, int] = (0, 0),
             dilation: tuple[int, int] = (1, 1), groups: int = 1) -> np.ndarray:
    """Transposed conv of NCHW x with a (C, filters/groups, kh, kw) weight: each input pixel adds its
    weighted kernel into the output at stride steps; then `pads` (top, left, bottom, right) are cropped
    and `output_padding` rows/columns appended at the bottom/right (ONNX ConvTranspose)."""
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    full_h, full_w = (h - 1) * sh + dh * (kh - 1) + 1, (wd - 1) * sw + dw * (kw - 1) + 1
    top, left, bottom, right = pads
    full = np.zeros((n, groups, og, full_h + output_padding[0], full_w + output_padding[1]), x.dtype)
    xg = x.reshape(n, groups, c // groups, h, wd)
    wg = w.reshape(groups, c // groups, og, kh, kw)
    for i in range(kh):
        for j in range(kw):
            contribution = np.einsum("ngchw,gco->ngohw", xg, wg[:, :, :, i, j])
            full[:, :, :, i * dh:i * dh + (h - 1) * sh + 1:sh, j * dw:j * dw + (wd - 1) * sw + 1:sw] += contribution
    y = full.reshape(n, groups * og, *full.shape[3:])
    y = y[:, :, top:y.shape[2] - bottom, left:y.shape[3] - right]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def zeropad(x: np.ndarray, pads: tuple[int, int, int, int]) -> np.ndarray:
    """Zeros around H and W: pads are (top, left, bottom, right)."""
    top, left, bottom, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))

