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
    from netdsl.ir.structure import NotSeriesParallel

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


def draw_arguments(draw: argparse.ArgumentParser) -> None:
    draw.add_argument("file", metavar="FILE", help=".net program")
    draw.add_argument("--network", help="which network of the file (default: the first)")
    draw.add_argument("-o", "--output", metavar="OUT", help="net.svg, .png, .pdf or .dot (default <network>.svg)")
    draw.add_argument("--collapse", action="store_true", help="one box per block instead of its layers")
    draw.add_argument("--rankdir", choices=("TB", "LR"), default="TB", help="top to bottom (TB) or left to right")
    draw.set_defaults(func=cmd_draw)


# ---- plot ----


def cmd_plot(args: argparse.Namespace) -> int:
    from netdsl.draw.curves import save_curves
    from netdsl.draw.run_dir import RunError, read_run

    out = output_path(args.output, FIGURE_FORMATS)
    try:
        runs = [read_run(directory) for directory in args.runs]
    except RunError as err:
        raise InputError(str(err)) from None
    _write(out, lambda handle: save_curves(runs, handle, out.suffix[1:].lower(), title=args.title or ""))
    return 0


# ---- show ----


def _one_line(err: Exception) -> str:
    return "; ".join(line.strip() for line in str(err).splitlines() if line.strip())


def _shift(text: str) -> tuple[int, int]:
    try:
        dx, dy = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected DX,DY in pixels (e.g. 1,0), got {text!r}") from None
    return dx, dy


def _layer(model, name: str | None):
    """The named layer, or the first conv layer (else the first after the input)."""
    from netdsl.diagnostics import did_you_mean

    graph = model.graph
    if name is None:
        return next((n for n in graph if n.opdef.has("conv")), graph.nodes[min(1, len(graph) - 1)])
    if name not in graph:
        hint = did_you_mean(name, [n.name for n in graph])
        raise UsageError(
            f"network {model.name} has no layer '{name}'" + (f"; {hint}" if hint else "; netdsl check lists the layers")
        )
    return graph[name]


def _sample(model, path: str):
    """One input sample (1, C, H, W) from an image or .npy; notices printed (an image is resized as predict does)."""
    from netdsl.data.inputs import InputFileError, as_batch, read_input

    try:
        x, notes = read_input(path, tuple(model.input_shape))
        x = as_batch(x, tuple(model.input_shape), path)
    except InputFileError as err:
        raise InputError(str(err)) from None
    for note in notes:
        print(note)
    if len(x) > 1:
        print(f"{path}: holds {len(x)} samples; showing the first")
    return x[:1]


def cmd_show(args: argparse.Namespace) -> int:
    from netdsl.backends.numpy.weights import WeightsError
    from netdsl.draw.feature_maps import build_figure, save_figure

    model = load_program(args)
    if model.tokens is not None or len(model.input_shape) in (2, 4):
        kind = "token ids" if model.tokens is not None else "sequences" if len(model.input_shape) == 2 else "volumes"
        raise InputError(
            f"show draws the feature maps of image networks; {model.name} takes {kind} "
            f"(use predict, or check for the shapes)"
        )
    node = _layer(model, args.layer)
    out = output_path(args.output or f"{node.name.replace('.', '_')}.png", FIGURE_FORMATS)
    try:
        model.load_weights(args.weights)
    except WeightsError as err:
        raise InputError(_one_line(err)) from None
    x = _sample(model, args.input)
    figure = build_figure(model.executor, node, x, args.shift)
    for line in figure.notes + figure.differences:
        print(line)
    _write(out, lambda handle: save_figure(figure, handle, out.suffix[1:].lower()))
    return 0


# ---- report ----


def cmd_report(args: argparse.Namespace) -> int:
    from netdsl.draw.report_html import ReportError, build_report
    from netdsl.draw.run_dir import RunError

    out = output_path(args.output, (".html",))
    try:
        html = build_report(args.run, data_dir=args.data_dir, progress=print)
    except (RunError, ReportError) as err:
        raise InputError(_one_line(err)) from None
    _write(out, lambda handle: handle.write(html.encode("utf-8")))
    return 0


def plot_arguments(plot: argparse.ArgumentParser) -> None:
    plot.add_argument("runs", nargs="+", metavar="RUN_DIR", help="directories netdsl train wrote")
    plot.add_argument("-o", "--output", default="compare.png", metavar="OUT", help="compare.png (or .pdf, .svg)")
    plot.add_argument("--title", help="a title over the panels")
    plot.set_defaults(func=cmd_plot)


def show_arguments(show: argparse.ArgumentParser) -> None:
    show.add_argument("file", metavar="FILE", help=".net program")
    show.add_argument("--network", help="which network of the file (default: the first)")
    show.add_argument("--weights", required=True, metavar="W", help="weights .npz from netdsl train")
    show.add_argument("--input", required=True, metavar="X", help="an image or x.npy (one sample, or the first)")
    show.add_argument("--layer", metavar="NAME", help="the layer to show (default: the first conv)")
    show.add_argument(
        "--shift",
        type=_shift,
        metavar="DX,DY",
        help="also show the input shifted by DX,DY pixels and print the largest difference per map",
    )
    show.add_argument("-o", "--output", metavar="OUT", help="fig.png (or .pdf, .svg; default <layer>.png)")
    show.set_defaults(func=cmd_show)


def report_arguments(report: argparse.ArgumentParser) -> None:
    report.add_argument("run", metavar="RUN_DIR", help="a directory netdsl train wrote")
    report.add_argument("-o", "--output", default="report.html", metavar="OUT", help="report.html")
    report.add_argument("--data-dir", help="cache directory of the built-in data sets (default ~/.cache/netdsl)")
    report.set_defaults(func=cmd_report)
