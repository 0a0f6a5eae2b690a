"""Composite ops: a layer whose op a backend does not implement becomes its op's decomposition
(OpDef.decompose), a few layers of other ops, before that backend runs the graph."""

from __future__ import annotations

from typing import Callable

from netdsl.ir.graph import Graph, Node
from netdsl.ir.passes import annotate
from netdsl.ops.base import Input, OpDef


def expand(graph: Graph, native: Callable[[OpDef], bool]) -> Graph:
    """The graph itself when every op is native (or has no decomposition), else a copy in which each
    other layer is replaced by its steps: `<layer>/<step>` nodes, the last one keeping the layer's name."""
    if all(_keep(n.opdef, native) for n in graph):
        return graph
    nodes: list[Node] = []
    shapes: dict[str, tuple] = {}
    for node in graph:
        for new in _lowered(node, shapes, native):
            nodes.append(new)
            shapes[new.name] = new.shape
    return Graph(graph.name, nodes, graph.span, graph.uses)


def _keep(op: OpDef, native: Callable[[OpDef], bool]) -> bool:
    return op.has("input") or native(op) or op.decompose is None


def _lowered(node: Node, shapes: dict[str, tuple], native: Callable[[OpDef], bool]) -> list[Node]:
    """The node, or the (recursively expanded) nodes of its decomposition."""
    op = node.opdef
    if _keep(op, native):
        return [node]
    steps = op.decompose(node.attrs, [shapes[i] for i in node.inputs])
    names = {f"x{k}": name for k, name in enumerate(node.inputs)}
    result: list[Node] = []
    for index, step in enumerate(steps):
        name = node.name if index == len(steps) - 1 else f"{node.name}/{step.name}"
        inputs = [names[i] for i in step.inputs]
        part = Node(
            name,
            step.op,
            dict(step.attrs),
            inputs,
            node.span,
            node.text,
            implicit=f"{node.op} decomposed",
            context=node.context,
        )
        annotate(part, [Input(i, shapes[i]) for i in inputs])
        if part.params or part.buffers:
            raise ValueError(f"{node.op}'s decomposition gives {step.op} parameters; decompositions may not")
        for new in _lowered(part, shapes, native):
            result.append(new)
            shapes[new.name] = new.shape
        names[step.name] = name
    return result
