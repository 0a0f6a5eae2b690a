"""The `netdsl` command. Thin: each sub-command parses its flags and calls the library."""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from pathlib import Path
from typing import Callable, Iterable, NoReturn

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
TOP_DEFAULT = 3  # classes that predict and run show per sample


class UsageError(Exception):
    """Bad command-line use: one line, exit 2."""


class InputError(Exception):
    """Bad program, data or weights: one line, exit 1."""


def positive(kind: type = int) -> Callable[[str], int | float]:
    """An argparse type: a positive int (or float), with a one-line message otherwise."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            noun = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if not math.isfinite(value):  # nan, inf, 1e400
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def add_threads_flag(parser: argparse.ArgumentParser, onnxruntime: bool = False) -> None:
    """--threads N: at most N BLAS threads (and onnxruntime intra-op threads, for `run`)."""
    extra = " and onnxruntime's intra-op threads" if onnxruntime else ""
    parser.add_argument(
        "--threads",
        type=positive(int),
        metavar="N",
        help=f"at most N BLAS threads{extra} (default: the libraries' own, usually one per core); "
        "1 keeps a busy machine's timings steady",
    )


def load_program(args: argparse.Namespace):
    """The ``--network`` (default: first) network of the FILE argument, checked (raises NetdslError)."""
    import netdsl

    return netdsl.loads(_read_program(args.file), args.network, args.file)


def _read_program(path: str) -> str:
    file = Path(path)
    if not file.exists():
        raise UsageError(f"{path}: no such file")
    if file.is_dir():
        raise UsageError(f"{path}: is a directory, not a .net file")
    if file.suffix.lower() == ".onnx":  # a second front end: the model imported in memory
        from netdsl.cli.importer import imported

        return imported(path).text
    from netdsl.frontend.limits import SourceFileError, read_source

    try:
        return read_source(file)
    except SourceFileError as err:
        raise InputError(str(err)) from None
    except OSError as err:
        raise UsageError(f"{path}: cannot read: {err.strerror}") from None


def _print_diagnostics(diagnostics, sources) -> None:
    from netdsl.diagnostics import render

    for diagnostic in diagnostics:
        print(render(diagnostic, sources), file=sys.stderr)


# ---- check ----


def cmd_check(args: argparse.Namespace) -> int:
    from netdsl.compiler import compile_source
    from netdsl.table import compilation_json, print_network

    failed = False
    objects = []
    terminal = sys.stdout.isatty()
    for path in args.files:
        compilation = compile_source(_read_program(path), path)
        failed |= not compilation.ok
        if args.json:
            objects.append(compilation_json(compilation))
            continue
        for network in compilation.networks:
            if network.graph is not None:
                print_network(network, sys.stdout, terminal)
                print()
        _print_diagnostics(compilation.all_diagnostics, compilation.sources)
    if args.json:
        print(json.dumps(objects[0] if len(objects) == 1 else objects, indent=2))
    return EXIT_BAD_INPUT if failed else 0


# ---- the parser ----

# Every sub-command: name -> ("module:function" that adds its flags, help). Only the chosen command's module is
# imported (`netdsl check` stays fast); a new command is one line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("netdsl.cli:check_arguments", "check programs: shapes, params, MACs, receptive fields, warnings"),
    "train": ("netdsl.cli.train:train_arguments", "train a network with the NumPy backend"),
    "evaluate": ("netdsl.cli.train:evaluate_arguments", "loss and accuracy of trained weights on a data set"),
    "predict": ("netdsl.cli.train:predict_arguments", "top-k classes for an input .npy or image"),
    "export": ("netdsl.cli.onnx:export_arguments", "export a network to ONNX (float32, dynamic batch)"),
    "run": ("netdsl.cli.onnx:run_arguments", "run an .onnx model with onnxruntime"),
    "compile": ("netdsl.cli.codegen:compile_arguments", "generate a NumPy module or a PyTorch module and train script"),
    "augment": (
        "netdsl.cli.augment:augment_arguments",
        "draw training samples as the train section's augmentation changes them",
    ),
    "fmt": ("netdsl.cli.editor:fmt_arguments", "format programs in the canonical layout (--check for CI)"),
    "lsp": ("netdsl.cli.editor:lsp_arguments", "run the language server over stdio (for editors; see docs/editors.md)"),
    "draw": (
        "netdsl.cli.draw:draw_arguments",
        "draw the network: one box per layer, branches side by side, blocks framed",
    ),
    "plot": ("netdsl.cli.draw:plot_arguments", "training curves of one or more runs on one figure"),
    "show": (
        "netdsl.cli.draw:show_arguments",
        "kernels and feature maps of a layer for one input (seed 002's fig. 18-34)",
    ),
    "report": ("netdsl.cli.draw:report_arguments", "one self-contained HTML page about a training run"),
    "dream": ("netdsl.cli.dream:dream_arguments", "the input that most excites a filter, or Deep Dream on an image"),
    "import": (
        "netdsl.cli.importer:import_arguments",
        "turn an ONNX CNN into a .net program and an .npz of its weights",
    ),
}


def check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help=".net programs or .onnx models (imported)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (an array for several files)")
    parser.set_defaults(func=cmd_check)


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The netdsl parser: every command listed with its help, the flags of ``commands`` (default: all) added."""
    parser = argparse.ArgumentParser(prog="netdsl", description="A declarative network compiler.", allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"netdsl {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    chosen = set(COMMANDS if commands is None else commands)
    for name, (target, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, allow_abbrev=False)
        if name in chosen:
            _add_arguments(target, command)
    return parser


def _add_arguments(target: str, parser: argparse.ArgumentParser) -> None:
    """Import the module of ``target`` ("module:function") and let the function add its flags."""
    module_name, function = target.split(":")
    getattr(importlib.import_module(module_name), function)(parser)


def chosen_command(argv: list[str]) -> str | None:
    """The command named on the command line: the first word that is not a flag (netdsl's own flags take none)."""
    return next((word for word in argv if not word.startswith("-")), None)


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    actions = (action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return next(actions).choices[command]


def _reject_unknown(parser: argparse.ArgumentParser, unknown: list[str]) -> NoReturn:
    """Exit 2 naming the arguments the command does not take; a flag that begins a longer one is named."""
    message = f"unrecognized arguments: {' '.join(unknown)}"
    flag = unknown[0].split("=")[0]
    longer = sorted(option for option in parser._option_string_actions if option.startswith(flag) and flag != "-")
    if flag.startswith("--") and longer:
        message += f" (flags are never abbreviated: did you mean {' or '.join(longer)}?)"
    parser.error(message)


def _version() -> str:
    from netdsl import __version__

    return __version__


def fail(message: str, status: int) -> NoReturn:
    """One line, whatever the message holds: a path's line break is shown as an escape, so it cannot start a
    second `netdsl: error:` line (a message listing problems is joined with '; ' by `one_line` first)."""
    from netdsl.diagnostics import visible

    print(f"netdsl: error: {visible(message)}", file=sys.stderr)
    sys.exit(status)


def one_line(message: str) -> str:
    """A message that lists problems on lines of its own (a weights mismatch), as one line."""
    return "; ".join(line.strip() for line in message.split("\n") if line.strip())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = chosen_command(argv)
    parser = build_parser([command] if command in COMMANDS else [])
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        _reject_unknown(_subparser(parser, args.command), unknown)
    from netdsl.diagnostics import NetdslError
    from netdsl.threads import limit_threads

    try:
        with limit_threads(getattr(args, "threads", None)):
            return args.func(args)
    except UsageError as err:
        fail(str(err), EXIT_USAGE)
    except InputError as err:
        fail(str(err), EXIT_BAD_INPUT)
    except NetdslError as err:
        _print_diagnostics(err.diagnostics, err.sources)
        return EXIT_BAD_INPUT
    except MemoryError as err:  # NotEnoughMemory says what; a bare one comes from an estimate that fell short
        fail(str(err) or "out of memory: the network or the data is too large for this machine", EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        print("netdsl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
