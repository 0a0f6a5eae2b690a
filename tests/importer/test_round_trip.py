"""`netdsl export` then `netdsl import` of every example: the same figures (params, buffers, MACs, parameter
memory) and the same outputs as the original program. Activation memory may be smaller: the export is an
inference model, where dropout is an Identity, so the import has no dropout layers."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import EXAMPLES

import netdsl

# Examples whose export the importer cannot read yet, with the reason; strict: one that starts passing fails
NOT_YET = {"seed001_text": "the importer does not read embedding's Cast-Gather-Reshape or write input(L, tokens=V)"}
EXAMPLE_FILES = [
    pytest.param(p, id=p.stem, marks=pytest.mark.xfail(strict=True, reason=NOT_YET[p.stem]))
    if p.stem in NOT_YET
    else pytest.param(p, id=p.stem)
    for p in sorted(EXAMPLES.glob("*.net"))
]


@pytest.mark.parametrize("path", EXAMPLE_FILES)
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


def test_repeated_units_become_blocks(tmp_path) -> None:
    """An imported ResNet-50 is a few parameterized blocks used with `* N`: at most twice the example's lines."""
    original = netdsl.load(EXAMPLES / "resnet50.net")
    original.export_onnx(tmp_path / "resnet50.onnx")
    text, tensors = netdsl.import_onnx(tmp_path / "resnet50.onnx")
    assert text.count("\n") <= 2 * (EXAMPLES / "resnet50.net").read_text().count("\n")
    assert "block unita(p1, p2, p3) {" in text and "unita(128, 128, 512) * 3" in text
    imported = netdsl.loads(text)
    assert imported.totals.trainable == original.totals.trainable == 25_557_032
    assert set(tensors) == {f"{n.name}.{k}" for n in imported.graph for k in (*n.params, *n.buffers)}
