"""Shaping samples to a network's input (layout, channels, bilinear resize), labels and splits."""

from __future__ import annotations

import math

import numpy as np

from netdsl.data import DataError

COLOR_CHANNELS = (1, 3)
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601 weights


def format_input(shape: tuple[int, ...]) -> str:
    """Render a network input shape the way notices and errors show it: input(1, 28, 28)."""
    return "input(" + ", ".join(str(d) for d in shape) + ")"


def format_hw(h: int, w: int) -> str:
    """Render an image size as 8x8."""
    return f"{h}x{w}"


def describe(sample_shape: tuple[int, ...]) -> str:
    """Describe a per-sample shape for messages: 8x8 images, 3x32x32 images, vectors of 64."""
    if len(sample_shape) == 1:
        return f"vectors of {sample_shape[0]}"
    return "x".join(str(d) for d in sample_shape) + " images"


def check_input_shape(input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Validate a network input shape: (C, H, W) or (N,) with positive sizes."""
    shape = tuple(int(d) for d in input_shape)
    if len(shape) not in (1, 2, 3, 4) or any(d <= 0 for d in shape):
        raise DataError(
            f"network {format_input(shape)}: data can be shaped only to (C, H, W), (C, L), (C, D, H, W) or (N,)"
        )
    return shape


def interpolation_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The (n_out, n_in) float32 matrix of 1-D linear interpolation with half-pixel centers."""
    centers = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    centers = np.clip(centers, 0.0, n_in - 1)
    low = np.floor(centers).astype(np.intp)
    high = np.minimum(low + 1, n_in - 1)
    weight = centers - low
    matrix = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(matrix, (rows, low), 1.0 - weight)
    np.add.at(matrix, (rows, high), weight)
    return matrix.astype(np.float32)


def resize_bilinear(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize the last two axes of x to (height, width), bilinear with half-pixel centers, float32."""
    x = np.asarray(x, dtype=np.float32)
    *lead, h_in, w_in = x.shape
    if (h_in, w_in) == (height, width):
        return x
    rows = interpolation_matrix(h_in, height)
    cols = interpolation_matrix(w_in, width)
    # Along W as one large matrix product, then along H as a batched one.
    along_w = (x.reshape(-1, w_in) @ cols.T).reshape(-1, h_in, width)
    return np.matmul(rows, along_w).reshape(*lead, height, width)


def _as_chw(x: np.ndarray, input_shape: tuple[int, ...], name: str, notices: list[str]) -> np.ndarray:
    """View samples as (n, C, H, W) images; vectors whose length is a square become 1xSxS images."""
    if x.ndim == 3:
        return x[:, None, :, :]
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise DataError(f"{name}: cannot fit {describe(x.shape[1:])} to {format_input(input_shape)}")
        notices.append(f"{name}: read {describe(x.shape[1:])} as 1x{side}x{side} images")
        return x.reshape(len(x), 1, side, side)
    sample = x.shape[1:]
    if len(input_shape) == 3 and sample == input_shape:
        return x
    if sample[2] in COLOR_CHANNELS and sample[0] not in COLOR_CHANNELS:
        notices.append(
            f"{name}: moved the channels of {describe(sample)} first (HxWxC -> CxHxW) "
            f"to fit {format_input(input_shape)}"
        )
        return np.moveaxis(x, 3, 1)  # HWC -> CHW
    if sample[0] in COLOR_CHANNELS or (len(input_shape) == 3 and sample[0] == input_shape[0]):
        return x
    raise DataError(
        f"{name}: cannot tell the channel axis of {describe(sample)} "
        f"(expected CHW or HWC with 1 or 3 channels) for {format_input(input_shape)}"
    )


def _fit_channels(
    x: np.ndarray, channels: int, input_shape: tuple[int, ...], name: str, notices: list[str]
) -> np.ndarray:
    """Match the channel count: replicate gray to many, or RGB to gray by luma; else an error."""
    have = x.shape[1]
    if have == channels:
        return x
    if have == 1:
        notices.append(f"{name}: replicated 1 channel -> {channels} to fit {format_input(input_shape)}")
        return np.repeat(x, channels, axis=1)
    if have == 3 and channels == 1:
        notices.append(f"{name}: converted 3 channels (RGB) -> 1 (gray) to fit {format_input(input_shape)}")
        return np.tensordot(x, LUMA, axes=([1], [0]))[:, None].astype(np.float32, copy=False)
    raise DataError(f"{name}: cannot fit {describe(x.shape[1:])} ({have} channels) to {format_input(input_shape)}")


def _fit_image(x: np.ndarray, input_shape: tuple[int, ...], name: str, notices: list[str]) -> np.ndarray:
    """Fit (n, C, H, W) images to a (C, H, W) input: channels, then bilinear resize."""
    channels, height, width = input_shape
    widen = x.shape[1] < channels  # resize before replicating channels: less work
    if not widen:
        x = _fit_channels(x, channels, input_shape, name, notices)
    h, w = x.shape[2], x.shape[3]
    if (h, w) != (height, width):
        notices.append(
            f"{name}: resized {format_hw(h, w)} -> {format_hw(height, width)} to fit {format_input(input_shape)}"
        )
        x = resize_bilinear(x, height, width)
    if widen:
        x = _fit_channels(x, channels, input_shape, name, notices)
    return x


def _square_target(x: np.ndarray, size: int) -> tuple[int, int] | None:
    """For a vector input of `size`, the (C, S) with C*S*S == size that images x could be resized to."""
    channels = x.shape[1]
    if size % channels:
        return None
    side = math.isqrt(size // channels)
    return (channels, side) if side * side * channels == size else None


def _fit_vector(x: np.ndarray, input_shape: tuple[int, ...], name: str, notices: list[str]) -> np.ndarray:
    """Fit samples to an (N,) input: flatten when sizes match, else resize square images first."""
    (size,) = input_shape
    flat = x.reshape(len(x), -1)
    if flat.shape[1] == size:
        if x.ndim > 2:
            notices.append(
                f"{name}: flattened {describe(x.shape[1:])} to vectors of {size} to fit {format_input(input_shape)}"
            )
        return flat
    if x.ndim == 2 and math.isqrt(x.shape[1]) ** 2 != x.shape[1]:
        raise DataError(f"{name}: cannot fit {describe(x.shape[1:])} to {format_input(input_shape)}")
    images = _as_chw(x, input_shape, name, [])  # the resize notice below says it all
    target = _square_target(images, size)
    if target is None:
        raise DataError(
            f"{name}: cannot fit {describe(x.shape[1:])} ({flat.shape[1]} values) to {format_input(input_shape)}"
        )
    side = target[1]
    h, w = images.shape[2], images.shape[3]
    notices.append(
        f"{name}: resized {format_hw(h, w)} -> {format_hw(side, side)} and flattened to fit {format_input(input_shape)}"
    )
    return resize_bilinear(images, side, side).reshape(len(x), size)


def fit_to_input(x: np.ndarray, input_shape: tuple[int, ...], name: str = "data") -> tuple[np.ndarray, list[str]]:
    """Shape samples (n, ...) to float32 (n, *input_shape) (NCHW or flat); returns the array and notices."""
    input_shape = check_input_shape(input_shape)
    x = np.asarray(x)
    if len(input_shape) in (2, 4):
        return _fit_exactly(x, input_shape, name)
    if x.ndim not in (2, 3, 4):
        raise DataError(
            f"{name}: samples must be vectors (n, N), gray images (n, H, W) or color images "
            f"(n, C, H, W)/(n, H, W, C); got an array of shape {x.shape}"
        )
    x = x.astype(np.float32, copy=False)
    notices: list[str] = []
    if len(input_shape) == 1:
        if x.ndim == 4:
            x = _as_chw(x, input_shape, name, notices)
        out = _fit_vector(x, input_shape, name, notices)
    elif x.ndim == 2 and x.shape[1] == math.prod(input_shape):
        notices.append(
            f"{name}: read {describe(x.shape[1:])} as {describe(input_shape)} to fit {format_input(input_shape)}"
        )
        out = x.reshape(len(x), *input_shape)
    else:
        out = _fit_image(_as_chw(x, input_shape, name, notices), input_shape, name, notices)
    return np.ascontiguousarray(out, dtype=np.float32), notices


def _fit_exactly(x: np.ndarray, input_shape: tuple[int, ...], name: str) -> tuple[np.ndarray, list[str]]:
    """Sequences (C, L) and volumes (C, D, H, W): samples of exactly that shape, or flat ones of its size."""
    if x.shape[1:] == input_shape:
        return np.ascontiguousarray(x, dtype=np.float32), []
    if x.ndim == 2 and x.shape[1] == math.prod(input_shape):
        notice = f"{name}: read vectors of {x.shape[1]} as {'x'.join(map(str, input_shape))} samples"
        return np.ascontiguousarray(x.reshape(len(x), *input_shape), dtype=np.float32), [notice]
    kind = "sequences" if len(input_shape) == 2 else "volumes"
    raise DataError(
        f"{name}: samples of shape {x.shape[1:]} do not fit {format_input(input_shape)}: {kind} take "
        f"samples (n, {', '.join(map(str, input_shape))}) channels first, or flat ones of "
        f"{math.prod(input_shape)} values"
    )


MAX_CLASS_INDEX = 2**31 - 1


def labels_to_classes(y: np.ndarray, name: str) -> np.ndarray:
    """Turn labels into int64 class indices (1-D, integral, non-negative); one-hot rows become argmax."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and _is_one_hot(y):
        y = np.argmax(y, axis=1)
    if y.ndim != 1:
        raise DataError(f"{name}: labels must be 1-D class indices, got shape {y.shape}")
    if y.dtype.kind not in "biuf":
        raise DataError(f"{name}: labels must be numeric class indices, got dtype {y.dtype}")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            index = int(np.argmax(bad))
            raise DataError(
                f"{name}: label {y[index].item():g} at index {index} is not an integer "
                "(real numbers to fit: target = values in the train section)"
            )
    if y.size and y.dtype.kind in "uf" and y.max() > MAX_CLASS_INDEX:  # int64 would wrap it to a negative
        index = int(np.argmax(y))
        raise DataError(
            f"{name}: label {y[index].item():g} at index {index} is too large for a class index "
            f"(at most {MAX_CLASS_INDEX:,})"
        )
    out = y.astype(np.int64)
    if out.size and out.min() < 0:
        raise DataError(f"{name}: label {int(out.min())} is negative; labels must be class indices 0, 1, ...")
    return out


def labels_to_values(y: np.ndarray, name: str) -> np.ndarray:
    """Real-valued targets (regression, `target = values`): float32, one value (or one row) per sample."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise DataError(f"{name}: targets must be numbers, got dtype {y.dtype}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    bad = ~np.isfinite(y)
    if bad.any():
        index = int(np.argmax(bad.reshape(len(y), -1).any(axis=1)))
        raise DataError(f"{name}: the target of sample {index} is not a finite number")
    return np.ascontiguousarray(y, dtype=np.float32)


def holds_values(y: np.ndarray) -> bool:
    """Whether labels are real numbers rather than class indices: some are not integers."""
    y = np.asarray(y)
    return y.dtype.kind == "f" and bool(np.isfinite(y).all()) and bool((y != np.round(y)).any())


def _is_one_hot(y: np.ndarray) -> bool:
    """Whether a 2-D label array is one-hot (each row all zeros but a single one)."""
    if y.dtype.kind not in "biuf" or y.size == 0:
        return False
    return bool(np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all())


def split_indices(n: int, val_split: float, seed: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Seeded shuffled (train, validation) index arrays with round(n * val_split) validation samples."""
    if not 0.0 <= val_split < 1.0:
        raise DataError(f"{name}: val_split must be in [0, 1), got {val_split}")
    n_val = round(n * val_split)
    if val_split > 0 and n_val == 0 and n > 1:
        n_val = 1
    if n - n_val < 1:
        raise DataError(f"{name}: {n} samples are too few to keep {n_val} for validation")
    order = np.random.default_rng(seed).permutation(n)
    return order[n_val:], order[:n_val]
