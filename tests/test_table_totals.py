"""What `check` prints: scaled totals for any size of integer and a plain table that matches rich's layout."""

from __future__ import annotations

from helpers import EXAMPLES, compile_text

from netdsl.table import mib, scaled, summary_text


def test_scaled_beyond_a_float() -> None:
    """Issue 11 D6: totals above 1e308 raised OverflowError."""
    assert scaled(10**400) == "1.00e+400"
    assert scaled(2**2000).startswith("1.15e+602")
    assert scaled(9996 * 10**20) == "1.00e+24" and scaled(9994 * 10**20) == "9.99e+23"
    assert mib(10**400) == "9.54e+393"  # 10**400 / 2**20


def test_scaled_keeps_the_usual_units() -> None:
    assert [scaled(n) for n in (999, 1000, 416_520, 10**9, 10**14)] == [
        "999",
        "1.00 K",
        "416.52 K",
        "1.00 G",
        "100000.00 G",
    ]
    assert mib(5 * 2**20) == "5.00"


def test_plain_table_matches_rich_layout() -> None:
    """The plain table (linear in the rows) is what rich prints with box.ASCII2 and no edge."""
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table

    from netdsl.table import HEADERS, table_rows

    compilation = compile_text((EXAMPLES / "resnet18.net").read_text())
    network = compilation.networks[0]
    headers = HEADERS + ([] if network.graph.is_chain else ["Inputs"])
    table = Table(title=f"network {network.name}", box=box.ASCII2, title_justify="left", show_edge=False)
    for i, header in enumerate(headers):
        table.add_column(header, justify="right" if i in (3, 4) else "left", no_wrap=True)
    for row in table_rows(network.graph):
        table.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, width=250, no_color=True, highlight=False).print(table)
    expected = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
    assert summary_text(network).startswith(expected + "\n")
