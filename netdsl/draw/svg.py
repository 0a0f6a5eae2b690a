"""A Diagram as SVG text, written by netdsl itself: deterministic, one element group per layer."""

from __future__ import annotations

from html import escape

from netdsl.draw.layout import BOX_PAD, CHAR_PX, FONT_PX, KIND_COLOURS, LEGEND_PX, LINE_PX, MARGIN, Diagram

STYLE = (
    ".frame{fill:#f6faf8;stroke:#7a9f8c;stroke-dasharray:4 2}"
    ".label{fill:#3d6b55;font-weight:bold}"
    ".wire{stroke:#555;stroke-width:1.2;fill:none}"
    ".box{stroke:#444;stroke-width:1}"
    ".name{font-weight:bold}"
)


def _n(value: float) -> str:
    """A coordinate with at most one decimal, the same text on every machine."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text(x: float, y: float, text: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f'<text x="{_n(x)}" y="{_n(y)}"{cls}>{escape(text)}</text>'


def _legend(diagram: Diagram) -> list[str]:
    parts: list[str] = []
    x: float = MARGIN
    y = MARGIN + (LEGEND_PX - 14) / 2 - 4
    for kind in diagram.legend:
        parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="14" height="14" fill="{KIND_COLOURS[kind]}" class="box"/>')
        parts.append(_text(x + 18, y + 11, kind))
        x += 14 + 4 + len(kind) * CHAR_PX + 12
    return parts


def to_svg(diagram: Diagram) -> str:
    """The whole picture; boxes last, so wires never paint over them."""
    width, height = _n(diagram.width), _n(diagram.height)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        f'font-size="{FONT_PX}">',
        f"<title>network {escape(diagram.name)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
        'orient="auto"><path d="M0,0L8,4L0,8z" fill="#555"/></marker></defs>',
        f"<style>{STYLE}</style>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    out += _legend(diagram)
    for frame in diagram.frames:
        out.append(
            f'<rect x="{_n(frame.x)}" y="{_n(frame.y)}" width="{_n(frame.w)}" height="{_n(frame.h)}" '
            f'rx="6" class="frame"/>'
        )
        lx, ly, _, lh = frame.label_box
        out.append(_text(lx, ly + lh - 2, frame.label, "label"))
    for wire in diagram.wires:
        marker = ' marker-end="url(#arrow)"' if wire.arrow else ""
        out.append(f'<path d="M{_n(wire.x1)},{_n(wire.y1)}L{_n(wire.x2)},{_n(wire.y2)}" class="wire"{marker}/>')
    for box in diagram.boxes:
        out.append(
            f"<g><title>{escape(box.tooltip)}</title>"
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{_n(box.h)}" rx="3" '
            f'fill="{KIND_COLOURS[box.kind]}" class="box"/>'
        )
        for i, line in enumerate(box.lines):
            out.append(
                _text(box.x + BOX_PAD[0], box.y + BOX_PAD[1] + LINE_PX * (i + 1) - 3, line, "name" if i == 0 else "")
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
