"""Loss functions returning ``(mean_loss, dpred)`` for the NumPy backend.

Reductions follow Keras: cross-entropy sums over classes and averages over the
samples; ``mse``, ``mae``, ``huber`` and the binary cross-entropies average over every element.
Losses are Python floats; gradients keep the prediction dtype.
"""

from __future__ import annotations

import numpy as np

from netdsl.backends.numpy.kernels import sigmoid

Array = np.ndarray

BCE_EPSILON = 1e-7
HUBER_DELTA = 1.0  # PyTorch's and Keras' default


def _rows(a: Array) -> Array:
    """View (..., K) as (M, K)."""
    return a.reshape(-1, a.shape[-1])


def log_softmax(logits: Array) -> Array:
    """Stable log-softmax over the last axis."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy_from_logits(logits: Array, y: Array) -> tuple[float, Array]:
    """Softmax cross-entropy; ``y`` is class indices (N,) or target rows (N, K).

    Returns ``(mean_loss, dlogits)``.  Logits of shape (..., K) are treated as
    independent rows (labels then have shape (...)).
    """
    z = _rows(logits)
    m = z.shape[0]
    logp = log_softmax(z)
    p = np.exp(logp)
    y = np.asarray(y)
    if y.ndim == logits.ndim - 1:
        labels = y.reshape(-1).astype(np.intp, copy=False)
        if labels.shape[0] != m:
            raise ValueError(f"labels shape {y.shape} does not match logits {logits.shape}")
        loss = -float(logp[np.arange(m), labels].sum(dtype=np.float64)) / m
        grad = p
        grad[np.arange(m), labels] -= 1
    else:
        t = _rows(y).astype(z.dtype, copy=False)
        if t.shape != z.shape:
            raise ValueError(f"targets shape {y.shape} does not match logits {logits.shape}")
        loss = -float((t * logp).sum(dtype=np.float64)) / m
        grad = p * t.sum(axis=1, keepdims=True) - t
    grad *= 1.0 / m
    return loss, grad.reshape(logits.shape)


def mse(pred: Array, target: Array) -> tuple[float, Array]:
    """Mean squared error over all elements."""
    diff = pred - np.asarray(target, dtype=pred.dtype)
    loss = float((diff * diff).sum(dtype=np.float64)) / diff.size
    return loss, diff * (2.0 / diff.size)


def mae(pred: Array, target: Array) -> tuple[float, Array]:
    """Mean absolute error over all elements (PyTorch's L1Loss); the gradient at a zero difference is 0."""
    diff = pred - np.asarray(target, dtype=pred.dtype)
    loss = float(np.abs(diff).sum(dtype=np.float64)) / diff.size
    return loss, np.sign(diff) * (1.0 / diff.size)


def huber(pred: Array, target: Array, delta: float = HUBER_DELTA) -> tuple[float, Array]:
    """Huber loss over all elements (PyTorch's HuberLoss, Keras' Huber): squared below delta, linear above."""
    diff = pred - np.asarray(target, dtype=pred.dtype)
    size = np.abs(diff)
    small = size <= delta
    elementwise = np.where(small, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    loss = float(elementwise.sum(dtype=np.float64)) / diff.size
    grad = np.where(small, diff, delta * np.sign(diff)) * (1.0 / diff.size)
    return loss, grad.astype(pred.dtype, copy=False)


def binary_cross_entropy(probs: Array, target: Array, eps: float = BCE_EPSILON) -> tuple[float, Array]:
    """BCE on probabilities clipped to [eps, 1-eps]; mean over all elements.

    The gradient is taken at the clipped probability (straight-through), so a
    saturated prediction still gets a learning signal.
    """
    t = np.asarray(target, dtype=probs.dtype)
    p = np.clip(probs, eps, 1 - eps)
    nll = -(t * np.log(p) + (1 - t) * np.log1p(-p))
    loss = float(nll.sum(dtype=np.float64)) / p.size
    grad = ((p - t) / (p * (1 - p))) * (1.0 / p.size)
    return loss, grad


def binary_cross_entropy_from_logits(logits: Array, target: Array) -> tuple[float, Array]:
    """Stable sigmoid + BCE fused; mean over all elements."""
    t = np.asarray(target, dtype=logits.dtype)
    nll = np.maximum(logits, 0) - logits * t + np.log1p(np.exp(-np.abs(logits)))
    loss = float(nll.sum(dtype=np.float64)) / logits.size
    return loss, (sigmoid(logits) - t) * (1.0 / logits.size)


def accuracy(scores: Array, y: Array, threshold: float = 0.5) -> float:
    """Fraction of correct predictions.

    ``scores`` (N, K) with K > 1: argmax against int labels or the argmax of
    one-hot rows.  ``scores`` with a single column (or 1-D): binary decision
    ``score > threshold`` (use 0.5 for probabilities, 0.0 for logits).
    """
    s = np.asarray(scores)
    y = np.asarray(y)
    if s.ndim == 1 or s.shape[-1] == 1:
        pred = (s.reshape(-1) > threshold).astype(np.int64)
        truth = (y.reshape(-1) > 0.5).astype(np.int64)
    else:
        pred = _rows(s).argmax(axis=1)
        truth = y.reshape(-1) if np.issubdtype(y.dtype, np.integer) else _rows(y).argmax(axis=1)
    if pred.shape != truth.shape:
        raise ValueError(f"scores {s.shape} and labels {y.shape} do not match")
    return float((pred == truth).mean()) if pred.size else 0.0
