"""The diagram's geometry for every example: no overlaps, no wire through a box, every edge wired, linear size."""

from __future__ import annotations

from collections import defaultdict

import pytest
from helpers import EXAMPLES, graph_of

import netdsl
from netdsl.draw.layout import Box, Diagram, kind_of, layout
from netdsl.draw.svg import to_svg
from netdsl.ir.structure import Group, Leaf, Parallel, block_path, diagram_tree, layers

EXAMPLE_FILES = sorted(p.stem for p in EXAMPLES.glob("*.net"))
LAYOUTS = [("TB", False), ("LR", False), ("TB", True)]


def _interiors_meet(a: tuple, b: tuple) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _rect(box) -> tuple:
    return (box.x, box.y, box.w, box.h)


def _segment_enters(wire, rect: tuple) -> bool:
    """An axis-parallel segment meets the rectangle's interior (touching its border is fine)."""
    x, y, w, h = rect
    if wire.x1 == wire.x2:
        low, high = sorted((wire.y1, wire.y2))
        return x < wire.x1 < x + w and min(high, y + h) - max(low, y) > 0
    low, high = sorted((wire.x1, wire.x2))
    return y < wire.y1 < y + h and min(high, x + w) - max(low, x) > 0


def _on_border(px: float, py: float, box: Box) -> bool:
    inside_x = box.x <= px <= box.x + box.w
    inside_y = box.y <= py <= box.y + box.h
    return (inside_x and py in (box.y, box.y + box.h)) or (inside_y and px in (box.x, box.x + box.w))


