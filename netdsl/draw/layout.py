"""netdsl's own layout of a series-parallel tree: sequences stack, branches sit side by side.

Everything is measured along two axes: `main` (the flow, down for TB, right for LR) and `cross`.
Each placed item has one axis line where wires enter and leave; items of a sequence share it, so
the wire between two of them is a straight segment. Branch wires fork and join in the empty bands
above and below the branch columns, so no wire crosses a box. Text is monospace, so box sizes are
exact without measuring fonts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netdsl import ops
from netdsl.ir.graph import Graph, Node
from netdsl.ir.structure import Collapsed, Group, Item, Leaf, Parallel, diagram_tree
from netdsl.ops.base import fmt_shape

FONT_PX = 11
CHAR_PX = 6.6  # a monospace character is 0.6 em wide
LINE_PX = 14
BOX_PAD = (8, 5)  # (along the text, across the lines)
GAP = 22  # between items of a sequence, and the fork/join bands
SIDE_GAP = 16  # between branches
LANE = 16  # the width of an empty branch (the input itself)
FRAME_PAD = 8
LABEL_PX = 16
LEGEND_PX = 26
MARGIN = 12

# The colour of a layer follows the first of its op's traits in this order (netdsl.ops.base.TRAITS).
KIND_ORDER = (
    "input",
    "conv",
    "dense",
    "pool",
    "normalization",
    "activation",
    "merge",
    "reshape",
    "regularization",
    "elementwise",
)
KIND_COLOURS = {
    "input": "#e0e0e0",
    "conv": "#9ecae9",
    "dense": "#c6b3e6",
    "pool": "#a9dba0",
    "normalization": "#f7d08a",
    "activation": "#fbe8a6",
    "merge": "#f4a6a6",
    "reshape": "#d9c3a5",
    "regularization": "#eeeeee",
    "elementwise": "#fff3c4",
    "block": "#cfe3d9",
    "other": "#ffffff",
}


def kind_of(op_name: str) -> str:
    """The colour key of an op, read from its declaration's traits."""
    op = ops.lookup(op_name)
    traits = op.traits if op else frozenset()
    return next((kind for kind in KIND_ORDER if kind in traits), "other")


@dataclass
class Box:
    """One layer (or one collapsed block) in drawing coordinates (px, y down)."""

    x: float
    y: float
    w: float
    h: float
    lines: list[str]
    kind: str
    names: list[str]  # the layers it stands for
    tooltip: str = ""


@dataclass
class Frame:
    """A block instance's frame and its label."""

    x: float
    y: float
    w: float
    h: float
    path: str  # the block instance (`bottleneck_2.branch_1`)
    label: str
    label_box: tuple[float, float, float, float]  # x, y, w, h of the label text


@dataclass
class Wire:
    """A straight segment; `arrow` when it ends at a box."""

    x1: float
    y1: float
    x2: float
    y2: float
    arrow: bool = False


@dataclass
class Diagram:
    name: str
    rankdir: str
    width: float
    height: float
    boxes: list[Box] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    wires: list[Wire] = field(default_factory=list)
    legend: list[str] = field(default_factory=list)  # the kinds present, in KIND_ORDER


# ---- box text ----


def _params_text(count: int) -> str:
    return f"{count:,} params" if count else ""


def layer_lines(node: Node) -> list[str]:
    """Name (inside its block's frame), op with its key arguments, output shape, params (where non-zero)."""
    from netdsl.table import op_text

    lines = [node.name.split(".")[-1], op_text(node), fmt_shape(node.shape)]
    return lines + ([_params_text(node.param_count)] if node.param_count else [])


def layer_tooltip(node: Node) -> str:
    text = f"{node.name}: {node.text} (line {node.span.line})\noutput {fmt_shape(node.shape)}"
    if node.param_count:
        text += f"\n{node.param_count:,} params"
    if node.macs:
        text += f"\n{node.macs:,} MACs"
    return text


def block_lines(item: Collapsed) -> list[str]:
    params = sum(n.param_count for n in item.nodes)
    lines = [item.path, f"block {item.block} ({len(item.nodes)} layers)", fmt_shape(item.nodes[-1].shape)]
    return lines + ([_params_text(params)] if params else [])


def frame_label(item: Group) -> str:
    """The instance's name inside its parent frame, with its block's name when a label hides it."""
    name = item.path.split(".")[-1]
    return name if name.startswith(item.block) else f"{name} ({item.block})"


def text_size(lines: list[str]) -> tuple[float, float]:
    width = max(len(line) for line in lines) * CHAR_PX + 2 * BOX_PAD[0]
    return round(width, 1), len(lines) * LINE_PX + 2 * BOX_PAD[1]


