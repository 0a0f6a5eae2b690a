"""Regenerate generated/: every example compiled for both targets, as `netdsl compile` writes them.

    python tools/regenerate.py           # rewrite generated/numpy/*.py and generated/pytorch/*.py
    python tools/regenerate.py --check   # write nothing; list what differs and exit 1 if anything does

Run it from anywhere (paths are relative to the repository root) after changing an example, a template
or anything the generated code shows (the `check` table, the initializers). The result is the same as
`netdsl compile examples/NAME.net --target TARGET` run in the repository root, byte for byte; files in
generated/numpy and generated/pytorch that no example produces any more are removed.
tests/codegen/test_golden.py fails until generated/ matches.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from netdsl.codegen import TARGETS

ROOT = Path(__file__).resolve().parents[1]


def render_all(root: Path = ROOT) -> dict[str, str]:
    """Relative path under generated/ -> text, for every example and target."""
    import netdsl
    from netdsl.codegen import generate

    files = {}
    for example in sorted((root / "examples").glob("*.net")):
        source = example.relative_to(root).as_posix()
        # compiled under its repository-relative name: a data file beside it is named from the root, as a
        # user's `netdsl compile examples/x.net` names it, never by this checkout's absolute path
        model = netdsl.loads(example.read_text(encoding="utf-8"), file=source)
        for target in TARGETS:
            for name, text in generate(model, target, source=source).items():
                files[f"{target}/{name}"] = text
    return files


def differences(files: dict[str, str], out: Path) -> list[str]:
    """What differs between the rendered files and those under `out` (missing, changed, stale)."""
    problems = []
    for rel, text in files.items():
        path = out / rel
        if not path.is_file():
            problems.append(f"missing {rel}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"changed {rel}")
    for target in TARGETS:
        for path in sorted((out / target).glob("*.py")) if (out / target).is_dir() else []:
            if f"{target}/{path.name}" not in files:
                problems.append(f"stale {target}/{path.name}")
    return problems


def regenerate(out: Path) -> list[str]:
    """Write every file under `out` and remove stale ones; returns what changed."""
    from netdsl.codegen import write

    files = render_all()
    changed = differences(files, out)
    for line in changed:
        kind, rel = line.split(" ", 1)
        if kind == "stale":
            os.remove(out / rel)
        else:
            target, name = rel.split("/")
            write({name: files[rel]}, out / target)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when generated/ is out of date")
    parser.add_argument("--out", type=Path, default=ROOT / "generated", help="the folder to write (default generated/)")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences(render_all(), args.out)
        for line in problems:
            print(line)
        return 1 if problems else 0
    for line in regenerate(args.out) or ["generated/ was up to date"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
