"""What `netdsl check` shows: the layer table, totals and JSON of a checked network."""

from __future__ import annotations

from typing import IO

from netdsl.compiler import CheckedNetwork, Compilation
from netdsl.ir.graph import Graph, Node
from netdsl.ops.base import arg_values, fmt_shape


def op_text(node: Node) -> str:
    text = node.opdef.describe(node.attrs)
    return f"{text} (implicit)" if node.implicit else text


def _json_value(value):
    return list(value) if isinstance(value, tuple) else value


def args_json(node: Node) -> dict:
    """Every argument of the node by name (pairs as [h, w]), defaults included."""
    op = node.opdef
    return {key: _json_value(value) for key, value in arg_values(op.args, node.attrs, op.shown).items()}


def rf_value(node: Node) -> list | None:
    """[size, stride] in input pixels; each an int when the same on every axis, else one per axis ([h, w])."""
    if node.receptive_field is None:
        return None
    size, jump = node.receptive_field
    return [size[0] if len(set(size)) == 1 else list(size), jump[0] if len(set(jump)) == 1 else list(jump)]


def rf_text(node: Node) -> str:
    value = rf_value(node)
    if value is None:
        return ""
    size, jump = (v if isinstance(v, int) else "x".join(map(str, v)) for v in value)
    return f"{size} /{jump}"


def feeds(graph: Graph, index: int) -> str:
    """The producers of a node when they are not simply the row above."""
    node = graph.nodes[index]
    previous = graph.nodes[index - 1].name if index else None
    return "" if node.inputs in ([], [previous]) else ", ".join(node.inputs)


def scaled(n: int) -> str:
    """`416.52 K`, `1.23 G`; from 1e15 on `1.23e+15` (integer arithmetic: totals may exceed a float's range)."""
    if n >= 10**15:
        digits = str(n)
        hundredths = (int(digits[:4]) + 5) // 10  # the leading three digits, rounded
        exponent = len(digits) - 1 + (hundredths >= 1000)
        hundredths = hundredths // 10 if hundredths >= 1000 else hundredths
        return f"{hundredths // 100}.{hundredths % 100:02d}e+{exponent}"
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return str(n)


def mib(n: int) -> str:
    """Bytes as MiB with two decimals, for any size of integer."""
    return f"{n / 2**20:.2f}" if n < 2**1000 else f"{scaled(n // 2**20)}"


def layer_json(node: Node) -> dict:
    return {
        "name": node.name,
        "op": node.op,
        "args": args_json(node),
        "display": op_text(node),
        "shape": list(node.shape),
        "params": node.param_count,
        "non_trainable": node.buffer_count,
        "macs": node.macs,
        "receptive_field": rf_value(node),
        "inputs": list(node.inputs),
        "implicit": node.implicit,
        "line": node.span.line,
        "column": node.span.column,
    }


def network_json(compilation: Compilation, network: CheckedNetwork | None) -> dict:
    diagnostics = compilation.diagnostics + (network.diagnostics if network else [])
    graph = network.graph if network else None
    totals = (
        network.totals.to_json()
        if network and network.totals
        else dict.fromkeys(("trainable", "non_trainable", "macs", "param_bytes", "activation_bytes"))
    )
    return {
        "file": compilation.file,
        "network": network.name if network else None,
        "layers": [layer_json(n) for n in graph] if graph else [],
        "totals": totals,
        "diagnostics": [d.to_json() for d in diagnostics],
    }


def compilation_json(compilation: Compilation) -> dict:
    """One object; a file with several networks lists them all under "networks" too."""
    objects = [network_json(compilation, n) for n in compilation.networks] or [network_json(compilation, None)]
    first = dict(objects[0])
    if len(objects) > 1:
        first["networks"] = objects
    return first


def table_rows(graph: Graph) -> list[list[str]]:
    chain = graph.is_chain
    rows = []
    for index, node in enumerate(graph.nodes):
        row = [
            node.name,
            op_text(node),
            fmt_shape(node.shape),
            f"{node.param_count:,}" if node.param_count else "",
            f"{node.macs:,}" if node.macs else "",
            rf_text(node),
        ]
        if not chain:
            row.append(feeds(graph, index))
        rows.append(row)
    return rows


def totals_lines(network: CheckedNetwork) -> list[str]:
    t = network.totals
    return [
        f"Trainable params:     {t.trainable:,}",
        f"Non-trainable params: {t.non_trainable:,}",
        f"MACs per sample:      {t.macs:,} ({scaled(t.macs)})",
        f"Parameter memory:     {t.param_bytes:,} bytes ({mib(t.param_bytes)} MiB)",
        f"Activations/sample:   {t.activation_bytes:,} bytes ({mib(t.activation_bytes)} MiB)",
    ]


HEADERS = ["Layer", "Op", "Output (CxHxW)", "Params", "MACs", "RF size /stride"]
SHAPE_HEADINGS = {2: "Output (CxL)", 4: "Output (CxDxHxW)"}  # by the input's rank; images and vectors: CxHxW


def headers_for(graph: Graph) -> list[str]:
    """HEADERS with the output heading of the network's input rank, and Inputs when the graph branches."""
    first = graph.nodes[0] if graph.nodes else None
    rank = len(first.shape) if first is not None and first.shape else 3
    rank = 2 if first is not None and first.attrs.get("tokens") else rank  # token ids: their embedding is C x L
    headers = [SHAPE_HEADINGS.get(rank, HEADERS[2]) if h == HEADERS[2] else h for h in HEADERS]
    return headers + ([] if graph.is_chain else ["Inputs"])


RICH_MAX_ROWS = 2_000  # beyond this, rich's layout costs seconds per thousand rows: plain columns instead


def print_network(network: CheckedNetwork, out: IO[str], terminal: bool) -> None:
    """The table with rich on a terminal (boxed, coloured), plain columns otherwise; then the totals."""
    graph = network.graph
    headers = headers_for(graph)
    rows = table_rows(graph)
    if terminal and len(rows) <= RICH_MAX_ROWS:
        _print_rich(network, headers, rows, out)
        return
    for line in plain_table(f"network {network.name}", headers, rows) + totals_lines(network):
        print(line, file=out)


def plain_table(title: str, headers: list[str], rows: list[list[str]]) -> list[str]:
    """The layout rich gives with box.ASCII2 and no edge, in time linear in the rows."""
    widths = [max([len(header)] + [len(row[i]) for row in rows]) for i, header in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "|".join(
            f" {cell.rjust(w) if i in _RIGHT else cell.ljust(w)} " for i, (cell, w) in enumerate(zip(cells, widths))
        )

    total = sum(widths) + 3 * len(widths) - 1
    return [title.ljust(total), line(headers), "+".join("-" * (w + 2) for w in widths)] + [line(r) for r in rows]


_RIGHT = (3, 4)  # the Params and MACs columns


def _print_rich(network: CheckedNetwork, headers: list[str], rows: list[list[str]], out: IO[str]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"network {network.name}", box=box.SIMPLE_HEAVY, title_justify="left", show_edge=True)
    for i, header in enumerate(headers):
        table.add_column(header, justify="right" if i in _RIGHT else "left", no_wrap=True)
    for node, row in zip(network.graph.nodes, rows):
        table.add_row(*row, style="dim" if node.implicit else None)
    console = Console(file=out, force_terminal=True, highlight=False)
    console.print(table)
    for line in totals_lines(network):
        console.print(line)


def summary_text(network: CheckedNetwork) -> str:
    import io

    buffer = io.StringIO()
    print_network(network, buffer, terminal=False)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
