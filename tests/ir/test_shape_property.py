"""Property: for random windowed layers, the IR's inferred shape is the shape the NumPy kernels produce."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import netdsl
from netdsl.ops.window import axis_output


@st.composite
def windowed_layer(draw) -> str:
    op = draw(st.sampled_from(["conv", "maxpool", "avgpool"]))
    k = draw(st.integers(1, 5))
    s = draw(st.integers(1, 3))
    pad = draw(st.sampled_from(["valid", "same", "1", "(1, 0)"]))
    if op == "conv":
        d = draw(st.integers(1, 2))
        return f"conv(3, {k}, stride={s}, pad={pad}, dilation={d})"
    assume(pad not in ("1", "(1, 0)") or k >= 2)
    ceil = draw(st.booleans())
    return f"{op}({k}, stride={s}, pad={pad}, ceil={'true' if ceil else 'false'})"


@settings(max_examples=60, deadline=None, derandomize=True)
@given(size=st.integers(5, 14), width=st.integers(5, 14), layer=windowed_layer())
def test_inferred_shape_equals_kernel_shape(size: int, width: int, layer: str) -> None:
    compilation = netdsl.compiler.compile_source(f"input(2, {size}, {width}) - {layer}")
    assume(compilation.ok)
    model = netdsl.model.Model(compilation.networks[0], compilation)
    x = np.random.default_rng(0).random((2, 2, size, width), dtype=np.float32)
    assert model.predict(x).shape[1:] == model.output_shape


def test_same_padding_matches_tensorflow_formula() -> None:
    for i in range(1, 20):
        for k in range(1, 6):
            for s in range(1, 4):
                o, before, after = axis_output(i, k, s, 1, "same", False)
                total = max((o - 1) * s + k - i, 0)
                assert (o, before, after) == (-(-i // s), total // 2, total - total // 2)
