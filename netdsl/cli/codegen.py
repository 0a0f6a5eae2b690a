"""`netdsl compile`: generate a standalone NumPy module, or a PyTorch module and its train script."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

DESCRIPTION = """\
Generate Python code from a program.

--target numpy    one module that imports only numpy: init_params(seed), load(weights.npz) and
                  forward(params, x), a function per block, the `check` table as its header.
--target pytorch  an nn.Module with a class per block, whose state-dict keys are netdsl's weight
                  names (load_netdsl_weights / save_netdsl_weights), and NAME_train.py beside it, which
                  trains it as the program's train section says, also under torchrun
                  (DistributedDataParallel); it imports netdsl for the data sets only.
"""

EPILOG = """\
output: without -o, generated/TARGET/NETWORK.py under the current directory (NETWORK_net.py when the
network's name is that of a library such as numpy or random); -o PATH.py names the module, and
-o FOLDER (or FOLDER/, created when missing) puts NETWORK_TARGET.py there (lenet5_numpy.py,
lenet5_pytorch.py), so both targets share a folder. The PyTorch train script is written beside the
module as STEM_train.py. A file that another target generated is never overwritten. Files are
written atomically, and the same program always gives the same bytes.

examples:
  netdsl compile examples/lenet5.net --target numpy
  netdsl compile examples/resnet18.net --target pytorch -o models/resnet18.py
  torchrun --nproc_per_node 2 models/resnet18_train.py --epochs 1
"""


def compile_arguments(parser: argparse.ArgumentParser) -> None:
    from netdsl.codegen.render import TARGETS  # jinja2 stays unimported until a render

    parser.description, parser.epilog = DESCRIPTION, EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("file", metavar="FILE", help=".net program")
    parser.add_argument("--target", required=True, choices=TARGETS, help="what to generate")
    parser.add_argument(
        "-o", "--output", metavar="PATH", help="the module's file (.py), or a folder (created) for NETWORK_TARGET.py"
    )
    parser.add_argument("--network", metavar="NAME", help="which network of a file with several (default: the first)")
    parser.set_defaults(func=cmd_compile)


def output_path(output: str | None, target: str, stem: str) -> Path:
    """Where the module goes: -o as a .py file, or a folder (existing, ending in '/', or without a suffix)
    that gets <stem>_<target>.py; else generated/<target>/<stem>.py."""
    from netdsl.cli import UsageError

    if output is None:
        return Path("generated") / target / f"{stem}.py"
    path = Path(output)
    if path.is_dir() or output.endswith(("/", os.sep)) or not path.suffix:
        return path / f"{stem}_{target}.py"
    if path.suffix != ".py":
        raise UsageError(f"-o {output}: name a .py file or a folder")
    return path


_TARGET_LINE = re.compile(r"^# `netdsl compile .* --target (\w+)`\.$", re.M)


def check_not_another_targets(files: list[str], folder: Path, target: str) -> None:
    """Refuse to replace a file that netdsl generated for another target (its header names the target)."""
    from netdsl.cli import UsageError

    for name in files:
        path = folder / name
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:2000] if path.is_file() else ""
        except OSError:
            continue  # the write reports what is wrong with the path
        found = _TARGET_LINE.search(head)
        if found and found.group(1) != target:
            raise UsageError(
                f"{path} holds the {found.group(1)} code netdsl generated; it is not overwritten by "
                f"the {target} target: choose another -o"
            )


def cmd_compile(args: argparse.Namespace) -> int:
    from netdsl.cli import InputError, UsageError, load_program
    from netdsl.codegen import CodegenError, generate, module_stem, write

    model = load_program(args)
    path = output_path(args.output, args.target, module_stem(model.name))
    try:
        files = generate(model, args.target, source=args.file, stem=path.stem)
    except CodegenError as err:
        raise UsageError(f"-o {args.output}: {err}" if args.output else str(err)) from None
    check_not_another_targets(list(files), path.parent, args.target)
    try:
        written = write(files, path.parent)
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror or err}") from None
    for file in written:
        print(f"wrote {file}")
    return 0
