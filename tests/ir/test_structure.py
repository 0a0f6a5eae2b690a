"""netdsl.ir.structure: the block uses and repeats of a graph, shared by codegen and the diagrams."""

from __future__ import annotations

from helpers import EXAMPLES

import netdsl
from netdsl.ir.graph import Graph, Node
from netdsl.ir.structure import Instance, Repeat, block_tree, instances, runs


def _names(units: list) -> list[str]:
    return [
        u.path if isinstance(u, Instance) else f"{u.base}*{len(u.uses)}" if isinstance(u, Repeat) else u.name
        for u in units
    ]


def test_resnet18_top_level_and_uses() -> None:
    graph = netdsl.load(EXAMPLES / "resnet18.net").graph
    tree = block_tree(graph)
    assert _names(tree)[:7] == ["input_1", "conv_1", "batchnorm_1", "relu_1", "maxpool_1", "basic_1", "basic_2"]
    first = tree[5]
    assert isinstance(first, Instance) and first.block == "basic" and first.args == {"c": 64}
    assert first.input == "maxpool_1" and first.output == "basic_1.relu_2" and first.name == "basic_1"
    assert [n.name for n in first.units][-2:] == ["basic_1.add_1", "basic_1.relu_2"]
    assert all(n.name.startswith("basic_1.") for n in first.nodes) and len(first.nodes) == 7
    down = next(u for u in tree if isinstance(u, Instance) and u.block == "basic_down")
    assert down.args == {"c": 128, "stride": 2}  # the default is bound too, in the definition's order
    uses = instances(tree)
    assert {block: len(found) for block, found in uses.items()} == {"basic": 5, "basic_down": 3}


def test_repeated_uses_become_one_repeat() -> None:
    graph = netdsl.load(EXAMPLES / "resnet50.net").graph
    steps = runs(block_tree(graph), graph)
    repeats = [s for s in steps if isinstance(s, Repeat)]
    assert [(r.base, r.start, len(r.uses)) for r in repeats] == [
        ("bottleneck", 1, 2),
        ("bottleneck", 3, 3),
        ("bottleneck", 6, 5),
        ("bottleneck", 11, 2),
    ]
    assert repeats[0].input == "bottleneck_down_1.relu_1" and repeats[0].output == "bottleneck_2.relu_1"


def test_uses_with_other_inputs_or_readers_are_not_repeats() -> None:
    model = netdsl.loads("""
block b(c) { conv(c, 3, pad=1) - relu }
network n {
    input(4, 8, 8)
    b(4) - b(8) - b(8) - b(8)
    add { b(8) | identity }
    b(8)
}""")
    steps = runs(block_tree(model.graph), model.graph)
    # b_2 reads 4 channels, b_3 and b_4 read 8; b_4's output is also read by add_1
    assert _names(steps) == ["input_1", "b_1", "b_2", "b*2", "b_5", "add_1", "b_6"]
    merge = steps[5]
    assert isinstance(merge, Node) and merge.inputs == ["b_5.relu_1", "b_4.relu_1"]


def test_nested_uses_and_a_graph_without_recorded_uses() -> None:
    graph = netdsl.load(EXAMPLES / "resnet50.net").graph
    tree = block_tree(graph)
    outer = next(u for u in tree if isinstance(u, Instance))
    inner = outer.units[0]
    assert isinstance(inner, Instance) and inner.path == "bottleneck_down_1.branch_1" and inner.block == "branch"
    assert inner.args == {"c": 64, "stride": 1} and inner.input == "maxpool_1"
    bare = Graph(graph.name, graph.nodes, graph.span)  # a graph built elsewhere: blocks named from the context
    again = next(u for u in block_tree(bare) if isinstance(u, Instance))
    assert again.block == "bottleneck_down" and again.args == {}
    assert [u.path for u in again.units if isinstance(u, Instance)] == ["bottleneck_down_1.branch_1"]
