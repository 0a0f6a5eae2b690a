"""layer_output gives exactly the values a full forward pass computes, for any layer of a branching net."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import EXAMPLES, graph_of, random_weights

import netdsl
from netdsl.backends.numpy.executor import Executor
from netdsl.backends.numpy.intermediates import layer_output

BRANCHY = """
network n {
    input(2, 8, 8)
    conv(4, 3, pad=1) - relu
    add { conv(4, 3, pad=1) - bn | identity }
    concat { maxpool(2) | avgpool(2) }
    flatten
    output(3)
}"""


def test_each_layer_output_matches_the_forward_pass_cut_there() -> None:
    graph = graph_of(BRANCHY)
    executor = Executor(graph)
    executor.load_state_dict(random_weights(graph))
    x = np.random.default_rng(0).standard_normal((2, 2, 8, 8)).astype(np.float32)
    outputs = {node.name: layer_output(executor, x, node.name) for node in graph}
    assert np.array_equal(outputs[graph.output.name], executor.forward(x))
    for node in graph:
        assert outputs[node.name].shape == (2, *node.shape)
    relu = outputs["relu_1"]
    assert np.array_equal(relu, np.maximum(outputs["conv_1"], 0))
    # the second input of add (the identity branch) and the second of concat: not reachable with stop_before
    assert np.allclose(outputs["add_1"], outputs["batchnorm_1"] + relu, atol=1e-6)
    assert np.array_equal(outputs["concat_1"][:, 4:], outputs["avgpool_1"])


@pytest.mark.parametrize("name", ["conv_1", "maxpool_1", "fc_2"])
def test_channels_last_input_is_taken_as_forward_takes_it(name: str) -> None:
    model = netdsl.load(EXAMPLES / "seed004_keras_cnn.net")
    x = np.random.default_rng(1).random((1, 1, 28, 28), dtype=np.float32)
    assert layer_output(model.executor, x, name).shape == (1, *model.graph[name].shape)
