"""deconv and dwconv: shape rules against torch and the references (property), parameter counts and MACs,
located errors."""

from __future__ import annotations

import numpy as np
from helpers import compile_text, graph_of, only_error, torch_or_skip
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from netdsl import reference as R

RNG = np.random.default_rng(0)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    c=st.sampled_from([2, 4]),
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    filters=st.sampled_from([2, 6]),
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    p=st.integers(0, 2),
    op=st.integers(0, 2),
    d=st.integers(1, 2),
    groups=st.sampled_from([1, 2]),
    bias=st.booleans(),
)
def test_deconv_is_torchs_conv_transpose2d(
    c: int, h: int, w: int, filters: int, k: int, s: int, p: int, op: int, d: int, groups: int, bias: bool
) -> None:
    torch = torch_or_skip()
    text = (
        f"input({c}, {h}, {w}) - deconv({filters}, {k}, stride={s}, pad={p}, output_pad={op}, dilation={d}, "
        f"groups={groups}, bias={'true' if bias else 'false'})"
    )
    compilation = compile_text(text)
    module = torch.nn.ConvTranspose2d(c, filters, k, s, p, op, groups, bias, d).double()
    try:
        expected = module(torch.zeros(1, c, h, w, dtype=torch.float64)).shape
    except RuntimeError:
        assert not compilation.ok  # torch refuses: output_pad too large or an empty output
        return
    assert compilation.ok, [x.message for x in compilation.all_diagnostics]
    node = compilation.networks[0].graph.output
    assert (1, *node.shape) == tuple(expected)
    assert node.param_count == sum(t.numel() for t in module.parameters())
    assert node.params["weight"] == tuple(module.weight.shape)
    assert node.macs == h * w * c * filters * k * k // groups
    x = RNG.standard_normal((1, c, h, w))
    ours = R.deconv2d(
        x,
        module.weight.detach().numpy(),
        None,
        (s, s),
        node.attrs["pads"],
        node.attrs["output_padding"],
        (d, d),
        groups,
    )
    assert ours.shape == tuple(expected)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(h=st.integers(1, 7), k=st.integers(1, 5), s=st.integers(1, 3), d=st.integers(1, 2))
def test_deconv_same_gives_input_times_stride(h: int, k: int, s: int, d: int) -> None:
    node = graph_of(f"input(2, {h}, {h + 1}) - deconv(3, {k}, stride={s}, pad=same, dilation={d})").output
    assert node.shape == (3, h * s, (h + 1) * s)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    c=st.integers(1, 4),
    h=st.integers(1, 8),
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    pad=st.sampled_from(["valid", "same", "1", "(0, 1)"]),
    m=st.integers(1, 3),
    d=st.integers(1, 2),
    bias=st.booleans(),
)
def test_dwconv_is_a_conv_with_one_group_per_channel(
    c: int, h: int, k: int, s: int, pad: str, m: int, d: int, bias: bool
) -> None:
    torch = torch_or_skip()
    b = "true" if bias else "false"
    dw = compile_text(
        f"input({c}, {h}, {h}) - dwconv({k}, stride={s}, pad={pad}, multiplier={m}, dilation={d}, bias={b})"
    )
    conv = compile_text(
        f"input({c}, {h}, {h}) - conv({c * m}, {k}, stride={s}, pad={pad}, groups={c}, dilation={d}, bias={b})"
    )
    assert dw.ok == conv.ok
    assume(dw.ok)
    ours, theirs = dw.networks[0].graph.output, conv.networks[0].graph.output
    assert (ours.shape, ours.params, ours.macs) == (theirs.shape, theirs.params, theirs.macs)
    assert ours.attrs["pads"] == theirs.attrs["pads"] and (ours.attrs["filters"], ours.attrs["groups"]) == (c * m, c)
    assert ours.receptive_field == theirs.receptive_field
    module = torch.nn.Conv2d(c, c * m, k, s, groups=c, dilation=d, bias=bias)
    assert ours.param_count == sum(t.numel() for t in module.parameters())


def test_deconv_output_pad_must_be_below_stride() -> None:
    error = only_error("input(8, 4, 4)\n  deconv(4, 3, stride=2, pad=1, output_pad=2)\n")
    assert (error.span.line, error.span.column) == (2, 3)
    assert "output_pad=2 but stride=2" in error.message and "smaller than stride" in error.message
    assert "output_pad=1 at most" in error.message


def test_deconv_same_refuses_output_pad() -> None:
    assert "explicit pads only" in only_error("input(8, 4, 4) - deconv(4, 3, stride=2, pad=same, output_pad=1)").message


def test_deconv_cropping_everything_is_an_error() -> None:
    assert "crops more than" in only_error("input(8, 1, 1) - deconv(4, 1, pad=1)").message
