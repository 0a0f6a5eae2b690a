"""`netdsl export` then `netdsl import` of every example: the same figures (params, buffers, MACs, parameter
memory) and the same outputs as the original program. Activation memory may be smaller: the export is an
inference model, where dropout is an Identity, so the import has no dropout layers."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import EXAMPLES

import netdsl

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.net"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_export_then_import_gives_the_same_network(tmp_path, path) -> None:
    original = netdsl.load(path)
    onnx_file = tmp_path / f"{path.stem}.onnx"
    original.export_onnx(onnx_file)
    imported = netdsl.load(onnx_file)
    figures = ("trainable", "non_trainable", "macs", "param_bytes")
    assert [getattr(imported.totals, f) for f in figures] == [getattr(original.totals, f) for f in figures]
    dropouts = sum(n.op == "dropout" for n in original.graph)
    assert (imported.totals.activation_bytes == original.totals.activation_bytes) == (dropouts == 0)
    assert [n.shape for n in imported.graph if n.params] == [n.shape for n in original.graph if n.params]
    x = np.random.default_rng(0).standard_normal((1, *original.input_shape)).astype(np.float32)
    np.testing.assert_allclose(imported.predict(x), original.predict(x), rtol=1e-4, atol=1e-6)
