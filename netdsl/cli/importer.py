"""`netdsl import MODEL.onnx`: the model as a .net program and an .npz of its weights, optionally verified
against onnxruntime. onnx is imported inside the command, so `netdsl check x.net` never loads it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from netdsl.cli import InputError, UsageError, add_threads_flag

VERIFY_BATCH = 2


def input_shape(text: str) -> tuple[int, ...]:
    """--input-shape C,H,W (or F): positive whole numbers."""
    try:
        dims = tuple(int(part) for part in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected C,H,W (whole numbers), got {text!r}") from None
    if not dims or any(d <= 0 for d in dims):
        raise argparse.ArgumentTypeError(f"every size must be positive, got {text!r}")
    return dims


def imported(path: str, shape: tuple[int, ...] | None = None) -> Any:
    """The import of an .onnx file, its problems as one InputError."""
    from netdsl.importer import OnnxImportError, import_onnx

    try:
        return import_onnx(path, shape)
    except OnnxImportError as err:
        lines = str(err).splitlines()
        if len(lines) == 1:
            raise InputError(lines[0] if lines[0].startswith(path) else f"{path}: {lines[0]}") from None
        _errors_and_exit(path, lines)


def _errors_and_exit(path: str, lines: list[str]) -> NoReturn:
    """One error line per unsupported ONNX op type, then the ops the importer reads as a note; exit 1."""
    from netdsl.cli import EXIT_BAD_INPUT
    from netdsl.diagnostics import visible

    *errors, note = lines
    for line in errors:
        print(f"netdsl: error: {visible(path)}: {visible(line)}", file=sys.stderr)
    print(f"netdsl: note: {visible(note)}", file=sys.stderr)
    sys.exit(EXIT_BAD_INPUT)


def verify(path: str, text: str, weights: dict[str, Any], seed: int = 0) -> Any:
    """onnxruntime on the original model against the NumPy backend on the import, one seeded batch."""
    import numpy as np
    import onnxruntime

    import netdsl
    from netdsl.backends.numpy.executor import Executor
    from netdsl.backends.onnx.export import Verification, difference

    model = netdsl.loads(text, file=path)
    try:
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # unused initializers are the model's business, not the user's
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types for models it refuses
        raise InputError(f"--verify: onnxruntime cannot load {path}: {str(err).splitlines()[0]}") from None
    feed = next(i for i in session.get_inputs() if i.name not in _initializers(path))
    fixed = feed.shape[0] if isinstance(feed.shape[0], int) else VERIFY_BATCH
    x = np.random.default_rng(seed).standard_normal((fixed, *model.input_shape)).astype(np.float32)
    executor = Executor(model.graph, dtype=np.float32)
    executor.load_state_dict(weights)
    expected = executor.predict(x)
    actual = session.run(None, {feed.name: x})[0]
    max_abs, max_rel = difference(np.asarray(actual).reshape(expected.shape), expected)
    return Verification(max_abs, max_rel, fixed)


def _initializers(path: str) -> set[str]:
    import onnx

    return {t.name for t in onnx.load(path, load_external_data=False).graph.initializer}


def cmd_import(args: argparse.Namespace) -> int:
    from netdsl.backends.numpy.weights import save_weights
    from netdsl.fileio import atomic_write_text

    source = Path(args.model)
    if not source.exists():
        raise UsageError(f"{args.model}: no such file")
    result = imported(args.model, args.input_shape)
    target = Path(args.output or f"{source.stem}.net")
    weights_path = Path(args.weights_out) if args.weights_out else target.with_suffix(".npz")
    check = verify(args.model, result.text, result.weights, args.seed) if args.verify else None
    if check is not None and not check.ok:
        print(check.line())
        raise InputError(f"{target}: not written: the imported program does not match onnxruntime on {args.model}")
    try:
        atomic_write_text(target, result.text)
        save_weights(weights_path, result.weights)
    except OSError as err:
        raise InputError(f"{err.filename or target}: cannot write: {err.strerror or err}") from None
    lines = result.text.count("\n")
    print(f"wrote {target} ({lines} lines) and {weights_path} ({len(result.weights)} tensors)")
    if check is not None:
        print(check.line())
    return 0


def import_arguments(command: argparse.ArgumentParser) -> None:
    """The flags of `netdsl import`."""
    command.add_argument("model", metavar="MODEL.onnx", help="the ONNX model")
    command.add_argument("-o", "--output", metavar="OUT.net", help="the program to write (default: ./<model>.net)")
    command.add_argument("--weights-out", metavar="W.npz", help="the weights to write (default: beside the program)")
    command.add_argument(
        "--input-shape",
        type=input_shape,
        metavar="C,H,W",
        help="the input's size where the model leaves height or width open",
    )
    command.add_argument(
        "--verify",
        action="store_true",
        help="compare onnxruntime on the model with the NumPy backend on the import (one seeded "
        "batch); above a relative difference of 1e-4 nothing is written and the exit is 1",
    )
    command.add_argument("--seed", type=int, default=0, help="seed of the --verify batch (0)")
    add_threads_flag(command)
    command.set_defaults(func=cmd_import)
