"""`netdsl fmt` and `netdsl lsp`: the editor commands (pygls is imported only when `lsp` runs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FMT_DESCRIPTION = """\
Rewrite .net programs in the canonical layout: indentation, spacing around '-', '|' and '=',
branches aligned, comments kept. The meaning of a program never changes (the formatter checks its
own output token for token). A FILE may be a folder: every .net file under it."""

FMT_EPILOG = """\
exit status: 0 when nothing needs (or needed) formatting, 1 with --check or --diff when some file
would change, and 1 for a file that does not parse (it is left as it is); 2 for bad command-line use.

examples:
  netdsl fmt examples/
  netdsl fmt --check examples/        # for CI, as `ruff format --check`
  netdsl fmt --diff lenet5.net
"""


def fmt_arguments(fmt: argparse.ArgumentParser) -> None:
    fmt.description, fmt.epilog = FMT_DESCRIPTION, FMT_EPILOG
    fmt.formatter_class = argparse.RawDescriptionHelpFormatter
    fmt.add_argument("files", nargs="+", metavar="FILE", help=".net program(s) or folders holding them")
    fmt.add_argument("--check", action="store_true", help="change nothing; list the files that would change")
    fmt.add_argument("--diff", action="store_true", help="change nothing; print what would change as a diff")
    fmt.set_defaults(func=cmd_fmt)


def lsp_arguments(lsp: argparse.ArgumentParser) -> None:
    lsp.description = (
        "The netdsl language server, over stdin/stdout: diagnostics as you type, shapes inline, "
        "hover, completion, navigation, formatting."
    )
    lsp.set_defaults(func=cmd_lsp)


def program_files(paths: list[str]) -> list[Path]:
    """The files named, and every .net file under the folders named (sorted)."""
    from netdsl.cli import UsageError

    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.net") if p.is_file())
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"{name}: no such file or folder")
    return found


def cmd_fmt(args: argparse.Namespace) -> int:
    import difflib

    from netdsl.cli import EXIT_BAD_INPUT, _print_diagnostics, _read_program
    from netdsl.diagnostics import CompileError, visible
    from netdsl.fileio import atomic_write_text
    from netdsl.frontend.fmt import FormatError, format_source

    changed, failed = [], False
    for path in program_files(args.files):
        source = _read_program(str(path))  # the checks and caps of every command that reads a program
        try:
            formatted = format_source(source, str(path))
        except CompileError as err:
            _print_diagnostics([err.diagnostic], {str(path): source})
            failed = True
            continue
        except FormatError as err:
            print(f"netdsl: error: {visible(str(err))}", file=sys.stderr)
            failed = True
            continue
        if formatted == source:
            continue
        changed.append(path)
        if args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    source.splitlines(keepends=True),
                    formatted.splitlines(keepends=True),
                    f"{path}",
                    f"{path} (formatted)",
                )
            )
        elif args.check:
            print(f"would reformat {path}")
        else:
            atomic_write_text(path, formatted)
    _summary(len(changed), args.check or args.diff)
    return EXIT_BAD_INPUT if failed or (changed and (args.check or args.diff)) else 0


def _summary(changed: int, dry_run: bool) -> None:
    verb = "would be reformatted" if dry_run else "reformatted"
    noun = "file" if changed == 1 else "files"
    print(f"{changed} {noun} {verb}", file=sys.stderr)


def cmd_lsp(args: argparse.Namespace) -> int:
    from netdsl.cli import UsageError

    try:
        from netdsl.lsp.server import serve
    except ModuleNotFoundError as err:
        if err.name not in ("pygls", "lsprotocol"):
            raise
        raise UsageError(f"netdsl lsp needs {err.name}: pip install pygls lsprotocol") from None
    serve()
    return 0
