"""The structure of a network's graph: its block uses, repeats and `{ A | B }` branch groups.

One pass, shared by codegen, the diagrams and (later) the editor outline and decompiled ONNX programs.

Blocks and repeats (what codegen turns into classes and loops):

    tree = block_tree(graph)        # the top level: Nodes and Instances (block uses), in graph order
    for unit in runs(tree, graph):  # the same, with consecutive equal uses gathered into a Repeat
        ...
    uses = instances(tree)          # block name -> every Instance of it, outermost first, in graph order

An `Instance` is one use of a block: its path (`bottleneck_2.branch_1`), the block's name, the arguments
it was called with (`Graph.uses`, recorded by the front end), its direct units (layers and the block uses
inside it), the one layer it reads and the layer it returns. A `Repeat` is two or more consecutive uses of
one block with the same arguments and input shape, each reading only the one before (`block(...) * N`):
named `<base>_<k>` for consecutive k, so a loop can name them.

The series-parallel tree (what the diagrams draw): the front end only builds series-parallel graphs (a
chain, or branches that leave one layer and meet in one merge), so the tree is recovered from the graph
alone: `series_parallel(graph)`, `grouped(...)` frames the block uses, `diagram_tree(graph, collapse)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

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
    return block_path(item.node if isinstance(item, Leaf) else item.merge)  # type: ignore[union-attr]  # a leaf or a merge


_BLOCK_NOTE = re.compile(r"block '([^']+)'")


def _block_name(item: Item, depth: int) -> str:
    """The block definition's name of the instance at `depth` (a labelled call is named by its label)."""
    node = item.node if isinstance(item, Leaf) else item.merge  # type: ignore[union-attr]  # a leaf or a merge
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
            key = path[: depth + 1]
            j = i
            while j < len(items) and _path_of(items[j])[: depth + 1] == key:
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


# ---- block uses and repeats ----


@dataclass
class Instance:
    """One use of a block: `path` is its full name (`bottleneck_2.branch_1`)."""

    path: str
    block: str
    args: dict[str, Any]
    units: list[Unit] = field(default_factory=list)  # its layers and block uses, in graph order
    nodes: list[Node] = field(default_factory=list)  # every layer inside it, nested ones too
    input: str = ""  # the layer (outside it) that it reads
    output: str = ""  # its last layer: what it returns

    @property
    def name(self) -> str:
        """Its name in the block or network that uses it (`branch_1`)."""
        return self.path.rsplit(".", 1)[-1]


Unit = Union[Node, Instance]


@dataclass
class Repeat:
    """Consecutive uses of one block with the same arguments, each reading only the one before."""

    uses: list[Instance]
    base: str  # their names are f"{base}_{k}" for k in range(start, start + len(uses))
    start: int

    @property
    def input(self) -> str:
        return self.uses[0].input

    @property
    def output(self) -> str:
        return self.uses[-1].output


def _instance_parts(node: Node) -> tuple[str, ...]:
    """The block uses a layer sits in, outermost first: one per block its context names."""
    return tuple(node.name.split(".")[: len(node.context)])


def _block_of(graph: Graph, path: str, node: Node, depth: int) -> tuple[str, dict[str, Any]]:
    use = graph.uses.get(path)
    if use is not None:
        return use.block, dict(use.args)
    found = _BLOCK_NOTE.search(node.context[depth][0]) if depth < len(node.context) else None
    return (found.group(1) if found else path.rsplit(".", 1)[-1]), {}


def block_tree(graph: Graph) -> list[Unit]:
    """The network's top level as layers and block uses (each holding its own units), in graph order."""
    root: list[Unit] = []
    stack: list[tuple[tuple[str, ...], list[Unit], Instance | None]] = [((), root, None)]
    seen: set[str] = set()
    for node in graph:
        parts = _instance_parts(node)
        while stack[-1][0] != parts[: len(stack[-1][0])]:
            stack.pop()
        while len(stack[-1][0]) < len(parts):
            depth = len(stack[-1][0])
            path = ".".join(parts[: depth + 1])
            if path in seen:
                raise NotSeriesParallel(f"the layers of {path} are not consecutive")
            seen.add(path)
            block, args = _block_of(graph, path, node, depth)
            instance = Instance(path, block, args)
            stack[-1][1].append(instance)
            stack.append((parts[: depth + 1], instance.units, instance))
        stack[-1][1].append(node)
        for _, _, instance in stack[1:]:
            assert instance is not None
            instance.nodes.append(node)
            instance.output = node.name
    for instance in _walk(root):
        inside = {node.name for node in instance.nodes}
        outside = {source for node in instance.nodes for source in node.inputs if source not in inside}
        if len(outside) != 1:
            raise NotSeriesParallel(f"{instance.path} reads {len(outside)} layers outside it, not one")
        instance.input = outside.pop()
    return root


def _walk(units: list[Unit]):
    for unit in units:
        if isinstance(unit, Instance):
            yield unit
            yield from _walk(unit.units)


def instances(units: list[Unit]) -> dict[str, list[Instance]]:
    """Block name -> its uses, outermost first and in graph order, nested uses included."""
    result: dict[str, list[Instance]] = {}
    for instance in _walk(units):
        result.setdefault(instance.block, []).append(instance)
    return result


_NUMBERED = re.compile(r"^(.*)_([0-9]+)$")


def _repeats(previous: Instance, instance: Instance, graph: Graph) -> bool:
    """Whether `instance` repeats `previous`: same block and arguments, the only reader of it, numbered after it."""
    before, after = _NUMBERED.match(previous.name), _NUMBERED.match(instance.name)
    return (
        before is not None
        and after is not None
        and before.group(1) == after.group(1)
        and int(after.group(2)) == int(before.group(2)) + 1
        and instance.block == previous.block
        and repr(instance.args) == repr(previous.args)
        and graph[instance.input].shape == graph[previous.input].shape
        and instance.input == previous.output
        and all(node in instance.nodes for node in graph.consumers(previous.output))
    )


def runs(units: list[Unit], graph: Graph) -> list[Unit | Repeat]:
    """The units with each run of repeated block uses (two or more) gathered into one Repeat."""
    out: list[Unit | Repeat] = []
    current: list[Instance] = []

    def flush() -> None:
        if len(current) > 1:
            found = _NUMBERED.match(current[0].name)
            assert found is not None
            out.append(Repeat(list(current), found.group(1), int(found.group(2))))
        else:
            out.extend(current)
        current.clear()

    for unit in units:
        if isinstance(unit, Instance) and current and _repeats(current[-1], unit, graph):
            current.append(unit)
            continue
        flush()
        if isinstance(unit, Instance):
            current.append(unit)
        else:
            out.append(unit)
    flush()
    return out
