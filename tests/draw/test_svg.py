"""The SVG, Graphviz and raster writers: a golden SVG for lenet5, well-formed XML, escaped text, determinism."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import EXAMPLES, graph_of

import netdsl
from netdsl.draw.dot import to_dot
from netdsl.draw.layout import layout
from netdsl.draw.svg import to_svg

GOLDEN = Path(__file__).parent / "golden" / "lenet5.svg"
SVG = "{http://www.w3.org/2000/svg}"


def test_lenet5_svg_matches_the_golden_file() -> None:
    """Regenerate with NETDSL_REGENERATE_GOLDEN=1 after an intended change, and look at the picture."""
    svg = to_svg(layout(netdsl.load(EXAMPLES / "lenet5.net").graph))
    if os.environ.get("NETDSL_REGENERATE_GOLDEN"):
        GOLDEN.write_text(svg, encoding="utf-8")
    assert svg == GOLDEN.read_text(encoding="utf-8"), "run NETDSL_REGENERATE_GOLDEN=1 pytest tests/draw/test_svg.py"


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "googlenet"])
def test_svg_is_well_formed_with_one_group_per_layer(name: str) -> None:
    graph = netdsl.load(EXAMPLES / f"{name}.net").graph
    diagram = layout(graph)
    root = ET.fromstring(to_svg(diagram))
    groups = root.findall(f"{SVG}g")
    assert len(groups) == len(graph)
    first_lines = [g.findall(f"{SVG}text")[0].text for g in groups]
    assert sorted(first_lines) == sorted(n.name.split(".")[-1] for n in graph)
    assert float(root.get("width")) == pytest.approx(diagram.width, abs=0.1)
    assert to_svg(layout(graph)) == to_svg(diagram)  # deterministic


def test_text_is_escaped() -> None:
    graph = graph_of("network n { input(1, 4, 4)\n a: conv(2, 3) - relu\n output(2) }")
    graph["a"].name = "a<&>"
    for node in graph:
        node.inputs = ["a<&>" if i == "a" else i for i in node.inputs]
    graph.reindex()
    svg = to_svg(layout(graph))
    assert "a&lt;&amp;&gt;" in svg and "a<&>" not in svg
    ET.fromstring(svg)


def test_dot_has_every_layer_edge_and_cluster() -> None:
    graph = netdsl.load(EXAMPLES / "resnet18.net").graph
    dot = to_dot(graph, "LR")
    assert dot.startswith('digraph "resnet18" {') and "rankdir=LR;" in dot
    edges = sum(len(n.inputs) for n in graph)
    assert dot.count(" -> ") == edges
    assert dot.count("subgraph cluster_") == 8
    collapsed = to_dot(graph, collapse=True)
    assert "subgraph" not in collapsed and '"basic_1" -> "basic_2";' in collapsed


def test_png_and_pdf_are_written(tmp_path: Path) -> None:
    from PIL import Image

    from netdsl.draw.raster import write_raster

    diagram = layout(netdsl.load(EXAMPLES / "seed002_mnist_table.net").graph)
    with open(tmp_path / "n.png", "wb") as handle:
        write_raster(diagram, handle, "png")
    with Image.open(tmp_path / "n.png") as image:
        assert abs(image.size[0] - diagram.width) <= 1 and abs(image.size[1] - diagram.height) <= 1
        colours = {image.getpixel((int(b.x + 3), int(b.y + b.h - 3)))[:3] for b in diagram.boxes}
    assert len(colours) >= 5  # input, conv, activation, pool, dense, normalization: filled by kind
    with open(tmp_path / "n.pdf", "wb") as handle:
        write_raster(diagram, handle, "pdf")
    assert (tmp_path / "n.pdf").read_bytes().startswith(b"%PDF")
