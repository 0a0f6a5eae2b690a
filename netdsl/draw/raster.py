"""A Diagram as PNG or PDF through matplotlib (Agg): the SVG's geometry, drawn with patches and text."""

from __future__ import annotations

from typing import IO

from netdsl.draw.layout import BOX_PAD, CHAR_PX, FONT_PX, KIND_COLOURS, LEGEND_PX, LINE_PX, MARGIN, Diagram

DPI = 100
MAX_INCHES = 200.0  # PDF viewers refuse larger pages; PNGs stay under matplotlib's pixel limit


def pyplot():
    """matplotlib's pyplot on the Agg backend (no display needed); imported only by the drawing commands."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def write_raster(diagram: Diagram, handle: IO[bytes], fmt: str) -> None:
    """Write `diagram` as `fmt` ("png" or "pdf") to an open binary file."""
    import matplotlib

    pyplot()
    # Hinting rounds each character's advance up to whole pixels (7 instead of 6.6): text would leave its box.
    with matplotlib.rc_context({"text.hinting": "none"}):
        _draw(diagram, handle, fmt)


def char_width(figure, font_pt: float, family: str = "DejaVu Sans Mono") -> float:
    """The width in pixels of one character of the renderer's font (bold is as wide in a monospace font)."""
    from matplotlib.font_manager import FontProperties

    sample = "M" * 100
    widths = [
        figure.canvas.get_renderer().get_text_width_height_descent(
            sample, FontProperties(family=family, size=font_pt, weight=weight), ismath=False
        )[0]
        / len(sample)
        for weight in ("normal", "bold")
    ]
    return max(widths)


def _draw(diagram: Diagram, handle: IO[bytes], fmt: str) -> None:
    from matplotlib.patches import FancyBboxPatch, Rectangle

    plt = pyplot()
    scale = min(1.0, MAX_INCHES * DPI / max(diagram.width, diagram.height))
    font_pt = FONT_PX * 72 / DPI * scale
    figure = plt.figure(figsize=(diagram.width / DPI * scale, diagram.height / DPI * scale), dpi=DPI)
    measured = char_width(figure, font_pt)
    if measured > CHAR_PX * scale:  # a wider fallback font: shrink the text to the width the layout gave it
        font_pt *= CHAR_PX * scale / measured
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, diagram.width)
    axes.set_ylim(diagram.height, 0)
    axes.axis("off")
    text = {"family": "DejaVu Sans Mono", "fontsize": font_pt, "va": "baseline"}
    x: float = MARGIN
    y = MARGIN + (LEGEND_PX - 14) / 2 - 4
    for kind in diagram.legend:
        axes.add_patch(Rectangle((x, y), 14, 14, facecolor=KIND_COLOURS[kind], edgecolor="#444", linewidth=0.8))
        axes.text(x + 18, y + 11, kind, **text)
        x += 14 + 4 + len(kind) * CHAR_PX + 12
    for frame in diagram.frames:
        axes.add_patch(
            FancyBboxPatch(
                (frame.x, frame.y),
                frame.w,
                frame.h,
                boxstyle="round,pad=0,rounding_size=6",
                facecolor="#f6faf8",
                edgecolor="#7a9f8c",
                linestyle="--",
                linewidth=0.8,
            )
        )
        lx, ly, _, lh = frame.label_box
        axes.text(lx, ly + lh - 2, frame.label, color="#3d6b55", fontweight="bold", **text)
    for wire in diagram.wires:
        if wire.arrow:
            axes.annotate(
                "",
                xy=(wire.x2, wire.y2),
                xytext=(wire.x1, wire.y1),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": "#555",
                    "lw": 1.0,
                    "shrinkA": 0,
                    "shrinkB": 0,
                    "mutation_scale": 8 * scale,
                },
            )
        else:
            axes.plot([wire.x1, wire.x2], [wire.y1, wire.y2], color="#555", linewidth=1.0 * scale)
    for box in diagram.boxes:
        axes.add_patch(
            FancyBboxPatch(
                (box.x, box.y),
                box.w,
                box.h,
                boxstyle="round,pad=0,rounding_size=3",
                facecolor=KIND_COLOURS[box.kind],
                edgecolor="#444",
                linewidth=0.8,
                zorder=3,
            )
        )
        for i, line in enumerate(box.lines):
            axes.text(
                box.x + BOX_PAD[0],
                box.y + BOX_PAD[1] + LINE_PX * (i + 1) - 3,
                line,
                zorder=4,
                fontweight="bold" if i == 0 else "normal",
                **text,
            )
    metadata = {"Creator": "netdsl", "CreationDate": None} if fmt == "pdf" else {"Software": "netdsl"}
    figure.savefig(handle, format=fmt, dpi=DPI, metadata=metadata)
    plt.close(figure)
