"""The NumPy backend as another backend may use it (the ONNX exporter's weights checks, seeded weights
and `--verify`): this module is the one interface between them."""

from __future__ import annotations

import numpy as np

from netdsl.backends.numpy.executor import Executor
from netdsl.backends.numpy.weights import WeightsError, check_tensors, expected_tensors, load_weights
from netdsl.ir.graph import Graph

__all__ = [
    "Executor",
    "WeightsError",
    "check_tensors",
    "executor",
    "expected_tensors",
    "load_weights",
    "seeded_weights",
]


def executor(graph: Graph) -> Executor:
    """A float32 executor for the graph."""
    return Executor(graph, dtype=np.float32)


def seeded_weights(graph: Graph, seed: int = 0) -> dict[str, np.ndarray]:
    """The backend's seeded initialization (netdsl.ir.init's plan), every parameter and buffer."""
    run = executor(graph)
    run.init_params(seed=seed)
    return run.state_dict()
