"""PNG diagrams: text stays inside its box with the renderer's own font metrics."""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers import EXAMPLES, graph_of

import netdsl
from netdsl.draw.layout import BOX_PAD, CHAR_PX, KIND_COLOURS, layout

pytest.importorskip("matplotlib", reason="PNG diagrams are drawn with matplotlib")


def _png(diagram) -> np.ndarray:
    from PIL import Image

    from netdsl.draw.raster import write_raster

    buffer = io.BytesIO()
    write_raster(diagram, buffer, "png")
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")).astype(int)


def test_text_leaves_the_right_padding_of_every_box_empty() -> None:
    diagram = layout(graph_of("input(3, 224, 224) - conv(64, 7, stride=2, pad=3, bias=false) - relu"))
    pixels = _png(diagram)
    for box in diagram.boxes:
        fill = np.array([int(KIND_COLOURS[box.kind][i : i + 2], 16) for i in (1, 3, 5)])
        x0, x1 = int(box.x + box.w - BOX_PAD[0] + 2), int(box.x + box.w - 2)
        y0, y1 = int(box.y + 3), int(box.y + box.h - 3)
        strip = pixels[y0:y1, x0:x1]
        assert np.abs(strip - fill).max() < 40, f"{box.lines[0]}: text runs into the box's right padding"


def test_the_renderer_font_is_no_wider_than_the_layout_assumes() -> None:
    import matplotlib

    from netdsl.draw.raster import char_width, pyplot

    plt = pyplot()
    with matplotlib.rc_context({"text.hinting": "none"}):
        figure = plt.figure(dpi=100)
        assert char_width(figure, 11 * 72 / 100) <= CHAR_PX + 0.05
        plt.close(figure)


def test_a_collapsed_legend_lists_only_the_kinds_drawn() -> None:
    diagram = layout(netdsl.load(EXAMPLES / "resnet18.net").graph, collapse=True)
    assert diagram.legend and set(diagram.legend) == {box.kind for box in diagram.boxes}
    assert "merge" not in diagram.legend  # the adds are inside the collapsed blocks
