"""`netdsl draw`, `plot`, `show` and `report`: pictures of a network, its training and its feature maps.

matplotlib is imported inside the commands that need it, never when the parser is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from netdsl.cli import InputError, UsageError, load_program

DIAGRAM_FORMATS = (".svg", ".png", ".pdf", ".dot")
FIGURE_FORMATS = (".png", ".pdf", ".svg")


def output_path(path: str, formats: tuple[str, ...]) -> Path:
    """The -o path, whose suffix must be one of `formats` (one line, exit 2 otherwise)."""
    out = Path(path)
    if out.suffix.lower() not in formats:
        shown = f"'{out.suffix}'" if out.suffix else "none"
        raise UsageError(f"{out}: unsupported output format ({shown}): use {', '.join(formats)}")
    if out.is_dir():
        raise UsageError(f"{out}: is a directory; name the file to write")
    return out


def _write(out: Path, write) -> None:
    from netdsl.fileio import atomic_write

    try:
        atomic_write(out, write)
    except OSError as err:
        raise UsageError(f"{out}: cannot write: {err.strerror or err}") from None
    print(f"wrote {out}")


# ---- draw ----


def cmd_draw(args: argparse.Namespace) -> int:
    from netdsl.draw.structure import NotSeriesParallel

    model = load_program(args)
    out = output_path(args.output or f"{model.name}.svg", DIAGRAM_FORMATS)
    try:
        _write(out, diagram_writer(model.graph, out.suffix.lower(), args.rankdir, args.collapse))
    except NotSeriesParallel as err:
        raise InputError(f"{args.file}: cannot draw network {model.name}: {err}") from None
    return 0


def diagram_writer(graph, suffix: str, rankdir: str, collapse: bool):
    """A function writing the diagram in the format of `suffix` to a binary handle."""
    if suffix == ".dot":
        from netdsl.draw.dot import to_dot

        text = to_dot(graph, rankdir, collapse).encode()
        return lambda handle: handle.write(text)
    from netdsl.draw.layout import layout

    diagram = layout(graph, rankdir, collapse)
    if suffix == ".svg":
        from netdsl.draw.svg import to_svg

        svg = to_svg(diagram).encode()
        return lambda handle: handle.write(svg)
    from netdsl.draw.raster import write_raster

    return lambda handle: write_raster(diagram, handle, suffix[1:])


def register(sub) -> None:
    draw = sub.add_parser("draw", help="draw the network: one box per layer, branches side by side, blocks framed")
    draw.add_argument("file", metavar="FILE", help=".net program")
    draw.add_argument("--network", help="which network of the file (default: the first)")
    draw.add_argument("-o", "--output", metavar="OUT", help="net.svg, .png, .pdf or .dot (default <network>.svg)")
    draw.add_argument("--collapse", action="store_true", help="one box per block instead of its layers")
    draw.add_argument("--rankdir", choices=("TB", "LR"), default="TB", help="top to bottom (TB) or left to right")
    draw.set_defaults(func=cmd_draw)
