"""Scratch buffers shared by the NumPy kernels (not thread-safe: one kernel at a time per process)."""

from __future__ import annotations

import numpy as np

Array = np.ndarray

_SCRATCH: dict[tuple[str, str], Array] = {}
_ONES: dict[tuple[int, str], Array] = {}
_POOL: dict[tuple[tuple[int, ...], str], list[Array]] = {}
_POOL_DEPTH = 32  # free column buffers kept per shape (one per pending conv)


def scratch(tag: str, shape: tuple[int, ...], dtype: np.dtype) -> Array:
    """Reusable uninitialised buffer, one per tag (grown to the largest request).

    The result must not escape the calling kernel and two buffers with the same tag
    must never be alive at the same time.
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    buf = _SCRATCH.get((tag, dtype.str))
    if buf is None or buf.size < size:
        buf = _SCRATCH[(tag, dtype.str)] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


def pool_take(shape: tuple[int, ...], dtype: np.dtype) -> Array:
    """Take an uninitialised buffer from the pool (or allocate a fresh one)."""
    free = _POOL.get((tuple(shape), np.dtype(dtype).str))
    return free.pop() if free else np.empty(shape, dtype)


def pool_give(buf: Array) -> None:
    """Return a buffer obtained from ``_pool_take`` for later reuse."""
    free = _POOL.setdefault((buf.shape, buf.dtype.str), [])
    if len(free) < _POOL_DEPTH:
        free.append(buf)


def column_sum(a2: Array) -> Array:
    """Sum over the rows of a 2-D array as a BLAS GEMV (much faster than axis-0 sum)."""
    key = (a2.shape[0], a2.dtype.str)
    ones = _ONES.get(key)
    if ones is None:
        ones = _ONES[key] = np.ones(a2.shape[0], a2.dtype)
    return ones @ a2


def clear_buffers() -> None:
    """Drop every cached scratch buffer (frees memory; results are unaffected)."""
    _SCRATCH.clear()
    _ONES.clear()
    _POOL.clear()
