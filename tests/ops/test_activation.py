"""The section-9 activations: shapes kept (property), prelu's slopes, `activation=` and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compile_text, graph_of, only_error, torch_or_skip
from hypothesis import given, settings
from hypothesis import strategies as st

from netdsl import reference as R
from netdsl.ops.activation import ELU, GELU, HARDSIGMOID, HARDSWISH, MISH, PRELU, RELU6, SELU, SOFTPLUS

SECTION_9 = (GELU, RELU6, HARDSWISH, HARDSIGMOID, ELU, SELU, SOFTPLUS, MISH, PRELU)
NAMES = [op.name for op in SECTION_9]
REFERENCE = {"prelu": lambda x: R.prelu(x, np.full(x.shape[1], 0.25))}
shapes = st.one_of(st.tuples(st.integers(1, 9)), st.tuples(st.integers(1, 5), st.integers(1, 7), st.integers(1, 7)))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(name=st.sampled_from(NAMES), shape=shapes)
def test_inferred_shape_is_the_references_shape(name: str, shape: tuple) -> None:
    dims = ", ".join(map(str, shape))
    node = graph_of(f"input({dims}) - {name}").output
    x = np.random.default_rng(0).standard_normal((2, *shape))
    assert (2, *node.shape) == REFERENCE.get(name, getattr(R, name))(x).shape
    assert node.macs == 0


@pytest.mark.parametrize("shape", [(16, 5, 5), (12,)])
def test_prelu_has_one_slope_per_channel_as_torch(shape: tuple) -> None:
    torch = torch_or_skip()
    node = graph_of(f"input({', '.join(map(str, shape))}) - prelu").output
    assert node.params == {"weight": (shape[0],)}
    assert node.param_count == sum(p.numel() for p in torch.nn.PReLU(shape[0]).parameters())


def test_gelu_and_elu_arguments() -> None:
    graph = graph_of("input(4) - gelu(approximate=tanh) - gelu - elu(alpha=0.5) - elu")
    assert [n.attrs for n in graph.nodes[1:]] == [
        {"approximate": "tanh"},
        {"approximate": "none"},
        {"alpha": 0.5},
        {"alpha": 1.0},
    ]


@pytest.mark.parametrize("name", NAMES)
def test_every_activation_works_as_activation_argument(name: str) -> None:
    graph = graph_of(f"input(3, 8, 8) - conv(4, 3, activation={name}) - fc(5, activation={name})")
    assert [n.op for n in graph] == ["input", "conv", name, "flatten", "fc", name]
    assert graph.nodes[2].implicit == f"conv's activation={name}"
    defaults = {arg.name: arg.default for arg in next(op for op in SECTION_9 if op.name == name).args}
    assert graph.nodes[2].attrs == defaults


def test_unknown_gelu_approximation_is_located() -> None:
    error = only_error("input(4) - gelu(approximate=erf)")
    assert "approximate must be one of none, tanh" in error.message and error.span.column == 17


def test_aliases() -> None:
    graph = graph_of("input(4) - hard_swish - hswish - hard_sigmoid")
    assert [n.op for n in graph][1:] == ["hardswish", "hardswish", "hardsigmoid"]
    assert compile_text("input(4) - RELU6 - Mish - SeLU - softplus").ok
