"""From a DAG of layers to the language's nesting: chains, and `add`/`concat`/`mul` whose branches all start
at one tensor (the merge's immediate dominator) and meet at the merge. A graph that is not so nested (a
branch that reads a tensor from outside its fork) is refused with the layer that breaks it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from netdsl.importer.layers import Layer
from netdsl.importer.reading import OnnxImportError


@dataclass
class Merge:
    """A merge layer with the chains of its branches (an empty chain is `identity`)."""

    layer: Layer
    branches: list[list[Item]]


Item = Union[Layer, Merge]


def reachable(layers: list[Layer], output: str, producer: dict[str, Layer]) -> list[Layer]:
    """The layers the output depends on, in their order."""
    needed: set[int] = set()
    pending = [output]
    while pending:
        layer = producer.get(pending.pop())
        if layer is not None and id(layer) not in needed:
            needed.add(id(layer))
            pending += layer.inputs
    return [layer for layer in layers if id(layer) in needed]


class Nester:
    """Builds the nested chain from the input tensor to the output tensor."""

    def __init__(self, layers: list[Layer], source: str, producer: dict[str, Layer]):
        self.producer = producer
        self.order = {source: 0} | {layer.output: i + 1 for i, layer in enumerate(layers)}
        self.idom: dict[str, str] = {}
        self.source = source
        self.used: set[int] = set()
        for layer in layers:
            self.idom[layer.output] = self._meet(layer.inputs)

    def _meet(self, names: list[str]) -> str:
        """The latest tensor through which every path from the input to all of `names` passes."""
        fork = names[0]
        for other in names[1:]:
            a, b = fork, other
            while a != b:
                while self.order[a] > self.order[b]:
                    a = self.idom[a]
                while self.order[b] > self.order[a]:
                    b = self.idom[b]
            fork = a
        return fork

    def chain(self, start: str, end: str) -> list[Item]:
        items: list[Item] = []
        tensor = end
        while tensor != start:
            layer = self.producer.get(tensor)
            if layer is None or self.order[tensor] < self.order[start]:
                raise OnnxImportError(
                    f"the graph's branches cross: {start} does not lead to {end} alone, which "
                    "netdsl's nested add/concat/mul cannot express"
                )
            if id(layer) in self.used:
                raise OnnxImportError(
                    f"node {layer.node} feeds two branches that meet later in different places; "
                    "netdsl's nested add/concat/mul cannot express that graph"
                )
            self.used.add(id(layer))
            if len(layer.inputs) > 1:
                fork = self.idom[tensor]
                items.append(Merge(layer, [self.chain(fork, i) for i in layer.inputs]))
                tensor = fork
            else:
                items.append(layer)
                tensor = layer.inputs[0]
        return items[::-1]


def nest(layers: list[Layer], source: str, output: str, producer: dict[str, Layer]) -> list[Item]:
    return Nester(layers, source, producer).chain(source, output)