# ---- measuring and placing, in (cross, main) coordinates ----


@dataclass
class _Measure:
    cross: float
    main: float
    axis: float  # cross offset of the wire line


class _Layout:
    def __init__(self, rankdir: str):
        self.lr = rankdir == "LR"
        self.diagram_boxes: list[Box] = []
        self.frames: list[Frame] = []
        self.wires: list[Wire] = []
        self._measures: dict[int, _Measure] = {}  # by id() of an item or a sequence: the tree outlives the layout

    # -- geometry helpers --
    def box_extent(self, lines: list[str]) -> tuple[float, float]:
        """(cross, main) of a box."""
        w, h = text_size(lines)
        return (h, w) if self.lr else (w, h)

    def xy(self, cross: float, main: float) -> tuple[float, float]:
        return (main, cross) if self.lr else (cross, main)

    def rect(self, cross: float, main: float, c_size: float, m_size: float) -> tuple[float, float, float, float]:
        x, y = self.xy(cross, main)
        w, h = self.xy(c_size, m_size)
        return x, y, w, h

    def wire(self, c1: float, m1: float, c2: float, m2: float, arrow: bool = False) -> None:
        if (c1, m1) == (c2, m2):
            return
        x1, y1 = self.xy(c1, m1)
        x2, y2 = self.xy(c2, m2)
        self.wires.append(Wire(x1, y1, x2, y2, arrow))

    def label_size(self, text: str) -> float:
        return len(text) * CHAR_PX

    # -- measure --
    def measure(self, item: Item) -> _Measure:
        if id(item) not in self._measures:
            self._measures[id(item)] = self._measure(item)
        return self._measures[id(item)]

    def _measure(self, item: Item) -> _Measure:
        if isinstance(item, (Leaf, Collapsed)):
            lines = layer_lines(item.node) if isinstance(item, Leaf) else block_lines(item)
            cross, main = self.box_extent(lines)
            return _Measure(cross, main, cross / 2)
        if isinstance(item, Group):
            pads = self.group_pads(item)
            inner = self.measure_seq(item.items)
            return _Measure(pads[0] + inner.cross + pads[1], pads[2] + inner.main + pads[3], pads[0] + inner.axis)
        return self.measure_parallel(item)

    def measure_seq(self, items: list[Item]) -> _Measure:
        if id(items) not in self._measures:
            self._measures[id(items)] = self._measure_seq(items)
        return self._measures[id(items)]

    def _measure_seq(self, items: list[Item]) -> _Measure:
        if not items:
            return _Measure(LANE, 0, LANE / 2)
        measures = [self.measure(item) for item in items]
        axis = max(m.axis for m in measures)
        cross = max(axis + m.cross - m.axis for m in measures)
        main = sum(m.main for m in measures) + GAP * (len(items) - 1)
        return _Measure(cross, main, axis)

    def group_pads(self, item: Group) -> tuple[float, float, float, float]:
        """(cross start, cross end, main start, main end): room for the label, clear of the wire line."""
        inner = self.measure_seq(item.items)
        label = self.label_size(frame_label(item))
        if self.lr:
            main_end = max(FRAME_PAD, label + 12 - FRAME_PAD - inner.main)
            return FRAME_PAD + LABEL_PX, FRAME_PAD, FRAME_PAD, main_end
        start = max(FRAME_PAD, 14 + label - inner.axis)
        end = max(FRAME_PAD, label + 12 - start - inner.cross)
        return start, end, FRAME_PAD + LABEL_PX, FRAME_PAD

    def parallel_columns(self, item: Parallel) -> tuple[list[_Measure], list[float], float, _Measure]:
        """Branch measures, their cross offsets, the axis, and the merge box's measure."""
        branches = [self.measure_seq(branch) for branch in item.branches]
        offsets, at = [], 0.0
        for m in branches:
            offsets.append(at)
            at += m.cross + SIDE_GAP
        axes = [o + m.axis for o, m in zip(offsets, branches)]
        axis = (axes[0] + axes[-1]) / 2
        merge = self._measure(Leaf(item.merge))  # a fresh Leaf: not cached by id()
        shift = max(0.0, merge.axis - axis)
        return branches, [o + shift for o in offsets], axis + shift, merge

    def measure_parallel(self, item: Parallel) -> _Measure:
        branches, offsets, axis, merge = self.parallel_columns(item)
        cross = max(offsets[-1] + branches[-1].cross, axis + merge.cross - merge.axis)
        main = GAP + max(m.main for m in branches) + GAP + merge.main
        return _Measure(cross, main, axis)

    # -- place: returns (entry main, exit main, entry is a box top) at the item's axis --
    def place(self, item: Item, c0: float, m0: float) -> tuple[float, float, bool]:
        if isinstance(item, (Leaf, Collapsed)):
            return self.place_box(item, c0, m0)
        if isinstance(item, Group):
            return self.place_group(item, c0, m0)
        return self.place_parallel(item, c0, m0)

    def place_box(self, item: Leaf | Collapsed, c0: float, m0: float) -> tuple[float, float, bool]:
        if isinstance(item, Leaf):
            lines, kind, names = layer_lines(item.node), kind_of(item.node.op), [item.node.name]
            tooltip = layer_tooltip(item.node)
        else:
            lines, kind, names = block_lines(item), "block", [n.name for n in item.nodes]
            tooltip = "\n".join(layer_tooltip(n).splitlines()[0] for n in item.nodes)
        cross, main = self.box_extent(lines)
        x, y, w, h = self.rect(c0, m0, cross, main)
        self.diagram_boxes.append(Box(x, y, w, h, lines, kind, names, tooltip))
        return m0, m0 + main, True

    def place_seq(self, items: list[Item], c0: float, m0: float, axis: float) -> tuple[float, float, bool]:
        """Items on the axis line `c0 + axis`, wired one to the next."""
        entry = exit_ = None
        arrow_in = False
        at = m0
        for item in items:
            m = self.measure(item)
            start, end, arrow = self.place(item, c0 + axis - m.axis, at)
            if exit_ is None:
                entry, arrow_in = start, arrow
            else:
                self.wire(c0 + axis, exit_, c0 + axis, start, arrow)
            exit_ = end
            at += m.main + GAP
        return entry, exit_, arrow_in

    def place_group(self, item: Group, c0: float, m0: float) -> tuple[float, float, bool]:
        pads = self.group_pads(item)
        inner = self.measure_seq(item.items)
        outer = self.measure(item)
        x, y, w, h = self.rect(c0, m0, outer.cross, outer.main)
        label = frame_label(item)
        self.frames.append(Frame(x, y, w, h, item.path, label, (x + 4, y + 2, self.label_size(label), LABEL_PX - 4)))
        return self.place_seq(item.items, c0 + pads[0], m0 + pads[2], inner.axis)

    def place_parallel(self, item: Parallel, c0: float, m0: float) -> tuple[float, float, bool]:
        branches, offsets, axis, merge = self.parallel_columns(item)
        fork, top = m0 + GAP / 2, m0 + GAP
        bottom = top + max(m.main for m in branches)
        join = bottom + GAP / 2
        line = c0 + axis
        lines = [c0 + o + m.axis for o, m in zip(offsets, branches)]
        self.wire(min(lines + [line]), fork, max(lines + [line]), fork)
        self.wire(min(lines + [line]), join, max(lines + [line]), join)
        for branch, measure, offset, at in zip(item.branches, branches, offsets, lines):
            if not branch:
                self.wire(at, fork, at, join)
                continue
            entry, exit_, arrow = self.place_seq(branch, c0 + offset, top, measure.axis)
            self.wire(at, fork, at, entry, arrow)
            self.wire(at, exit_, at, join)
        merge_top, merge_bottom, _ = self.place_box(Leaf(item.merge), line - merge.axis, bottom + GAP)
        self.wire(line, join, line, merge_top, True)
        return fork, merge_bottom, False


def layout(graph: Graph, rankdir: str = "TB", collapse: bool = False) -> Diagram:
    """Boxes, frames and wires of the network's diagram, in pixels."""
    tree = diagram_tree(graph, collapse)
    engine = _Layout(rankdir)
    whole = engine.measure_seq(tree)
    top = MARGIN + LEGEND_PX
    engine.place_seq(tree, MARGIN if not engine.lr else top, top if not engine.lr else MARGIN, whole.axis)
    kinds = {box.kind for box in engine.diagram_boxes}  # the kinds drawn: a collapsed block hides its layers'
    legend = [kind for kind in (*KIND_ORDER, "block", "other") if kind in kinds]
    width, height = engine.xy(whole.cross, whole.main)
    legend_width = sum(_legend_width(kind) for kind in legend)
    diagram = Diagram(
        graph.name,
        rankdir,
        max(width + 2 * MARGIN, legend_width + 2 * MARGIN),
        height + top + MARGIN,
        engine.diagram_boxes,
        engine.frames,
        engine.wires,
        legend,
    )
    return diagram


def _legend_width(kind: str) -> float:
    return 14 + 4 + len(kind) * CHAR_PX + 12
