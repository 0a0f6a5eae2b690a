"""Property: for random windowed layers on sequences (C x L) and volumes (C x D x H x W), the IR's inferred
shape is the shape the NumPy kernels produce (and PyTorch's, where torch is installed)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from netdsl.compiler import compile_source
from netdsl.model import Model


@st.composite
def sizes_and_layer(draw) -> tuple[tuple[int, ...], str]:
    rank = draw(st.sampled_from([1, 3]))
    sizes = tuple(draw(st.integers(3, 9 if rank == 3 else 20)) for _ in range(rank))
    op = draw(st.sampled_from(["conv", "dwconv", "deconv", "maxpool", "avgpool", "upsample", "zeropad"]))
    per_axis = draw(st.booleans())

    def axes(low: int, high: int) -> str:
        values = [draw(st.integers(low, high)) for _ in range(rank)]
        return "x".join(map(str, values)) if per_axis and rank > 1 else str(values[0])

    k, s = axes(1, 3), draw(st.integers(1, 2))
    pad = draw(st.sampled_from(["valid", "same", "1"]))
    if op in ("conv", "dwconv"):
        d = draw(st.integers(1, 2))
        head = "conv(3, " if op == "conv" else "dwconv("
        return sizes, f"{head}{k}, stride={s}, pad={pad}, dilation={d})"
    if op == "deconv":
        return sizes, f"deconv(3, {k}, stride={s}, pad={draw(st.integers(0, 1))})"
    if op == "upsample":
        return sizes, f"upsample({axes(1, 3)}, mode={draw(st.sampled_from(['nearest', 'bilinear']))})"
    if op == "zeropad":
        return sizes, f"zeropad({draw(st.integers(0, 2))})"
    ceil = draw(st.booleans())
    return (
        sizes,
        f"{op}({axes(2, 3)}, stride={s}, pad={'same' if pad == 'same' else 'valid'}, "
        f"ceil={'true' if ceil else 'false'})",
    )


@settings(max_examples=80, deadline=None, derandomize=True)
@given(case=sizes_and_layer())
def test_inferred_shape_equals_kernel_shape(case: tuple[tuple[int, ...], str]) -> None:
    sizes, layer = case
    dims = ", ".join(map(str, sizes))
    compilation = compile_source(f"input(2, {dims}) - {layer} - batchnorm - relu")
    assume(compilation.ok)
    model = Model(compilation.networks[0], compilation)
    x = np.random.default_rng(0).random((2, 2, *sizes), dtype=np.float32)
    assert model.predict(x).shape[1:] == model.output_shape
    assert len(model.output_shape) == len(sizes) + 1
