"""How a Model shows itself in a notebook: the check table and the diagram (`Model._repr_html_`, `_repr_svg_`).

The diagram goes in as an <img> with a data: URI, so that its ids and styles stay its own when a notebook shows
several; a big net is drawn with its blocks collapsed and its table folded away (HTML <details>).
"""

from __future__ import annotations

from html import escape

BIG_NET = 60  # layers from which the diagram collapses its blocks and the table starts folded
STYLE = (
    ".netdsl-model table{border-collapse:collapse;font-size:12px;margin:4px 0}"
    ".netdsl-model td,.netdsl-model th{padding:1px 6px;border:1px solid #ddd;text-align:left}"
    ".netdsl-model td.num,.netdsl-model th.num{text-align:right}"
    ".netdsl-model pre{font-size:12px;margin:4px 0}"
    ".netdsl-model .diagram{max-height:720px;overflow:auto;border:1px solid #ddd;display:inline-block}"
)


def model_svg(model) -> str:
    """The network's diagram as SVG (blocks collapsed for a big net)."""
    from netdsl.draw.layout import layout
    from netdsl.draw.svg import to_svg

    return to_svg(layout(model.graph, collapse=len(model.graph) >= BIG_NET))


def model_html(model) -> str:
    """A heading, the check table (folded for a big net), the totals and the diagram."""
    from netdsl.draw.report_html import data_uri
    from netdsl.table import HEADERS, table_rows, totals_lines

    graph = model.graph
    big = len(graph) >= BIG_NET
    headers = HEADERS + ([] if graph.is_chain else ["Inputs"])
    numeric = {3, 4}
    head = "".join(f"<th{' class=num' if i in numeric else ''}>{escape(h)}</th>" for i, h in enumerate(headers))
    rows = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in numeric else ''}>{escape(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in table_rows(graph)
    )
    totals = "\n".join(totals_lines(model._network))
    table = f"<table><tr>{head}</tr>{rows}</table>"
    summary = f"check table: {len(graph)} layers"
    folded = f"<details{'' if big else ' open'}><summary>{escape(summary)}</summary>{table}</details>"
    svg = model_svg(model).encode("utf-8")
    note = " (blocks collapsed)" if big else ""
    diagram = (
        f'<details open><summary>diagram{note}</summary><div class="diagram">'
        f'<img src="{data_uri(svg, "image/svg+xml")}" alt="diagram of {escape(model.name)}"></div></details>'
    )
    warnings = "".join(f"<li>{escape(d.message)}</li>" for d in model.warnings)
    warned = f"<ul>{warnings}</ul>" if warnings else ""
    return (
        f'<div class="netdsl-model"><style>{STYLE}</style><b>network {escape(model.name)}</b>'
        f"{warned}{folded}<pre>{escape(totals)}</pre>{diagram}</div>"
    )
