"""Every example network through the ONNX exporter: checker, shape inference, parity with the NumPy
backend in onnxruntime, determinism and opset 13.

Each example is exported once (cached for the module) with random weights whose biases and batchnorm
statistics are far from the trivial 0/1 initialization, so every input of every node matters.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from helpers import EXAMPLES, random_weights

import netdsl
from netdsl.backends.onnx.export import build_model, numpy_executor, save_model, tensor_names
from netdsl.backends.onnx.runtime import Session

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.net"))
BIG = {
    "alexnet",
    "vgg16",
    "densenet121",
    "googlenet",
    "resnet18",
    "resnet50",
    "mobilenet_v2",
    "efficientnet_b0",
    "convnext_tiny",
    "unet",
    "seed001_go",
}  # ImageNet nets, the 256x256 U-Net, the Go board: batch 1
PARITY = 1e-5  # max |onnxruntime - numpy| / max |numpy|


def name_of(path: Path) -> str:
    return path.stem


@functools.cache
def work_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="netdsl-onnx-examples-"))


@pytest.fixture(scope="module", autouse=True)
def _release_the_cached_models():
    """The cached models and weights (VGG16's alone are 553 MB) go when the module is done."""
    yield
    for cached in (exported, loaded, reference):
        cached.cache_clear()
    if work_dir.cache_info().currsize:
        shutil.rmtree(work_dir(), ignore_errors=True)
        work_dir.cache_clear()


@functools.cache
def exported(stem: str) -> tuple:
    """(graph, weights, path of the opset-17 .onnx) for one example, built once."""
    graph = netdsl.load(EXAMPLES / f"{stem}.net").graph
    weights = random_weights(graph)
    path = work_dir() / f"{stem}.onnx"
    save_model(build_model(graph, weights, 17), path)
    return graph, weights, path


@functools.cache
def loaded(stem: str) -> onnx.ModelProto:
    """The exported file read back with onnx."""
    return onnx.load(str(exported(stem)[2]))


@functools.cache
def reference(stem: str) -> tuple[np.ndarray, np.ndarray]:
    """A seeded batch (1 sample for the ImageNet nets, else 3) and the NumPy backend's outputs for it."""
    graph, weights, _ = exported(stem)
    batch = 1 if stem in BIG else 3
    rng = np.random.default_rng(1)
    if graph.input.attrs.get("tokens"):  # token ids below the vocabulary (seed001_text)
        x = rng.integers(0, graph.input.attrs["tokens"], (batch, *graph.input.shape)).astype(np.float32)
    else:
        x = rng.standard_normal((batch, *graph.input.shape)).astype(np.float32)
    executor = numpy_executor(graph)
    executor.load_state_dict(weights)
    return x, executor.predict(x)


def weightless(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same graph with every initializer turned into a typed graph input: shapes are what shape
    inference reads, and the copy is small (VGG16 holds 553 MB of weights)."""
    inputs = [
        *model.graph.input,
        *(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in model.graph.initializer),
    ]
    graph = onnx.helper.make_graph(model.graph.node, model.graph.name, inputs, model.graph.output)
    return onnx.helper.make_model(graph, opset_imports=model.opset_import, ir_version=model.ir_version)


def rel_diff(actual: np.ndarray, expected: np.ndarray) -> float:
    assert actual.shape == expected.shape
    return float(np.max(np.abs(actual.astype(np.float64) - expected)) / max(np.max(np.abs(expected)), 1e-30))


def dims(value_info) -> tuple:
    shape = value_info.type.tensor_type.shape
    return tuple(
        d.dim_param if d.HasField("dim_param") else d.dim_value if d.HasField("dim_value") else None for d in shape.dim
    )


STEMS = [name_of(p) for p in EXAMPLE_FILES]


def test_examples_are_there() -> None:
    assert len(STEMS) >= 10 and {"lenet5", "resnet18", "googlenet", "alexnet"} <= set(STEMS)


@pytest.mark.parametrize("stem", STEMS)
def test_checker_full_check(stem: str) -> None:
    _, _, path = exported(stem)
    onnx.checker.check_model(str(path), full_check=True)


@pytest.mark.parametrize("stem", STEMS)
def test_shape_inference_gives_the_ir_shapes(stem: str) -> None:
    graph = exported(stem)[0]
    model = weightless(loaded(stem)) if stem in BIG else loaded(stem)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    found = {vi.name: dims(vi) for vi in [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]}
    names = tensor_names(graph)
    wrong = {n.name: found.get(names[n.name]) for n in graph.nodes if found.get(names[n.name]) != ("batch", *n.shape)}
    assert not wrong, wrong


@pytest.mark.parametrize("stem", STEMS)
def test_names_and_layout(stem: str) -> None:
    graph, weights, _ = exported(stem)
    model = loaded(stem)
    assert [i.name for i in model.graph.input] == ["input"] and [o.name for o in model.graph.output] == ["output"]
    assert dims(model.graph.input[0]) == ("batch", *graph.input.shape)
    assert dims(model.graph.output[0]) == ("batch", *graph.output.shape)
    node_names = {n.name for n in model.graph.node}
    assert {n.name for n in graph.nodes[1:]} <= node_names
    assert [t.name for t in model.graph.initializer] == list(weights)
    assert all(t.data_type == onnx.TensorProto.FLOAT for t in model.graph.initializer)
    assert model.ir_version == onnx.helper.find_min_ir_version_for([model.opset_import[0]]) <= 10
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]


@pytest.mark.parametrize("stem", STEMS)
def test_onnxruntime_matches_numpy_backend(stem: str) -> None:
    graph, weights, path = exported(stem)
    x, expected = reference(stem)
    actual = Session(path, provider="cpu").run(x)
    assert actual.dtype == np.float32 and actual.shape == (len(x), *graph.output.shape)
    assert rel_diff(actual, expected) <= PARITY


@pytest.mark.parametrize("stem", [s for s in STEMS if s not in BIG])
def test_logits_before_the_softmax_head_match(stem: str) -> None:
    """A softmax head can hide errors (a constant shift of every logit): compare what feeds it."""
    graph, weights, _ = exported(stem)
    if graph.output.op != "softmax":
        return
    logits_name = tensor_names(graph)[graph.output.inputs[0]]
    model = onnx.ModelProto()
    model.CopyFrom(loaded(stem))
    model.graph.output.append(onnx.helper.make_tensor_value_info(logits_name, onnx.TensorProto.FLOAT, None))
    x, _ = reference(stem)
    logits = Session(model.SerializeToString(), provider="cpu")._session.run([logits_name], {"input": x})[0]
    executor = numpy_executor(graph)
    executor.load_state_dict(weights)
    assert rel_diff(logits, executor.forward(x, stop_before=graph.output.name)) <= PARITY


@pytest.mark.parametrize("stem", STEMS)
def test_export_is_deterministic(stem: str) -> None:
    graph, weights, path = exported(stem)
    again = build_model(graph, {k: v.copy() for k, v in weights.items()}, 17)
    assert again.SerializeToString(deterministic=True) == path.read_bytes()


@pytest.mark.parametrize("stem", STEMS)
def test_opset_13_exports_and_runs(stem: str) -> None:
    graph, weights, _ = exported(stem)
    model = build_model(graph, weights, 13)
    assert model.opset_import[0].version == 13 and model.ir_version == 7
    onnx.checker.check_model(weightless(model), full_check=True)
    x, expected = reference(stem)
    assert rel_diff(Session(model.SerializeToString(), provider="cpu").run(x), expected) <= PARITY
