"""The loss head: which loss, fused with a final softmax or sigmoid when there is one."""

from __future__ import annotations

import numpy as np

from netdsl.backends.numpy import losses
from netdsl.backends.numpy.ops.activation import sigmoid
from netdsl.ir.graph import Graph
from netdsl.train.settings import FUSED_HEADS

Array = np.ndarray
REGRESSION_LOSSES = {"mse": losses.mse, "mae": losses.mae, "huber": losses.huber}


class Objective:
    """Loss and its gradient at the point where backpropagation starts."""

    def __init__(self, graph: Graph, loss: str, metric: str | None = "accuracy"):
        self.loss = loss
        self.metric = metric  # accuracy, mae, rmse or None: what is recorded beside the loss
        last = graph.output
        fused = FUSED_HEADS.get(loss) == last.op
        # backpropagation starts at the input of a fused final activation
        self.stop_before = last.name if fused else None
        self.start = last.inputs[0] if fused else last.name

    def __call__(self, out: Array, y: Array) -> tuple[float, Array]:
        if self.loss == "cross_entropy":
            return losses.cross_entropy_from_logits(out, y)
        target = targets_like(out, y)
        if self.loss in REGRESSION_LOSSES:
            return REGRESSION_LOSSES[self.loss](out, target)
        if self.stop_before:
            return losses.binary_cross_entropy_from_logits(out, target)
        return losses.binary_cross_entropy(out, target)

    def scores(self, out: Array) -> Array:
        """What accuracy compares: class scores, or probabilities for binary cross-entropy."""
        if self.loss == "binary_cross_entropy" and self.stop_before:
            return sigmoid(out)
        return out

    def metric_term(self, out: Array, y: Array) -> float:
        """The batch's mean of what the metric averages (for rmse the squared error: the root is taken by
        `finish_metric` over all samples); nan with no metric."""
        if self.metric in ("mae", "rmse"):
            error = self.scores(out) - targets_like(out, y)
            return float(np.mean(np.abs(error) if self.metric == "mae" else error * error, dtype=np.float64))
        if self.metric == "accuracy":
            return self.accuracy(out, y)
        return float("nan")

    def finish_metric(self, mean_term: float) -> float:
        """The metric from the mean of its terms over the samples: the square root for rmse."""
        return float(np.sqrt(mean_term)) if self.metric == "rmse" else mean_term

    def accuracy(self, out: Array, y: Array) -> float:
        """The share of correct classes; nan for an image output (an autoencoder's), which has no classes."""
        scores = self.scores(out)
        if scores.ndim > 2:
            return float("nan")
        if self.loss in REGRESSION_LOSSES and scores.ndim == 2 and scores.shape[1] == 1:
            return float(np.mean(np.round(scores[:, 0]) == y.reshape(-1)))
        return float(losses.accuracy(scores, y))


def targets_like(out: Array, y: Array) -> Array:
    """Targets of the output's shape; class indices for K > 1 outputs become one-hot rows, as Keras users expect."""
    y = np.asarray(y)
    if y.shape == out.shape[:-1] and out.shape[-1] > 1:
        if not np.issubdtype(y.dtype, np.integer) or (y.size and (y.min() < 0 or y.max() >= out.shape[-1])):
            raise ValueError(
                f"class labels for {out.shape[-1]} outputs must be integers in [0, {out.shape[-1]}), "
                f"received {y.dtype} labels" + (f" from {y.min()} to {y.max()}" if y.size else "")
            )
        return np.eye(out.shape[-1], dtype=out.dtype)[y]
    if y.size != out.size:
        raise ValueError(
            f"targets of shape {y.shape} do not fit outputs of shape {out.shape}: "
            "give targets of the output's shape, or class indices for a K-output layer"
        )
    return y.reshape(out.shape).astype(out.dtype)
