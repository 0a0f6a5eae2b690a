"""The network as Graphviz text, for those who have `dot`: same labels, colours and block clusters."""

from __future__ import annotations

from netdsl.draw.layout import KIND_COLOURS, block_lines, kind_of, layer_lines
from netdsl.ir.graph import Graph
from netdsl.ir.structure import Collapsed, Group, Item, Leaf, Parallel, diagram_tree


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.node_of: dict[str, str] = {}  # layer name -> dot node (a collapsed block stands for its layers)
        self.clusters = 0

    def items(self, items: list[Item], indent: str) -> None:
        for item in items:
            if isinstance(item, Leaf):
                self.node(item.node.name, layer_lines(item.node), kind_of(item.node.op), indent)
            elif isinstance(item, Collapsed):
                self.node(item.path, block_lines(item), "block", indent)
                for layer in item.nodes:
                    self.node_of[layer.name] = item.path
            elif isinstance(item, Parallel):
                for branch in item.branches:
                    self.items(branch, indent)
                self.node(item.merge.name, layer_lines(item.merge), kind_of(item.merge.op), indent)
            else:
                self.group(item, indent)

    def group(self, item: Group, indent: str) -> None:
        self.clusters += 1
        self.lines.append(f"{indent}subgraph cluster_{self.clusters} {{")
        self.lines.append(f'{indent}    label={_quote(item.path)}; style=dashed; color="#7a9f8c";')
        self.items(item.items, indent + "    ")
        self.lines.append(f"{indent}}}")

    def node(self, name: str, lines: list[str], kind: str, indent: str) -> None:
        self.node_of.setdefault(name, name)
        self.lines.append(
            f'{indent}{_quote(name)} [label={_quote(chr(10).join(lines))}, fillcolor="{KIND_COLOURS[kind]}"];'
        )


def to_dot(graph: Graph, rankdir: str = "TB", collapse: bool = False) -> str:
    writer = _Writer()
    writer.items(diagram_tree(graph, collapse), "    ")
    edges = []
    for node in graph:
        for source in node.inputs:
            tail, head = writer.node_of[source], writer.node_of[node.name]
            if tail != head and (tail, head) not in edges:
                edges.append((tail, head))
    header = [
        f"digraph {_quote(graph.name)} {{",
        f"    rankdir={rankdir};",
        '    node [shape=box, style="rounded,filled", fontname="DejaVu Sans Mono", fontsize=10];',
    ]
    body = [f"    {_quote(tail)} -> {_quote(head)};" for tail, head in edges]
    return "\n".join(header + writer.lines + body + ["}"]) + "\n"
