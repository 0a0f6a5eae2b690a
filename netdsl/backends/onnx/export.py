"""A checked graph plus weights to an ONNX ModelProto: float32, dynamic batch `batch`, input `input`,
output `output`, node names from layer names, one initializer per parameter or buffer.

The export is deterministic (same graph and weights give the same bytes) and written atomically.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netdsl.backends.onnx.lower import MIN_OPSET, Emitter, lower_node
from netdsl.backends.onnx.registry import lowering_for
from netdsl.ir.decompose import expand
from netdsl.ir.graph import Graph

if TYPE_CHECKING:
    import numpy as np
    from onnx import ModelProto

DEFAULT_OPSET = 17
MAX_OPSET = 26  # the newest opset tested with onnxruntime (1.31 runs 13..26; opset 27 needs a newer one)
INPUT_NAME = "input"
OUTPUT_NAME = "output"
CHANNELS_FIRST_INPUT = "input.nchw"  # behind an nhwc input's Transpose; no layer name can be this (a dot, no block)
INPUT_LAYOUTS = ("nchw", "nhwc")
BATCH_DIM = "batch"
PROTOBUF_LIMIT = 2**31 - 2**24  # a single .onnx file must stay below 2 GiB, with room for the graph
VERIFY_TOLERANCE = 1e-4  # relative (to the largest reference output) difference accepted by --verify


class ExportError(Exception):
    """The graph, its weights or the options cannot be exported; the message is one line."""


class ExportWarning(UserWarning):
    """Export went ahead with something the user should know (seeded random weights)."""


# ---- options and weights ----


def max_opset() -> int:
    """The newest opset both this exporter and the installed onnx package support."""
    import onnx

    return min(MAX_OPSET, onnx.defs.onnx_opset_version())


def check_opset(opset: int) -> int:
    """The opset if this exporter supports it, else an ExportError that says which are."""
    newest = max_opset()
    if not MIN_OPSET <= opset <= newest:
        why = " (Softmax over channels needs opset 13's single-axis semantics)" if opset < MIN_OPSET else ""
        raise ExportError(f"opset {opset} is not supported: use {MIN_OPSET} to {newest}{why}")
    return opset


def check_weights(graph: Graph, weights: dict[str, Any]) -> dict[str, np.ndarray]:
    """The weights as float32 arrays in graph order; every missing, extra or misshapen entry raises ExportError."""
    import numpy as np

    numpy_backend = _numpy_backend()
    arrays = {key: np.asarray(value) for key, value in weights.items()}
    try:
        numpy_backend.check_tensors(arrays, graph, "the weights")
    except numpy_backend.WeightsError as err:
        raise ExportError(str(err)) from None
    return {key: np.ascontiguousarray(arrays[key], dtype=np.float32) for key in numpy_backend.expected_tensors(graph)}


def seeded_weights(graph: Graph, seed: int = 0) -> dict[str, np.ndarray]:
    """The NumPy backend's seeded initialization (netdsl.ir.init's plan: He/Glorot, batchnorm 1 and 0, ...)."""
    return _numpy_backend().seeded_weights(graph, seed)


def _numpy_backend() -> Any:
    """netdsl.backends.numpy.api, the NumPy backend's one interface to this one, or an ExportError."""
    try:
        from netdsl.backends.numpy import api
    except ImportError as err:
        raise ExportError(f"the NumPy backend is not available ({err})") from None
    return api


def numpy_executor(graph: Graph) -> Any:
    """A float32 NumPy-backend Executor for the graph, or an ExportError if that backend is absent."""
    return _numpy_backend().executor(graph)


def load_weights(path: str | os.PathLike[str], graph: Graph) -> dict[str, np.ndarray]:
    """A .npz weights file checked against the graph, via the NumPy backend's reader."""
    numpy_backend = _numpy_backend()
    try:
        return numpy_backend.load_weights(path, graph)
    except numpy_backend.WeightsError as err:
        raise ExportError(str(err)) from None


# ---- the model ----


