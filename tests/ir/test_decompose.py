"""Composite ops: a backend without an op runs its decomposition, and both paths agree (swish)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import graph_of

import netdsl
from netdsl import ops
from netdsl.backends.numpy.executor import Executor
from netdsl.codegen import generate, render, write
from netdsl.ir.decompose import expand
from netdsl.ops.base import OpDef, Step

SWISH = ops.REGISTRY["swish"]
PROGRAM = (
    "input(3, 7, 6)\nconv(4, 3, pad=same) - swish\n"
    "add { identity | conv(4, 1, activation=swish) }\nswish - globalavgpool - flatten - fc(3)"
)


def test_expand_replaces_only_what_the_backend_lacks() -> None:
    graph = graph_of(PROGRAM)
    assert expand(graph, lambda op: True) is graph
    expanded = expand(graph, lambda op: op is not SWISH)
    assert [n.op for n in expanded].count("swish") == 0
    assert {n.name for n in graph} <= {n.name for n in expanded}  # the last step keeps the layer's name
    parts = [n for n in expanded if n.name.startswith("swish_1/")]
    assert [(n.name, n.op, n.shape) for n in parts] == [("swish_1/sigmoid", "sigmoid", (4, 7, 6))]
    assert expanded["swish_1"].op == "mul" and expanded["swish_1"].inputs == ["conv_1", "swish_1/sigmoid"]
    assert [n.op for n in graph].count("swish") == 3  # the graph itself is untouched


def test_a_decomposition_may_not_have_parameters() -> None:
    fake = OpDef(name="fake", decompose=lambda attrs, shapes: [Step("dense", "fc", {"units": 2, "bias": True})])
    graph = graph_of("input(3)\nrelu")
    graph.output.op = "fake"
    try:
        ops.REGISTRY["fake"] = fake
        with pytest.raises(ValueError, match="may not"):
            expand(graph, lambda op: op is not fake)
    finally:
        del ops.REGISTRY["fake"]


def test_numpy_native_and_decomposed_swish_agree_forward_and_backward() -> None:
    graph = graph_of(PROGRAM)
    native = Executor(graph, dtype=np.float64)
    native.init_params(3)
    decomposed = Executor(graph, dtype=np.float64, decompose=(SWISH,))
    decomposed.load_state_dict(native.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    y_native, y_decomposed = native.forward(x, training=True), decomposed.forward(x, training=True)
    np.testing.assert_allclose(y_decomposed, y_native, rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(1).standard_normal(y_native.shape)
    g_decomposed = decomposed.backward(dout)
    native.forward(x, training=True)
    g_native = native.backward(dout)
    assert set(g_native) == set(g_decomposed)
    for key in g_native:
        np.testing.assert_allclose(g_decomposed[key], g_native[key], rtol=1e-10, atol=1e-12)
    assert decomposed.layer_shapes(x) == native.layer_shapes(x)


def test_generated_numpy_through_the_decomposition_matches(tmp_path, monkeypatch) -> None:
    import importlib.util

    model = netdsl.loads(PROGRAM, file="composite.net")
    native = Executor(model.graph)
    native.init_params(0)
    monkeypatch.setattr(
        render, "has_snippet", lambda target, op: op is not SWISH and hasattr(render.fragments(target), op.name)
    )
    files = generate(model, "numpy", source="composite.net")
    assert "sigmoid(" in files["composite.py"] and "swish" in files["composite.py"]
    write(files, tmp_path)
    spec = importlib.util.spec_from_file_location("generated_composite", tmp_path / "composite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6)).astype(np.float32)
    got = module.forward(native.state_dict(), x)
    want = native.forward(x)
    assert np.max(np.abs(got - want)) <= 1e-5 * np.max(np.abs(want))


def test_onnx_exports_swish_through_its_decomposition() -> None:
    from netdsl.backends.onnx.export import build_model, seeded_weights
    from netdsl.backends.onnx.runtime import Session

    graph = graph_of(PROGRAM)
    weights = seeded_weights(graph, 0)
    model = build_model(graph, weights, opset=13)
    types = {n.name: n.op_type for n in model.graph.node}
    assert types["swish_1/sigmoid"] == "Sigmoid" and types["swish_1"] == "Mul"
    executor = Executor(graph)
    executor.load_state_dict(weights)
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 6)).astype(np.float32)
    want = executor.predict(x)
    got = Session(model.SerializeToString(), provider="cpu").run(x)
    assert np.max(np.abs(got - want)) <= 1e-5 * np.max(np.abs(want))


def test_generated_pytorch_through_the_decomposition_matches(tmp_path, monkeypatch) -> None:
    import importlib.util

    torch = pytest.importorskip("torch")
    model = netdsl.loads(PROGRAM, file="composite.net")
    native = Executor(model.graph)
    native.init_params(0)
    monkeypatch.setattr(
        render, "has_snippet", lambda target, op: op is not SWISH and hasattr(render.fragments(target), op.name)
    )
    files = generate(model, "pytorch", source="composite.net")
    assert "F.silu" not in files["composite.py"] and "torch.sigmoid(" in files["composite.py"]
    write(files, tmp_path)
    spec = importlib.util.spec_from_file_location("generated_torch_composite", tmp_path / "composite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = getattr(module, render.class_name(model.name))().eval()
    net.load_netdsl_state_dict(native.state_dict())
    x = np.random.default_rng(4).standard_normal((2, 3, 7, 6)).astype(np.float32)
    with torch.no_grad():
        got = net(torch.from_numpy(x)).numpy()
    want = native.forward(x)
    assert np.max(np.abs(got - want)) <= 1e-5 * np.max(np.abs(want))
