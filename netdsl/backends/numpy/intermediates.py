"""Intermediate activations: the output of any layer, from the executor's own forward pass."""

from __future__ import annotations

import numpy as np

from netdsl.backends.numpy.executor import Executor
from netdsl.ir.graph import Graph


def layer_output(executor: Executor, x: np.ndarray, name: str) -> np.ndarray:
    """The output of layer `name` for the batch x (NCHW or vectors, as forward returns), at inference.

    Runs the executor's forward on the graph cut after `name` (the layer and what it depends on), with
    the same tensors, so the values are exactly those of a full forward pass.
    """
    graph = executor.graph
    needed = {name}
    for node in reversed(graph.nodes):
        if node.name in needed:
            needed.update(node.inputs)
    cut = Graph(graph.name, [node for node in graph if node.name in needed], graph.span)
    runner = Executor(cut, executor.dtype)
    runner.load_state_dict(
        {key: value for key, value in executor.state_dict().items() if key.rsplit(".", 1)[0] in needed}
    )
    return runner.forward(x)
