"""Passes over the IR: shapes (inserting fc's implicit flatten), params, MACs, receptive fields, totals."""

from __future__ import annotations

from dataclasses import dataclass

from netdsl.diagnostics import CompileError, DiagnosticSink
from netdsl.ir.graph import Graph, Node
from netdsl.ops.base import Input, ShapeError, numel
from netdsl.ops.core import FLATTEN

BYTES_PER_VALUE = 4  # float32


def _flatten_before(node: Node, source: Node) -> Node:
    return Node(
        f"{node.name}_flatten",
        FLATTEN.name,
        {},
        [source.name],
        node.span,
        node.text,
        implicit=f"{node.op} flattens its input",
        context=node.context,
    )


def infer_shapes(graph: Graph, sink: DiagnosticSink) -> bool:
    """Give every node its output shape, params and MACs; False after a shape error."""
    nodes: list[Node] = []
    shapes: dict[str, tuple] = {}
    ok = True
    for node in graph.nodes:
        if any(name not in shapes for name in node.inputs):
            ok = False  # downstream of an error already reported
            continue
        if node.opdef.has("flattens") and len(shapes[node.inputs[0]]) > 1:
            flatten = _flatten_before(node, graph[node.inputs[0]])
            annotate(flatten, [Input(flatten.inputs[0], shapes[flatten.inputs[0]])])
            nodes.append(flatten)
            shapes[flatten.name] = flatten.shape
            node.inputs = [flatten.name]
        ins = [Input(name, shapes[name]) for name in node.inputs]
        try:
            annotate(node, ins)
        except ShapeError as err:
            sink.add(CompileError(f"{node.text} {err}", node.span, notes=node.context).diagnostic)
            ok = False
            continue
        shapes[node.name] = node.shape
        nodes.append(node)
    graph.nodes = nodes
    graph.reindex()
    if ok:
        receptive_fields(graph)
    return ok


def annotate(node: Node, ins: list[Input]) -> None:
    """Shape, derived attributes, parameters and MACs of one node from its inputs."""
    op = node.opdef
    node.shape, derived = op.infer(node.attrs, ins)
    node.attrs.update(derived)
    node.params = op.params(node.attrs, ins)
    node.buffers = op.buffers(node.attrs, ins)
    node.macs = op.macs(node.attrs, ins, node.shape)


def receptive_fields(graph: Graph) -> None:
    """Size and jump (stride) of each spatial node's receptive field, in input pixels."""
    fields: dict[str, tuple] = {}
    for node in graph.nodes:
        if node.opdef.has("input"):
            rank = len(node.shape) - 1
            rf = ((1,) * rank, (1,) * rank) if _spatial(node.shape) else None
        else:
            known = [fields[i] for i in node.inputs if fields.get(i) is not None]
            rf = _combine(known) if len(known) == len(node.inputs) else None
            if rf is not None:
                rf = _through(node, rf)
        node.receptive_field = rf if node.shape is not None and _spatial(node.shape) else None
        fields[node.name] = node.receptive_field


def _spatial(shape: tuple) -> bool:
    """A sequence, an image or a volume (receptive fields are in input positions along each axis)."""
    return 2 <= len(shape) <= 4


def _combine(fields: list[tuple]) -> tuple | None:
    if len(fields) == 1:
        return fields[0]
    if len({len(f[0]) for f in fields}) != 1:
        return None
    axes = range(len(fields[0][0]))
    sizes = tuple(max(f[0][axis] for f in fields) for axis in axes)
    jumps = tuple(max(f[1][axis] for f in fields) for axis in axes)
    return sizes, jumps


def _through(node: Node, rf: tuple) -> tuple | None:
    kind = node.opdef.receptive
    if kind == "none":
        return None
    if kind == "pointwise":
        return rf
    sizes, jumps = rf
    kernel, stride = node.attrs["kernel"], node.attrs["stride"]
    if len(kernel) != len(sizes):
        return None
    dilation = node.attrs.get("dilation", (1,) * len(kernel))
    return (
        tuple(n + d * (k - 1) * j for n, k, d, j in zip(sizes, kernel, dilation, jumps)),
        tuple(j * s for j, s in zip(jumps, stride)),
    )


@dataclass(frozen=True)
class Totals:
    trainable: int
    non_trainable: int
    macs: int
    param_bytes: int
    activation_bytes: int

    def to_json(self) -> dict:
        return dict(self.__dict__)


def totals(graph: Graph) -> Totals:
    """Totals per sample; activation bytes count every layer's output once (float32)."""
    trainable = sum(n.param_count for n in graph)
    non_trainable = sum(n.buffer_count for n in graph)
    return Totals(
        trainable=trainable,
        non_trainable=non_trainable,
        macs=sum(n.macs for n in graph),
        param_bytes=(trainable + non_trainable) * BYTES_PER_VALUE,
        activation_bytes=sum(numel(n.shape) for n in graph if n.shape) * BYTES_PER_VALUE,
    )
