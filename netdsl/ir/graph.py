"""The IR: a DAG of nodes in topological order. A chain is the common case of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from netdsl import ops
from netdsl.diagnostics import Span
from netdsl.ops.base import OpDef, Shape, numel


@dataclass
class Node:
    """One layer: op, normalized attributes, producers, and what the passes infer about it."""

    name: str
    op: str
    attrs: dict
    inputs: list[str]
    span: Span
    text: str  # the source text that made this node, for messages
    implicit: str | None = None  # why the compiler added it ("activation=", "fc flattens its input")
    context: tuple[tuple[str, Span], ...] = ()  # block instantiations this node came from
    shape: Shape | None = None
    params: dict[str, Shape] = field(default_factory=dict)  # trainable
    buffers: dict[str, Shape] = field(default_factory=dict)  # non-trainable
    macs: int = 0
    receptive_field: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # ((size per axis), (jump per axis))

    @property
    def opdef(self) -> OpDef:
        """The declaration of the node's op (its arguments, shape rule, traits)."""
        return ops.REGISTRY[self.op]

    @property
    def param_count(self) -> int:
        return sum(numel(s) for s in self.params.values())

    @property
    def buffer_count(self) -> int:
        return sum(numel(s) for s in self.buffers.values())


@dataclass(frozen=True)
class BlockUse:
    """One use of a block, as the front end expanded it: the definition's name and its bound parameters."""

    block: str
    args: dict[str, Any]


@dataclass
class Graph:
    name: str
    nodes: list[Node]
    span: Span
    uses: dict[str, BlockUse] = field(default_factory=dict)  # block instance path (`bottleneck_2`) -> its use
    _index: dict[str, Node] = field(default_factory=dict, repr=False)
    _consumers: dict[str, list[Node]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        """Rebuild the lookups; call it after changing `nodes` or a node's `inputs`."""
        self._index = {n.name: n for n in self.nodes}
        self._consumers = None

    def __getitem__(self, name: str) -> Node:
        return self._index[name]

    def __contains__(self, name: str) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def input(self) -> Node:
        return self.nodes[0]

    @property
    def output(self) -> Node:
        return self.nodes[-1]

    def consumers(self, name: str) -> list[Node]:
        """The nodes that read `name`, in graph order (built once for all nodes, so a loop over them is linear)."""
        if self._consumers is None:
            self._consumers = {n.name: [] for n in self.nodes}
            for node in self.nodes:
                for source in dict.fromkeys(node.inputs):
                    self._consumers.setdefault(source, []).append(node)
        return list(self._consumers.get(name, ()))

    @property
    def is_chain(self) -> bool:
        return all(n.inputs == [prev.name] for prev, n in zip(self.nodes, self.nodes[1:]))
