"""`export_onnx` and friends as a library user calls them: weights, opsets, files, verification."""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest

import netdsl
from netdsl.backends.onnx import export as export_module
from netdsl.backends.onnx.export import (
    DEFAULT_OPSET,
    ExportError,
    ExportWarning,
    build_model,
    check_weights,
    export_onnx,
    load_weights,
    max_opset,
    numpy_executor,
    save_model,
    seeded_weights,
    verify,
)
from netdsl.backends.onnx.lower import MIN_OPSET
from netdsl.backends.onnx.runtime import Session

LENET = """network lenet {
    input(1, 12, 12)
    c1: conv(4, 3) - bn - relu - maxpool(2)
    f1: fc(10) - dropout(0.2)
    out: output(3)
}"""


@pytest.fixture
def graph():
    return netdsl.loads(LENET).graph


def test_no_weights_means_the_seeded_numpy_initialization_and_a_warning(graph, tmp_path: Path) -> None:
    with pytest.warns(ExportWarning, match="seeded random"):
        model = export_onnx(graph, None, tmp_path / "a.onnx", seed=3)
    executor = numpy_executor(graph)
    executor.init_params(seed=3)
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    expected = executor.state_dict()
    assert stored.keys() == expected.keys()
    assert all(np.array_equal(stored[k], expected[k]) for k in stored)
    assert (tmp_path / "a.onnx").read_bytes() == model.SerializeToString(deterministic=True)


def test_given_weights_are_stored_as_float32_without_a_warning(graph) -> None:
    weights = {k: v.astype(np.float64) + 0.5 for k, v in seeded_weights(graph, 0).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = export_onnx(graph, weights, None)
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    assert all(stored[k].dtype == np.float32 and np.allclose(stored[k], weights[k]) for k in weights)


def test_weights_must_match_the_network(graph) -> None:
    weights = seeded_weights(graph, 0)
    missing = {k: v for k, v in weights.items() if k != "c1.weight"}
    with pytest.raises(ExportError, match=r"missing c1\.weight \[4, 1, 3, 3\]"):
        check_weights(graph, missing)
    with pytest.raises(ExportError, match=r"unexpected c9\.weight"):
        check_weights(graph, {**weights, "c9.weight": np.zeros(3)})
    with pytest.raises(ExportError, match=r"c1\.weight has shape \[4, 1, 5, 5\], the program needs \[4, 1, 3, 3\]"):
        check_weights(graph, {**weights, "c1.weight": np.zeros((4, 1, 5, 5))})


def test_weights_files_are_read_and_checked(graph, tmp_path: Path) -> None:
    weights = seeded_weights(graph, 1)
    np.savez(tmp_path / "w.npz", **weights)
    loaded = load_weights(tmp_path / "w.npz", graph)
    assert all(np.array_equal(loaded[k], weights[k]) for k in weights)
    np.savez(tmp_path / "bad.npz", **{k: v for k, v in weights.items() if k != "out.bias"})
    with pytest.raises(ExportError, match=r"out\.bias"):
        load_weights(tmp_path / "bad.npz", graph)
    with pytest.raises(ExportError, match="no such"):
        load_weights(tmp_path / "none.npz", graph)


NEWEST = max_opset()


def test_opsets_up_to_26_with_onnx_1_23() -> None:
    assert NEWEST == 26 or onnx.defs.onnx_opset_version() < 26


@pytest.mark.parametrize("opset", [MIN_OPSET - 1, 7, NEWEST + 1])
def test_unsupported_opsets_are_rejected_clearly(graph, opset: int) -> None:
    with pytest.raises(ExportError, match=f"opset {opset} is not supported: use {MIN_OPSET} to {NEWEST}"):
        export_onnx(graph, seeded_weights(graph), None, opset=opset)


@pytest.mark.parametrize("opset", range(MIN_OPSET, NEWEST + 1))
def test_every_supported_opset_loads_in_onnxruntime(graph, opset: int) -> None:
    weights = seeded_weights(graph, 0)
    model = build_model(graph, weights, opset)
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == onnx.helper.find_min_ir_version_for([model.opset_import[0]])
    x = np.random.default_rng(0).standard_normal((2, 1, 12, 12)).astype(np.float32)
    reference = numpy_executor(graph)
    reference.load_state_dict(weights)
    np.testing.assert_allclose(Session(model.SerializeToString(), "cpu").run(x), reference.predict(x), atol=1e-6)


def test_default_opset_and_metadata(graph) -> None:
    model = build_model(graph, seeded_weights(graph))
    assert DEFAULT_OPSET == 17 and model.opset_import[0].version == 17 and model.ir_version == 8
    assert model.producer_name == "netdsl" and model.graph.name == "lenet"


def test_same_input_same_bytes(graph) -> None:
    first = build_model(graph, seeded_weights(graph, 5)).SerializeToString(deterministic=True)
    second = build_model(netdsl.loads(LENET).graph, seeded_weights(graph, 5)).SerializeToString(deterministic=True)
    assert first == second
    assert build_model(graph, seeded_weights(graph, 6)).SerializeToString(deterministic=True) != first


def test_files_are_replaced_atomically(graph, tmp_path: Path) -> None:
    target = tmp_path / "m.onnx"
    target.write_bytes(b"old")
    save_model(build_model(graph, seeded_weights(graph)), target)
    assert onnx.load(str(target)).graph.name == "lenet"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]  # no temporary file left behind


def test_a_failed_write_keeps_the_old_file(graph, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "m.onnx"
    target.write_bytes(b"old")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        save_model(build_model(graph, seeded_weights(graph)), target)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_models_over_two_gigabytes_are_refused(graph, monkeypatch) -> None:
    monkeypatch.setattr(export_module, "PROTOBUF_LIMIT", 1000)
    with pytest.raises(ExportError, match="less than 2 GiB"):
        build_model(graph, seeded_weights(graph))


def test_verify_passes_for_a_faithful_export(graph, tmp_path: Path) -> None:
    weights = seeded_weights(graph, 2)
    save_model(build_model(graph, weights), tmp_path / "m.onnx")
    result = verify(graph, weights, tmp_path / "m.onnx", batch=3)
    assert result.ok and result.max_rel <= 1e-5 and result.batch == 3 and "ok" in result.line()


def test_verify_catches_a_model_that_differs(graph, tmp_path: Path) -> None:
    weights = seeded_weights(graph, 2)
    tampered = dict(weights, **{"f1.bias": weights["f1.bias"] + 0.5})
    save_model(build_model(graph, tampered), tmp_path / "m.onnx")
    result = verify(graph, weights, tmp_path / "m.onnx")
    assert not result.ok and result.max_rel > 1e-3 and "FAILED" in result.line()


def test_a_network_of_only_its_input_exports_an_identity(tmp_path: Path) -> None:
    graph = netdsl.loads("input(5)").graph
    model = build_model(graph, {})
    onnx.checker.check_model(model, full_check=True)
    x = np.arange(10, dtype=np.float32).reshape(2, 5)
    assert np.array_equal(Session(model.SerializeToString(), "cpu").run(x), x)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
