"""Small ONNX models written node by node, as exporters spell netdsl's ops, and the check that an import
computes what onnxruntime computes on the original."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

import netdsl
from netdsl.backends.numpy.executor import Executor

RNG = np.random.default_rng(0)


def const(name: str, value) -> onnx.TensorProto:
    array = np.asarray(value)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    return numpy_helper.from_array(array, name)


def weights(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32) * 0.5


def save(
    path: Path,
    nodes: list,
    initializers: list,
    input_shape: list,
    output_shape: list | None = None,
    opset: int = 17,
    inputs: list | None = None,
) -> Path:
    """A one-input, one-output float model; None in a shape is a named dynamic size."""
    dims = [d if d is not None else f"d{i}" for i, d in enumerate(input_shape)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)
    graph = helper.make_graph(nodes, "g", inputs or [x], [y], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.save(model, str(path))
    return path


def onnxruntime_output(path: Path, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def imported_output(path: Path, x: np.ndarray) -> tuple[str, np.ndarray]:
    text, tensors = netdsl.import_onnx(path)
    model = netdsl.loads(text, file=str(path))
    executor = Executor(model.graph, dtype=np.float32)
    executor.load_state_dict(tensors)
    return text, executor.predict(x)


def agrees(path: Path, sample: tuple[int, ...], batch: int = 2) -> str:
    """Import the model and assert the NumPy backend gives onnxruntime's outputs; returns the program."""
    x = RNG.standard_normal((batch, *sample)).astype(np.float32)
    text, ours = imported_output(path, x)
    theirs = onnxruntime_output(path, x)
    np.testing.assert_allclose(ours, theirs.reshape(ours.shape), rtol=1e-4, atol=1e-5)
    return text
