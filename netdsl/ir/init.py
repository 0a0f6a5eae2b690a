"""How every tensor of a network starts, stated once: the NumPy backend, the ONNX export's seeded weights
and the generated code all read this plan (and draw in its order from one seeded generator)."""

from __future__ import annotations

from dataclasses import dataclass

from netdsl.ir.graph import Graph, Node
from netdsl.ops.base import FAN, Input, ParamSpec, Shape

HEAD_SCALE = 0.1  # the logits layer starts small so that the first predictions are near uniform


@dataclass(frozen=True)
class TensorInit:
    """One tensor: `how` is he_normal, glorot_uniform, zeros or ones, multiplied by `scale`."""

    key: str  # `<layer>.<param>`
    node: str
    param: str
    shape: Shape
    how: str
    scale: float
    buffer: bool


def tensor_specs(graph: Graph, node: Node) -> dict[str, ParamSpec]:
    """The layer's tensors as its op declares them."""
    ins = [Input(name, graph[name].shape) for name in node.inputs]
    return node.opdef.tensors(node.attrs, ins)


def init_scheme(graph: Graph, node: Node) -> str:
    """He for a layer whose output reaches a rectifier (through transparent ops), Glorot otherwise."""
    current = node
    while True:
        consumers = graph.consumers(current.name)
        if len(consumers) != 1:
            return "glorot_uniform"
        current = consumers[0]
        op = current.opdef
        if op.has("rectifier"):
            return "he_normal"
        if not op.has("transparent"):
            return "glorot_uniform"


def head_layer(graph: Graph) -> str | None:
    """The last conv or dense layer with weights when only after-logits ops follow it (the logits layer)."""
    for node in reversed(graph.nodes):
        op = node.opdef
        if "weight" in node.params and (op.has("conv") or op.has("dense")):
            return node.name
        if not op.has("after_logits"):
            return None
    return None


def _how(spec: ParamSpec, graph: Graph, node: Node) -> tuple[str, float]:
    if spec.init == FAN:
        return init_scheme(graph, node), 1.0
    if isinstance(spec.init, str):
        return spec.init, 1.0
    return ("zeros", 1.0) if spec.init == 0 else ("ones", float(spec.init))


def init_plan(graph: Graph) -> list[TensorInit]:
    """Every tensor in weights-file order (layer by layer, as each op lists them), with its initializer."""
    head = head_layer(graph)
    plan = []
    for node in graph:
        if node.opdef.has("input"):
            continue
        for key, spec in tensor_specs(graph, node).items():
            how, scale = _how(spec, graph, node)
            if spec.init == FAN and node.name == head:
                scale *= HEAD_SCALE
            plan.append(
                TensorInit(f"{node.name}.{key}", node.name, key, tuple(spec.shape), how, scale, not spec.trainable)
            )
    return plan
