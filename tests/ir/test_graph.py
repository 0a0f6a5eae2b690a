"""Graph lookups: consumers are right, follow reindex(), and cost one pass over the nodes for all of them."""

from __future__ import annotations

from helpers import graph_of

from netdsl.diagnostics import DiagnosticSink
from netdsl.ir.lint import lint

RESIDUAL = """
input(4, 8, 8) - conv(4, 3x3, pad=same)
  - add { relu - conv(4, 3x3, pad=same) | identity }
  - concat { identity | identity } - fc(10)
"""


class CountingList(list):
    """A node list that counts how often it is walked from the start."""

    walks = 0

    def __iter__(self):
        CountingList.walks += 1
        return super().__iter__()


def test_consumers_match_a_scan_of_every_node() -> None:
    graph = graph_of(RESIDUAL)
    for node in graph:
        assert graph.consumers(node.name) == [n for n in graph.nodes if node.name in n.inputs]
    concat = next(n for n in graph if n.op == "concat")
    assert graph.consumers(concat.inputs[0]) == [concat]  # read twice, listed once


def test_consumers_follow_reindex() -> None:
    graph = graph_of("input(8) - relu - fc(10)")
    first, relu, fc = graph.nodes[0], graph.nodes[1], graph.nodes[-1]
    assert graph.consumers(first.name) == [relu]
    fc.inputs = [first.name]
    graph.reindex()
    assert graph.consumers(first.name) == [relu, fc]
    assert graph.consumers(relu.name) == []


def test_lint_walks_the_nodes_a_fixed_number_of_times() -> None:
    """Issue 11 S3: lint asked for consumers once per node and each call scanned every node (quadratic)."""
    for layers in (10, 1000):
        graph = graph_of(f"input(8) - [relu]*{layers} - fc(10)")
        graph.nodes = CountingList(graph.nodes)
        graph.reindex()
        CountingList.walks = 0
        lint(graph, DiagnosticSink())
        assert CountingList.walks <= 3, f"{layers} layers: the node list was walked {CountingList.walks} times"


def test_codegen_walks_the_nodes_a_fixed_number_of_times() -> None:
    from netdsl.codegen.render import planned

    walks = []
    for layers in (10, 1000):
        graph = graph_of(f"input(8) - [relu]*{layers} - fc(10)")
        graph.nodes = CountingList(graph.nodes)
        graph.reindex()
        CountingList.walks = 0
        planner = planned(graph, "numpy")
        assert len(planner.top.forward) >= layers
        walks.append(CountingList.walks)
    assert walks[0] == walks[1] <= 10, walks


def test_each_node_holds_its_op_declaration() -> None:
    from netdsl import ops

    graph = graph_of(RESIDUAL)
    assert all(node.opdef is ops.REGISTRY[node.op] for node in graph)
    assert graph.nodes[0].opdef.has("input")
