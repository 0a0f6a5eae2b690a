"""Reading an ONNX file for import: the checks that give one clear line, the data input, constant folding
(onnx's own reference evaluator) and shapes (onnx's own shape inference), batch fixed at 1."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MAX_ONNX_BYTES = 2**31 - 1  # protobuf's own limit for one message
MAX_FOLD_ROUNDS = 4  # Shape -> Gather -> Concat -> Reshape chains settle in two or three
BIG_INITIALIZER = 1024  # elements: larger constants reach shape inference as typed inputs, not copied values
MIN_IR_VERSION = 4  # below it an initializer counts only when it is also a graph input


class OnnxImportError(Exception):
    """An ONNX file that cannot be imported; the message is one line (or one per unsupported op type)."""


@dataclass
class Prepared:
    """An ONNX graph after folding: the data nodes that remain, every constant, every tensor's shape (batch 1)."""

    path: str
    model: Any  # the ModelProto as read (for --verify)
    input_name: str
    input_shape: tuple[int, ...]  # per sample
    output_name: str
    nodes: list[Any]
    constants: dict[str, np.ndarray]
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # with the batch axis


def read_model(path: str | Path) -> Any:
    """The ModelProto of a file, with external data; a missing, truncated or non-ONNX file is one line."""
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    if not path.exists():
        raise OnnxImportError(f"{path}: no such file")
    if not path.is_file():
        raise OnnxImportError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise OnnxImportError(f"{path}: empty file, not an ONNX model")
    if size > MAX_ONNX_BYTES:
        raise OnnxImportError(
            f"{path}: {size:,} bytes, more than an ONNX file can hold (2 GiB); "
            "large weights belong in external data files"
        )
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, RuntimeError, ValueError, UnicodeDecodeError) as err:
        raise OnnxImportError(f"{path}: not an ONNX model, or a truncated one ({_first_line(err)})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise OnnxImportError(f"{path}: not an ONNX model, or a truncated one (it holds no graph nodes)")
    _load_external(model, path)
    return model


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _load_external(model: Any, path: Path) -> None:
    """External data files beside the model, each named in one line when missing."""
    import onnx
    from onnx.external_data_helper import load_external_data_for_model, uses_external_data

    if not any(uses_external_data(t) for t in model.graph.initializer):
        return
    try:
        load_external_data_for_model(model, str(path.parent))
    except (OSError, ValueError, onnx.checker.ValidationError) as err:  # onnx checks each file it opens
        raise OnnxImportError(f"{path}: cannot read its external data: {_first_line(err)}") from None


def _dims(value_info: Any) -> list[int | None]:
    return [d.dim_value if d.HasField("dim_value") else None for d in value_info.type.tensor_type.shape.dim]


def data_input(model: Any, path: str, input_shape: tuple[int, ...] | None) -> tuple[str, tuple[int, ...]]:
    """The one graph input that is not an initializer, and its per-sample shape."""
    constants = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in constants]
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise OnnxImportError(
            f"{path}: the model has {len(inputs)} inputs ({names}); netdsl imports networks with one input"
        )
    value = inputs[0]
    if value.type.tensor_type.elem_type != 1:
        raise OnnxImportError(f"{path}: input {value.name} is not float32; netdsl imports float networks")
    dims = _dims(value)
    if len(dims) not in (2, 3, 4, 5):
        raise OnnxImportError(
            f"{path}: input {value.name} has rank {len(dims)}; netdsl imports vectors (N x F), "
            "sequences (N x C x L), images (N x C x H x W) and volumes (N x C x D x H x W)"
        )
    sample = tuple(dims[1:])
    if input_shape is not None:
        if len(input_shape) != len(sample):
            raise OnnxImportError(
                f"--input-shape {','.join(map(str, input_shape))}: the model's input "
                f"{value.name} has {len(sample)} axes after the batch"
            )
        clash = [(d, g) for d, g in zip(sample, input_shape) if d is not None and d != g]
        if clash:
            raise OnnxImportError(
                f"--input-shape {','.join(map(str, input_shape))} disagrees with the model's "
                f"fixed input {_shape_text(sample)}"
            )
        sample = tuple(input_shape)
    if any(d is None for d in sample):
        raise OnnxImportError(
            f"{path}: input {value.name} has dynamic sizes ({_shape_text(sample)}); give them with --input-shape C,H,W"
        )
    return value.name, tuple(int(d) for d in sample)


def _shape_text(dims: tuple) -> str:
    return " x ".join("?" if d is None else str(d) for d in dims)


def _used_data_output(model: Any) -> str:
    outputs = list(model.graph.output)
    if len(outputs) != 1:
        names = ", ".join(o.name for o in outputs)
        raise OnnxImportError(
            f"the model has {len(outputs)} outputs ({names}); netdsl imports networks with one output"
        )
    return outputs[0].name


def _opsets(model: Any) -> list[Any]:
    return list(model.opset_import)