def tensor_names(graph: Graph) -> dict[str, str]:
    """The ONNX tensor of every layer: `input`, `output`, else the layer name (made unique if it clashes)."""
    taken = {INPUT_NAME, OUTPUT_NAME, *(f"{n.name}.{k}" for n in graph for k in (*n.params, *n.buffers))}
    names = {graph.input.name: INPUT_NAME}
    for node in graph.nodes[1:]:
        name = node.name
        while name in taken:
            name += "_"
        taken.add(name)
        names[node.name] = name
    names[graph.output.name] = OUTPUT_NAME
    return names


def _value_info(name: str, shape: tuple[int, ...]) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [BATCH_DIM, *shape])


def _add_initializers(onnx_graph: Any, weights: dict[str, np.ndarray]) -> None:
    """Append float32 initializers in place (upb copies large repeated messages slowly; this does not)."""
    from onnx import TensorProto

    for name, array in weights.items():
        tensor = onnx_graph.initializer.add()
        tensor.name = name
        tensor.data_type = TensorProto.FLOAT
        tensor.dims.extend(array.shape)
        tensor.raw_data = array.astype("<f4", copy=False).tobytes()


def lowerable(graph: Graph, opset: int) -> Graph:
    """The graph with each op that has no lowering at this opset replaced by its decomposition."""
    return expand(graph, lambda op: lowering_for(op.name, opset) is not None)


def _nodes(graph: Graph, opset: int) -> list[Any]:
    """The ONNX nodes of every layer, in the graph's topological order."""
    graph = lowerable(graph, opset)
    names = tensor_names(graph)
    emitter = Emitter()
    for node in graph.nodes:
        if node.opdef.has("input"):
            continue
        lower_node(node, [names[i] for i in node.inputs], names[node.name], emitter, opset)
    if graph.output is graph.input:  # a network of nothing but its input
        emitter.add("Identity", [INPUT_NAME], OUTPUT_NAME, OUTPUT_NAME)
    return emitter.nodes


def _channels_last_input(graph: Graph, nodes: list[Any]) -> tuple[list[Any], tuple[int, ...]]:
    """The nodes behind a Transpose from an N x H x W x C graph input, and that input's shape."""
    from onnx import helper

    if len(graph.input.shape) != 3:
        raise ExportError(f"an nhwc input needs an image input; {graph.name} takes vectors of {graph.input.shape[0]}")
    for node in nodes:
        node.input[:] = [CHANNELS_FIRST_INPUT if name == INPUT_NAME else name for name in node.input]
    transpose = helper.make_node(
        "Transpose", [INPUT_NAME], [CHANNELS_FIRST_INPUT], name="input_to_nchw", perm=[0, 3, 1, 2]
    )
    c, h, w = graph.input.shape
    return [transpose, *nodes], (h, w, c)


def build_model(
    graph: Graph,
    weights: dict[str, Any],
    opset: int = DEFAULT_OPSET,
    metadata: dict[str, str] | None = None,
    input_layout: str = "nchw",
) -> ModelProto:
    """The ONNX model of a checked graph with the given weights (checked against it); `metadata` goes
    into the model's metadata_props (see split_metadata) beside the input's layouts. `input_layout`
    "nhwc" makes the graph input N x H x W x C, transposed inside the graph (Keras-style feeds)."""
    from onnx import helper

    from netdsl import __version__

    check_opset(opset)
    if input_layout not in INPUT_LAYOUTS:
        raise ExportError(f"unknown input layout '{input_layout}': use {' or '.join(INPUT_LAYOUTS)}")
    checked = check_weights(graph, weights)
    size = sum(a.nbytes for a in checked.values())
    if size >= PROTOBUF_LIMIT:
        raise ExportError(f"{graph.name} has {size / 2**30:.1f} GiB of weights; one .onnx file holds less than 2 GiB")
    nodes, input_shape = _nodes(graph, opset), graph.input.shape
    if input_layout == "nhwc":
        nodes, input_shape = _channels_last_input(graph, nodes)
    onnx_graph = helper.make_graph(
        nodes,
        graph.name,
        [_value_info(INPUT_NAME, input_shape)],
        [_value_info(OUTPUT_NAME, graph.output.shape)],
    )
    metadata = {
        **(metadata or {}),
        "netdsl.input_layout": input_layout,
        "netdsl.layout": graph.input.attrs.get("layout", "chw"),
    }
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        onnx_graph,
        opset_imports=opsets,
        ir_version=helper.find_min_ir_version_for(opsets),
        producer_name="netdsl",
        producer_version=__version__,
        doc_string=f"netdsl network {graph.name}",
    )
    _add_initializers(model.graph, checked)
    helper.set_model_props(model, dict(sorted(metadata.items())))
    return model


