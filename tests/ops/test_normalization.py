"""layernorm, groupnorm and scale: shape rules (property), PyTorch's parameter counts, located errors."""

from __future__ import annotations

import numpy as np
from helpers import graph_of, only_error, torch_or_skip
from hypothesis import given, settings
from hypothesis import strategies as st

from netdsl import reference as R


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    groups=st.integers(1, 4), per_group=st.integers(1, 4), h=st.integers(1, 6), w=st.integers(1, 6), image=st.booleans()
)
def test_shapes_and_params_are_torchs(groups: int, per_group: int, h: int, w: int, image: bool) -> None:
    torch = torch_or_skip()
    c = groups * per_group
    shape = (c, h, w) if image else (c,)
    dims = ", ".join(map(str, shape))
    graph = graph_of(f"input({dims}) - ln - gn({groups}) - scale(init=0.5)")
    ln, gn, sc = graph.nodes[1:]
    x = np.random.default_rng(0).standard_normal((2, *shape))
    ones, zeros = np.ones(c), np.zeros(c)
    assert (2, *ln.shape) == R.layernorm(x, ones, zeros).shape
    assert (2, *gn.shape) == R.groupnorm(x, ones, zeros, groups).shape
    assert (2, *sc.shape) == R.layer_scale(x, ones).shape
    assert ln.param_count == sum(p.numel() for p in torch.nn.LayerNorm(c).parameters())
    assert gn.param_count == sum(p.numel() for p in torch.nn.GroupNorm(groups, c).parameters())
    assert sc.params == {"weight": (c,)} and not ln.buffers and not gn.buffers
    assert ln.macs == gn.macs == sc.macs == 0


def test_groupnorm_groups_must_divide_channels() -> None:
    error = only_error("input(3, 8, 8)\nconv(6, 3)\ngroupnorm(4)\n")
    assert error.span.line == 3
    assert "groups=4" in error.message and "6 channels" in error.message and "not a multiple of 4" in error.message


def test_arguments_and_aliases() -> None:
    graph = graph_of("input(8, 2, 2) - layernorm(eps=1e-6) - groupnorm(2, eps=0.001) - layerscale")
    assert [n.attrs for n in graph.nodes[1:]] == [{"eps": 1e-6}, {"groups": 2, "eps": 0.001}, {"init": 1.0}]
    assert only_error("input(8) - gn").message == "groupnorm needs groups, but groups is missing"