def _wire_nets(diagram: Diagram) -> list[int]:
    """The connected net of each wire (wires meet at an end or where an end lies on another wire)."""
    parent = list(range(len(diagram.wires)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    vertical, horizontal = defaultdict(list), defaultdict(list)
    for i, wire in enumerate(diagram.wires):
        (vertical[wire.x1] if wire.x1 == wire.x2 else horizontal[wire.y1]).append(i)
    for i, wire in enumerate(diagram.wires):
        for px, py in ((wire.x1, wire.y1), (wire.x2, wire.y2)):
            for j in vertical.get(px, ()):
                other = diagram.wires[j]
                if min(other.y1, other.y2) <= py <= max(other.y1, other.y2):
                    parent[find(i)] = find(j)
            for j in horizontal.get(py, ()):
                other = diagram.wires[j]
                if min(other.x1, other.x2) <= px <= max(other.x1, other.x2):
                    parent[find(i)] = find(j)
    return [find(i) for i in range(len(diagram.wires))]


def check_geometry(graph, diagram: Diagram) -> None:
    boxes = sorted(diagram.boxes, key=lambda b: (b.y, b.x))
    for i, box in enumerate(boxes):  # sorted by top: only the next few can meet this one
        assert 0 <= box.x and box.x + box.w <= diagram.width and 0 <= box.y and box.y + box.h <= diagram.height
        for other in boxes[i + 1 :]:
            if other.y >= box.y + box.h:
                break
            assert not _interiors_meet(_rect(box), _rect(other)), f"{box.names[0]} overlaps {other.names[0]}"
    for wire in diagram.wires:
        assert wire.x1 == wire.x2 or wire.y1 == wire.y2, "wires are horizontal or vertical"
    labels = [frame.label_box for frame in diagram.frames]
    for rect, what in [(_rect(b), b.names[0]) for b in boxes] + [(r, "a frame label") for r in labels]:
        crossing = [w for w in diagram.wires if _segment_enters(w, rect)]
        assert not crossing, f"a wire runs through {what}: {crossing[0]}"
    for label in labels:
        assert not any(_interiors_meet(label, _rect(b)) for b in boxes)
    check_frames(diagram)
    check_every_edge_is_wired(graph, diagram)


def check_frames(diagram: Diagram) -> None:
    """Frames nest or stay apart; each holds exactly the boxes of its block instance."""
    frames = {frame.path: frame for frame in diagram.frames}
    for a in diagram.frames:
        for b in diagram.frames:
            if a is b or not _interiors_meet(_rect(a), _rect(b)):
                continue
            outer, inner = (a, b) if b.path.startswith(a.path + ".") else (b, a)
            assert inner.path.startswith(outer.path + "."), f"frames {a.path} and {b.path} overlap"
            assert outer.x <= inner.x and inner.x + inner.w <= outer.x + outer.w
            assert outer.y <= inner.y and inner.y + inner.h <= outer.y + outer.h
    for box in diagram.boxes:
        for name in box.names:
            path = name.split(".")[:-1]
            for depth in range(1, len(path) + 1):
                frame = frames.get(".".join(path[:depth]))
                if frame is None:  # collapsed: the box stands for the block
                    continue
                assert frame.x <= box.x and box.x + box.w <= frame.x + frame.w, f"{name} sticks out of its frame"
                assert frame.y <= box.y and box.y + box.h <= frame.y + frame.h, f"{name} sticks out of its frame"
        for frame in diagram.frames:
            if _interiors_meet(_rect(frame), _rect(box)):
                assert all(n.startswith(frame.path + ".") for n in box.names), f"{box.names[0]} in {frame.path}"


def check_every_edge_is_wired(graph, diagram: Diagram) -> None:
    """For each producer -> consumer, one net of wires touches both boxes, and an arrow enters each consumer."""
    nets = _wire_nets(diagram)
    box_of = {name: box for box in diagram.boxes for name in box.names}
    touching: dict[int, set[int]] = defaultdict(set)  # id(box) -> nets touching it
    arrived: set[int] = set()
    for wire, net in zip(diagram.wires, nets):
        for box in diagram.boxes:
            if _on_border(wire.x1, wire.y1, box) or _on_border(wire.x2, wire.y2, box):
                touching[id(box)].add(net)
            if wire.arrow and _on_border(wire.x2, wire.y2, box):
                arrived.add(id(box))
    for node in graph:
        head = box_of[node.name]
        for source in node.inputs:
            tail = box_of[source]
            if tail is head:
                continue
            assert touching[id(tail)] & touching[id(head)], f"no wire from {source} to {node.name}"
            assert id(head) in arrived, f"no arrow into {node.name}"


@pytest.mark.parametrize("name", EXAMPLE_FILES)
@pytest.mark.parametrize(("rankdir", "collapse"), LAYOUTS)
def test_every_example_draws_without_overlaps(name: str, rankdir: str, collapse: bool) -> None:
    graph = netdsl.load(EXAMPLES / f"{name}.net").graph
    diagram = layout(graph, rankdir, collapse)
    check_geometry(graph, diagram)
    if not collapse:
        assert sorted(n for b in diagram.boxes for n in b.names) == sorted(n.name for n in graph)
        assert all(len(b.names) == 1 for b in diagram.boxes)


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_size_grows_linearly_with_the_layers(name: str) -> None:
    """Branches go side by side, so the long side is at most a box and a gap per layer."""
    graph = netdsl.load(EXAMPLES / f"{name}.net").graph
    diagram = layout(graph)
    assert diagram.height <= 120 * len(graph) + 200
    assert len(to_svg(diagram)) <= 700 * len(graph) + 3000
    assert diagram.width <= 1200 or diagram.width <= 12 * len(graph) + 1200


def test_series_parallel_tree_of_resnet_block() -> None:
    graph = graph_of("""
block res(c) {
    add { conv(c, 3, pad=1) - relu | identity }
    relu
}
network n {
    input(4, 8, 8)
    res(4) - res(4)
    flatten
    output(3)
}""")
    tree = diagram_tree(graph)
    assert [type(item).__name__ for item in tree] == ["Leaf", "Group", "Group", "Leaf", "Leaf", "Leaf"]
    first = tree[1]
    assert isinstance(first, Group) and first.path == "res_1" and first.block == "res"
    add = first.items[0]
    assert isinstance(add, Parallel) and add.merge.name == "res_1.add_1"
    assert [[leaf.node.name for leaf in branch] for branch in add.branches] == [["res_1.conv_1", "res_1.relu_1"], []]
    assert [n.name for n in layers(tree)] == [n.name for n in graph]
    collapsed = diagram_tree(graph, collapse=True)
    assert [getattr(item, "path", None) for item in collapsed[1:3]] == ["res_1", "res_2"]


def test_nested_branches_and_a_labelled_block_call() -> None:
    graph = graph_of("""
block two(c) { concat { conv(c, 1) | add { conv(c, 1) | conv(c, 3, pad=1) } } }
network n {
    input(2, 6, 6)
    first: two(3)
    output(2)
}""")
    diagram = layout(graph)
    check_geometry(graph, diagram)
    assert [f.label for f in diagram.frames] == ["first (two)"]
    assert block_path(graph["first.add_1"]) == ("first",)
    tree = diagram_tree(graph)
    concat = tree[1].items[0]
    inner = concat.branches[1][0]
    assert isinstance(inner, Parallel) and inner.merge.op == "add"
    assert isinstance(concat.branches[0][0], Leaf)


def test_colours_follow_the_op_traits() -> None:
    assert kind_of("conv") == "conv" and kind_of("maxpool") == "pool" and kind_of("globalavgpool") == "pool"
    assert kind_of("relu") == kind_of("softmax") == "activation" and kind_of("bn") == "normalization"
    assert kind_of("concat") == "merge" and kind_of("fc") == "dense" and kind_of("dropout") == "regularization"


def test_a_wire_through_a_box_is_caught() -> None:
    """The checker itself: a diagram whose wire crosses a box fails."""
    graph = netdsl.load(EXAMPLES / "lenet5.net").graph
    diagram = layout(graph)
    box = diagram.boxes[3]
    diagram.wires[0].x1 = diagram.wires[0].x2 = box.x + box.w / 2
    diagram.wires[0].y1, diagram.wires[0].y2 = box.y - 5, box.y + box.h + 5
    with pytest.raises(AssertionError):
        check_geometry(graph, diagram)
