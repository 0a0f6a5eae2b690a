"""`netdsl import`: an ONNX CNN as a readable .net program and its weights (a second front end).

Constants are folded and shapes inferred by onnx's own tools (netdsl.importer.reading); each ONNX node
becomes a layer of an op declaration, or a piece of a pattern several nodes spell out (netdsl.importer.windows,
.tensors, .elementwise); the layers are nested into chains and branches (.structure) and written as text
(.writing), which the usual compiler then checks. onnx is imported only here, never by `netdsl check x.net`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from netdsl.importer.reading import OnnxImportError

__all__ = ["Imported", "OnnxImportError", "import_onnx", "supported_ops"]


class Imported(NamedTuple):
    """The program text and its weights (`<layer>.<param>` in netdsl's layout)."""

    text: str
    weights: dict[str, np.ndarray]


def supported_ops() -> list[str]:
    """The ONNX op types the importer reads."""
    from netdsl.importer import elementwise, tensors, windows  # noqa: F401  (they register their handlers)
    from netdsl.importer.context import HANDLERS

    return sorted(HANDLERS)


def _unsupported(layers: list[Any]) -> list[str]:
    """One line per ONNX op type that no netdsl op or pattern took: first node, count, why."""
    groups: dict[str, list[Any]] = {}
    for layer in layers:
        if layer.pending:
            groups.setdefault(layer.onnx_op, []).append(layer)
    lines = []
    for op_type, group in groups.items():
        more = f" (and {len(group) - 1} more node{'s' if len(group) > 2 else ''})" if len(group) > 1 else ""
        reason = group[0].note or "no netdsl op computes it"
        lines.append(f"unsupported ONNX op {op_type}: node {group[0].node}{more}: {reason}")
    return lines


def _match(prepared: Any) -> Any:
    from netdsl.importer.context import HANDLERS, Context

    supported_ops()
    ctx = Context(prepared)
    for node in prepared.nodes:
        if node.domain not in ("", "ai.onnx"):
            ctx.pending(node, ctx.data_inputs(node) or [prepared.input_name], note=f"an op of domain {node.domain}")
            continue
        handler = HANDLERS.get(node.op_type)
        if handler is None:
            ctx.pending(node, ctx.data_inputs(node) or [prepared.input_name], note="no netdsl op computes it")
        else:
            handler(ctx, node)
    return ctx


def _header(path: Path, model: Any, layers: list[Any], folded_bn: bool) -> list[str]:
    producer = " ".join(filter(None, (model.producer_name, model.producer_version))) or "an unknown producer"
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), "?")
    lines = [f"imported from {path.name} by `netdsl import` (ONNX opset {opset}, made by {producer})"]
    if folded_bn:
        lines.append("the exporter folded batchnorm into the convolutions: their biases hold it")
    return lines


def _folded_batchnorm(prepared: Any, layers: list[Any]) -> bool:
    """A conv with a bias whose weight the exporter computed (PyTorch names such constants onnx::...)."""
    names = {node.output[0]: node for node in prepared.model.graph.node}
    convs = [n for n in prepared.model.graph.node if n.op_type == "Conv" and len(n.input) > 2 and n.input[2]]
    return (
        bool(convs)
        and all(n.input[1].startswith("onnx::") for n in convs)
        and not any(n.op_type == "BatchNormalization" for n in names.values())
    )


def build(prepared: Any, path: Path) -> Imported:
    """Match, nest and write a prepared model; unsupported nodes are all reported in one error."""
    from netdsl.importer.structure import nest, reachable
    from netdsl.importer.writing import Labeller, blocked_text, identifier, program_text

    ctx = _match(prepared)
    output = ctx.resolve(prepared.output_name)
    layers = reachable(ctx.layers, output, ctx.producer)
    problems = _unsupported(layers)
    if problems:
        listing = ", ".join(supported_ops())
        raise OnnxImportError("\n".join(problems) + f"\nnetdsl imports these ONNX ops: {listing}")
    if ctx.channels_last(prepared.output_name):
        raise OnnxImportError("the model's output is channels-last (N x H x W x C); netdsl's outputs are N x C x H x W")
    if output == prepared.input_name:
        raise OnnxImportError("the model computes nothing: its output is its input")
    items = nest(layers, prepared.input_name, output, ctx.producer)
    name = identifier(path.stem, "imported")
    header = _header(path, prepared.model, layers, _folded_batchnorm(prepared, layers))
    text, weights = program_text(name, header, prepared.input_shape, items, Labeller(layers))
    imported = Imported(_formatted(text, str(path)), weights)
    _check(imported, prepared, str(path))
    blocked = blocked_text(name, header, prepared.input_shape, items, Labeller(layers))
    return _with_blocks(blocked, items, prepared, str(path)) or imported


def _with_blocks(text: str | None, items: list[Any], prepared: Any, file: str) -> Imported | None:
    """The program with blocks, its weights paired in order with the compiler's layers; None (the flat program
    stands) where that program does not check exactly."""
    from netdsl.compiler import compile_source
    from netdsl.importer.blocks import flat_layers

    if text is None:
        return None
    try:
        text = _formatted(text, file)
    except Exception:  # a block the formatter or parser refuses: the flat program is still right
        return None
    compilation = compile_source(text, file)
    if not compilation.ok:
        return None
    nodes = [n for n in compilation.networks[0].graph if n.params or n.buffers]
    layers = [layer for layer in flat_layers(items) if layer.weights]
    if len(nodes) != len(layers):
        return None
    weights: dict[str, np.ndarray] = {}
    for node, layer in zip(nodes, layers):
        shapes = {**node.params, **node.buffers}
        if {k: tuple(v.shape) for k, v in layer.weights.items()} != shapes:
            return None
        weights |= {f"{node.name}.{k}": v for k, v in layer.weights.items()}
    imported = Imported(text, weights)
    _check(imported, prepared, file)
    return imported


def _check(imported: Imported, prepared: Any, file: str) -> None:
    """The usual compiler on the program; its tensors must be the weights and its output ONNX's output."""
    from netdsl.compiler import compile_source
    from netdsl.diagnostics import render_all

    compilation = compile_source(imported.text, file)
    if not compilation.ok:
        errors = [d for d in compilation.all_diagnostics if d.severity == "error"]
        raise OnnxImportError(
            "the imported program does not check (please report this):\n" + render_all(errors, compilation.sources)
        )
    graph = compilation.networks[0].graph
    expected = {f"{n.name}.{k}": s for n in graph for k, s in (*n.params.items(), *n.buffers.items())}
    found = {k: tuple(v.shape) for k, v in imported.weights.items()}
    if expected != found:
        wrong = sorted(set(expected.items()) ^ set(found.items()))[:3]
        raise OnnxImportError(f"the imported weights do not fit the program (please report this): {wrong}")
    onnx_shape = prepared.shapes.get(prepared.output_name)
    if onnx_shape is not None and tuple(onnx_shape[1:]) != tuple(graph.output.shape):
        raise OnnxImportError(
            f"the imported program gives {graph.output.shape}, the ONNX model "
            f"{tuple(onnx_shape[1:])} (please report this)"
        )


def _formatted(text: str, file: str) -> str:
    from netdsl.frontend.fmt import format_source

    return format_source(text, file)


def import_onnx(path: str | Path, input_shape: tuple[int, ...] | None = None) -> Imported:
    """An ONNX file as (program text, weights); OnnxImportError says in one line (or one per unsupported
    op type) why a model cannot be imported."""
    from netdsl.importer.reading import prepare, read_model

    path = Path(path)
    model = read_model(path)
    return build(prepare(model, str(path), input_shape), path)
