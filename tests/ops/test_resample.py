"""upsample and zeropad: shape rules against the references (property), and what the resampling ops (with
deconv and dwconv) share: located errors, `activation=`, aliases."""

from __future__ import annotations

import numpy as np
from helpers import graph_of, only_error, torch_or_skip
from hypothesis import given, settings
from hypothesis import strategies as st

from netdsl import reference as R

RNG = np.random.default_rng(0)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    c=st.integers(1, 3),
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    mode=st.sampled_from(["nearest", "bilinear"]),
)
def test_upsample_shape(c: int, h: int, w: int, sh: int, sw: int, mode: str) -> None:
    torch = torch_or_skip()
    node = graph_of(f"input({c}, {h}, {w}) - upsample(scale=({sh}, {sw}), mode={mode})").output
    x = RNG.standard_normal((1, c, h, w))
    ours = R.upsample(x, (sh, sw), mode)
    theirs = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=(sh, sw))
    assert (1, *node.shape) == ours.shape == theirs.shape
    assert node.macs == node.param_count == 0


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    pads=st.one_of(
        st.integers(0, 3).map(str),
        st.tuples(st.integers(0, 3), st.integers(0, 3)).map(str),
        st.tuples(*[st.integers(0, 3)] * 4).map(str),
    )
)
def test_zeropad_shape(pads: str) -> None:
    node = graph_of(f"input(2, 4, 5) - zeropad({pads})").output
    x = RNG.standard_normal((1, 2, 4, 5))
    assert (1, *node.shape) == R.zeropad(x, node.attrs["pads"]).shape
    value = eval(pads)  # the test's own literal
    top, bottom, left, right = (
        (value,) * 4
        if isinstance(value, int)
        else (value[0], value[0], value[1], value[1])
        if len(value) == 2
        else value
    )
    assert node.shape == (2, 4 + top + bottom, 5 + left + right)


def test_resampling_needs_images() -> None:
    for layer in ("upsample", "deconv(3, 2)", "dwconv(3)", "zeropad(1)"):
        assert "needs an image input" in only_error(f"input(10) - {layer}").message


def test_activation_argument_and_describe() -> None:
    graph = graph_of(
        "input(4, 8, 8) - dwconv(3, pad=same, activation=relu6) - deconv(2, 2, stride=2, activation=gelu)"
        " - upsample(mode=bilinear) - zeropad((1, 2))"
    )
    assert [n.op for n in graph] == ["input", "dwconv", "relu6", "deconv", "gelu", "upsample", "zeropad"]
    described = [graph[n].attrs for n in ("dwconv_1", "deconv_1")]
    assert described[0]["groups"] == 4 and described[1]["pads"] == (0, 0, 0, 0)
    assert graph.output.shape == (2, 34, 36)


def test_aliases() -> None:
    graph = graph_of(
        "input(4, 8, 8) - depthwiseconv(3) - convtranspose(2, 2) - conv2dtranspose(2, 2) "
        "- upsampling2d - zeropadding2d(1)"
    )
    assert [n.op for n in graph][1:] == ["dwconv", "deconv", "deconv", "upsample", "zeropad"]


def test_shuffle_keeps_the_shape_and_has_no_parameters() -> None:
    node = graph_of("input(6, 5, 4) - channelshuffle(3)")["shuffle_1"]
    assert (node.shape, node.params, node.macs, node.attrs["groups"]) == ((6, 5, 4), {}, 0, 3)


def test_shuffle_groups_must_divide_the_channels() -> None:
    error = only_error("input(6, 5, 4)\n  shuffle(4)\n")
    assert (error.span.line, error.span.column) == (2, 3)
    assert "groups=4" in error.message and "6 channels" in error.message