def _evaluate(model: Any, nodes: list[Any], constants: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The outputs of a constant subgraph, by onnx's reference evaluator."""
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    needed = {name for node in nodes for name in node.input if name}
    produced = {name for node in nodes for name in node.output}
    initializers = [numpy_helper.from_array(np.asarray(constants[name]), name) for name in sorted(needed - produced)]
    outputs = [helper.make_value_info(name, helper.TypeProto()) for node in nodes for name in node.output if name]
    graph = helper.make_graph(nodes, "constants", [], outputs, initializers)
    sub = helper.make_model(graph, opset_imports=_opsets(model), ir_version=max(model.ir_version, MIN_IR_VERSION))
    names = [o.name for o in outputs]
    try:
        values = ReferenceEvaluator(sub).run(names, {})
    except Exception as err:  # the evaluator raises many kinds; a model it cannot fold is not imported
        raise OnnxImportError(f"cannot fold the model's constant subgraph: {_first_line(err)}") from None
    return {name: np.asarray(value) for name, value in zip(names, values)}


def _foldable(node: Any, constants: dict[str, np.ndarray], shapes: dict[str, tuple[int, ...]]) -> bool:
    if node.op_type == "Shape":
        return node.input[0] in shapes
    if node.op_type in ("RandomNormalLike", "RandomUniformLike", "RandomNormal", "RandomUniform", "Multinomial"):
        return False
    return all(not name or name in constants for name in node.input)


def _shape_value(node: Any, shapes: dict[str, tuple[int, ...]]) -> np.ndarray:
    """Shape(x) of a tensor whose shape is known, with its start/end attributes (opset 15)."""
    shape = np.array(shapes[node.input[0]], dtype=np.int64)
    attrs = {a.name: a.i for a in node.attribute}
    return shape[attrs.get("start", 0) : attrs["end"]] if "end" in attrs else shape[attrs.get("start", 0) :]


def fold(
    model: Any, nodes: list[Any], constants: dict[str, np.ndarray], shapes: dict[str, tuple[int, ...]]
) -> list[Any]:
    """Evaluate every node whose inputs are constants (and Shape of a known shape); the data nodes remain."""
    remaining, batch = [], []
    for node in nodes:
        if not _foldable(node, constants, shapes):
            remaining.append(node)
            continue
        if node.op_type == "Shape":
            constants[node.output[0]] = _shape_value(node, shapes)
            continue
        batch.append(node)
        for name in node.output:
            constants[name] = np.empty(0)  # a placeholder: later nodes of this pass may read it
    if batch:
        constants.update(_evaluate(model, batch, constants))
    return remaining


def infer(
    model: Any,
    input_name: str,
    input_shape: tuple[int, ...],
    nodes: list[Any],
    constants: dict[str, np.ndarray],
    output: str,
) -> dict[str, tuple[int, ...]]:
    """Every tensor's static shape (batch 1) by onnx's shape inference with data propagation."""
    from onnx import TensorProto, helper, numpy_helper, shape_inference

    used = {name for node in nodes for name in node.input if name}
    small, typed = [], []
    for name in sorted(used & set(constants)):
        value = constants[name]
        if value.size <= BIG_INITIALIZER or value.dtype.kind in "iub":
            small.append(numpy_helper.from_array(np.asarray(value), name))
        else:
            typed.append(
                helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(value.dtype), list(value.shape))
            )
    data = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, *input_shape])
    out = helper.make_value_info(output, helper.TypeProto())
    graph = helper.make_graph(nodes, "data", [data, *typed], [out], small)
    probe = helper.make_model(graph, opset_imports=_opsets(model), ir_version=max(model.ir_version, MIN_IR_VERSION))
    try:
        inferred = shape_inference.infer_shapes(probe, data_prop=True)
    except Exception as err:  # onnx raises InferenceError and others
        raise OnnxImportError(f"ONNX shape inference fails on the model: {_first_line(err)}") from None
    shapes = {input_name: (1, *input_shape)}
    for info in (*inferred.graph.value_info, *inferred.graph.output):
        dims = _dims(info)
        if info.type.tensor_type.HasField("shape") and all(d is not None for d in dims):
            shapes[info.name] = tuple(int(d) for d in dims)
    shapes.update({name: tuple(v.shape) for name, v in constants.items()})
    return shapes


def prepare(model: Any, path: str, input_shape: tuple[int, ...] | None = None) -> Prepared:
    """Fold constants and infer shapes until the data nodes stop changing."""
    from onnx import numpy_helper

    input_name, sample = data_input(model, path, input_shape)
    output = _used_data_output(model)
    constants = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    nodes = list(model.graph.node)
    shapes: dict[str, tuple[int, ...]] = {}
    for _ in range(MAX_FOLD_ROUNDS):
        before = len(nodes)
        nodes = fold(model, nodes, constants, shapes)
        shapes = infer(model, input_name, sample, nodes, constants, output)
        if len(nodes) == before and not any(n.op_type == "Shape" and n.input[0] in shapes for n in nodes):
            break
    if output in constants:
        raise OnnxImportError(f"{path}: the model's output does not depend on its input")
    return Prepared(path, model, input_name, sample, output, nodes, constants, shapes)
