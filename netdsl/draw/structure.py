"""A network's graph as a series-parallel tree: sequences, `{ A | B }` branch groups, and blocks.

The front end only builds series-parallel graphs (a chain, or branches that leave one layer and
meet in one merge), so the tree is recovered from the graph alone; block instances come from the
layer names, which carry their block path (`bottleneck_2.branch_1.conv_1`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netdsl.ir.graph import Graph, Node


@dataclass
class Leaf:
    """One layer."""

    node: Node


@dataclass
class Parallel:
    """Branches that leave one layer and meet in `merge`; an empty branch is the input itself."""

    branches: list[list[Item]]
    merge: Node


@dataclass
class Group:
    """The layers of one block instance; `path` is its name (`bottleneck_2.branch_1`)."""

    path: str
    block: str
    items: list[Item]


@dataclass
class Collapsed:
    """A block instance drawn as one box (`--collapse`)."""

    path: str
    block: str
    nodes: list[Node]


Item = Leaf | Parallel | Group | Collapsed


class NotSeriesParallel(Exception):
    """The graph has a shape the drawing does not know (the front end never builds one)."""


def block_path(node: Node) -> tuple[str, ...]:
    """The block instances a layer sits in, outermost first (empty at the network's top level)."""
    return tuple(node.name.split(".")[:-1])


def series_parallel(graph: Graph) -> list[Item]:
    """The graph as a sequence of layers and branch groups, from input to output."""
    index = {node.name: i for i, node in enumerate(graph.nodes)}
    sources: dict[str, str] = {}

    def previous(name: str) -> str | None:
        node = graph[name]
        if not node.inputs:
            return None
        return node.inputs[0] if len(node.inputs) == 1 else source_of(node)

    def source_of(merge: Node) -> str:
        """The layer the merge's branches leave from: where their backward walks meet."""
        if merge.name not in sources:
            heads = list(merge.inputs)
            while len(set(heads)) > 1:
                latest = max(range(len(heads)), key=lambda i: index[heads[i]])
                step = previous(heads[latest])
                if step is None:
                    raise NotSeriesParallel(f"the branches of {merge.name} do not leave from one layer")
                heads[latest] = step
            sources[merge.name] = heads[0]
        return sources[merge.name]

    def chain(end: str, stop: str | None) -> list[Item]:
        items: list[Item] = []
        current: str | None = end
        while current != stop:
            if current is None:
                raise NotSeriesParallel(f"the walk back from {end} missed {stop}")
            node = graph[current]
            if len(node.inputs) > 1:
                source = source_of(node)
                items.append(Parallel([chain(name, source) for name in node.inputs], node))
                current = source
            else:
                items.append(Leaf(node))
                current = node.inputs[0] if node.inputs else None
        return items[::-1]

    items = chain(graph.output.name, None)
    placed = sum(1 for _ in layers(items))
    if placed != len(graph):
        raise NotSeriesParallel(f"{len(graph) - placed} layers are not on a path from the input to the output")
    return items


def layers(items: list[Item]):
    """Every layer of a tree, in drawing order."""
    for item in items:
        if isinstance(item, Leaf):
            yield item.node
        elif isinstance(item, Parallel):
            for branch in item.branches:
                yield from layers(branch)
            yield item.merge
        elif isinstance(item, Group):
            yield from layers(item.items)
        else:
            yield from item.nodes


def _path_of(item: Item) -> tuple[str, ...]:
    return block_path(item.node if isinstance(item, Leaf) else item.merge)


_BLOCK_NOTE = re.compile(r"block '([^']+)'")


def _block_name(item: Item, depth: int) -> str:
    """The block definition's name of the instance at `depth` (a labelled call is named by its label)."""
    node = item.node if isinstance(item, Leaf) else item.merge
    if depth < len(node.context):
        found = _BLOCK_NOTE.search(node.context[depth][0])
        if found:
            return found.group(1)
    return block_path(node)[depth]


def grouped(items: list[Item], depth: int = 0) -> list[Item]:
    """Consecutive items of one block instance gathered into a Group, recursively."""
    out: list[Item] = []
    i = 0
    while i < len(items):
        path = _path_of(items[i])
        if len(path) > depth:
            key = path[:depth + 1]
            j = i
            while j < len(items) and _path_of(items[j])[:depth + 1] == key:
                j += 1
            out.append(Group(".".join(key), _block_name(items[i], depth), grouped(items[i:j], depth + 1)))
            i = j
            continue
        item = items[i]
        if isinstance(item, Parallel):
            item = Parallel([grouped(branch, depth) for branch in item.branches], item.merge)
        out.append(item)
        i += 1
    return out


def collapsed(items: list[Item]) -> list[Item]:
    """Every outermost block instance as one box."""
    out: list[Item] = []
    for item in items:
        if isinstance(item, Group):
            out.append(Collapsed(item.path, item.block, list(layers(item.items))))
        elif isinstance(item, Parallel):
            out.append(Parallel([collapsed(branch) for branch in item.branches], item.merge))
        else:
            out.append(item)
    return out


def diagram_tree(graph: Graph, collapse: bool = False) -> list[Item]:
    """The tree to draw: blocks framed, or one box each with `collapse`."""
    tree = grouped(series_parallel(graph))
    return collapsed(tree) if collapse else tree