def split_metadata(data: str, seed: int, val_split: float) -> dict[str, str]:
    """The train section's data settings, so `netdsl run --data` scores the samples `evaluate` scores."""
    return {"netdsl.data": data, "netdsl.seed": str(seed), "netdsl.val_split": repr(float(val_split))}


def save_model(model: ModelProto, path: str | os.PathLike[str]) -> Path:
    """Write the model's bytes to a temporary file beside `path`, then rename it into place."""
    from netdsl.fileio import atomic_write_bytes

    return atomic_write_bytes(path, model.SerializeToString(deterministic=True))


def export_onnx(
    graph: Graph,
    weights: dict[str, Any] | None,
    path: str | os.PathLike[str] | None,
    opset: int = DEFAULT_OPSET,
    seed: int = 0,
    metadata: dict[str, str] | None = None,
    input_layout: str = "nchw",
) -> ModelProto:
    """Build the ONNX model and write it to `path` (when given); no weights means a seeded initialization."""
    check_opset(opset)
    if weights is None:
        warnings.warn(
            f"no weights given: exporting {graph.name} with a seeded random initialization (seed {seed})",
            ExportWarning,
            stacklevel=2,
        )
        weights = seeded_weights(graph, seed)
    model = build_model(graph, weights, opset, metadata, input_layout)
    if path is not None:
        save_model(model, path)
    return model


# ---- verification against the NumPy backend ----


@dataclass(frozen=True)
class Verification:
    """onnxruntime against the NumPy backend on one seeded batch.

    max_rel is max|onnx - numpy| divided by max|numpy| (the largest reference output), which stays
    meaningful where single outputs are near zero.
    """

    max_abs: float
    max_rel: float
    batch: int
    tolerance: float = VERIFY_TOLERANCE

    @property
    def ok(self) -> bool:
        return self.max_rel <= self.tolerance

    def line(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        return (
            f"verify: batch {self.batch}: max abs difference {self.max_abs:.3g}, max rel difference "
            f"{self.max_rel:.3g} (tolerance {self.tolerance:g}): {verdict}"
        )


def difference(actual: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """(max abs difference, that divided by the largest |expected|)."""
    import numpy as np

    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ExportError(f"output shapes differ: onnxruntime {actual.shape}, NumPy backend {expected.shape}")
    if actual.size == 0:
        return 0.0, 0.0
    max_abs = float(np.max(np.abs(actual - expected)))
    scale = float(np.max(np.abs(expected)))
    return max_abs, max_abs / max(scale, 1e-30)


def verify(
    graph: Graph,
    weights: dict[str, Any],
    model: str | os.PathLike[str] | bytes,
    batch: int = 2,
    seed: int = 0,
    tolerance: float = VERIFY_TOLERANCE,
) -> Verification:
    """Run onnxruntime (CPU) and the NumPy backend on the same seeded standard-normal batch."""
    import numpy as np

    from netdsl.backends.onnx.runtime import Session

    x = np.random.default_rng(seed).standard_normal((batch, *graph.input.shape)).astype(np.float32)
    executor = numpy_executor(graph)
    executor.load_state_dict(check_weights(graph, weights))
    expected = executor.predict(x)
    session = Session(model, provider="cpu")
    channels_last = session.metadata.get("netdsl.input_layout") == "nhwc"
    actual = session.run(np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if channels_last else x)
    max_abs, max_rel = difference(actual, expected)
    return Verification(max_abs, max_rel, batch, tolerance)
