"""The `netdsl` command. Thin: each sub-command parses its flags and calls the library."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Callable, NoReturn

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
    parser.add_argument("--threads", type=positive(int), metavar="N",
                        help=f"at most N BLAS threads{extra} (default: the libraries' own, usually one per core); "
                             "1 keeps a busy machine's timings steady")


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

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="netdsl", description="A declarative network compiler.")
    parser.add_argument("--version", action="version", version=f"netdsl {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    check = sub.add_parser("check", help="check programs: shapes, params, MACs, receptive fields, warnings")
    check.add_argument("files", nargs="+", metavar="FILE", help=".net program(s)")
    check.add_argument("--json", action="store_true", help="print one JSON object (an array for several files)")
    check.set_defaults(func=cmd_check)
    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Callable]:
    """Sub-commands of the backends, registered without importing their heavy dependencies."""
    registrations = []
    for module in ("netdsl.cli.train", "netdsl.cli.onnx", "netdsl.cli.codegen", "netdsl.cli.augment",
                   "netdsl.cli.editor", "netdsl.cli.draw", "netdsl.cli.dream"):
        try:
            imported = __import__(module, fromlist=["register"])
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        registrations.append(imported.register)
    return registrations


def _version() -> str:
    from netdsl import __version__

    return __version__


def fail(message: str, status: int) -> NoReturn:
    from netdsl.diagnostics import visible

    print(f"netdsl: error: {visible(message, keep=chr(10))}", file=sys.stderr)  # a path may hold escapes
    sys.exit(status)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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

