"""`netdsl export` (a program to .onnx) and `netdsl run` (an .onnx model through onnxruntime).

onnx and onnxruntime are imported inside the commands, so `netdsl check` never loads them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from netdsl.cli import InputError, UsageError, load_program, positive

MAX_PRINTED = 20  # samples whose top-k `run` prints


def _warn(message: str) -> None:
    print(f"netdsl: warning: {message}", file=sys.stderr)


# ---- export ----


def _weights(args: argparse.Namespace, graph: Any) -> dict[str, Any]:
    """The --weights file checked against the graph, or the seeded initialization with a warning."""
    from netdsl.backends.onnx.export import ExportError, load_weights, seeded_weights

    try:
        if args.weights is None:
            _warn(f"no --weights given: exporting {graph.name} with seeded random weights (seed {args.seed})")
            return seeded_weights(graph, args.seed)
        return load_weights(args.weights, graph)
    except ExportError as err:
        raise InputError(str(err)) from None


def cmd_export(args: argparse.Namespace) -> int:
    from netdsl.backends.onnx.export import ExportError, build_model, check_opset, save_model

    try:
        check_opset(args.opset)
    except ExportError as err:
        raise UsageError(f"--opset: {err}") from None
    model = load_program(args)
    graph = model.graph
    weights = _weights(args, graph)
    target = Path(args.output or f"{graph.name}.onnx")
    try:
        proto = build_model(graph, weights, args.opset)
    except ExportError as err:
        raise InputError(str(err)) from None
    result = _verified(args, graph, weights, proto, target) if args.verify else None
    try:
        save_model(proto, target)
    except OSError as err:
        raise InputError(f"{target}: cannot write: {err.strerror or err}") from None
    size = target.stat().st_size
    print(f"wrote {target}: network {graph.name}, {len(proto.graph.node)} ONNX nodes, opset {args.opset}, "
          f"{model.totals.trainable:,} params, {size / 1e6:.1f} MB")
    if result is not None:
        print(result.line())
    return 0


def _verified(args: argparse.Namespace, graph: Any, weights: dict[str, Any], proto: Any, target: Path) -> Any:
    """--verify on the model's bytes before they are written: a model that fails it never reaches the disk."""
    from netdsl.backends.onnx.export import ExportError, verify

    try:
        result = verify(graph, weights, proto.SerializeToString(deterministic=True), batch=args.verify_batch,
                        seed=args.seed)
    except ExportError as err:
        raise InputError(f"--verify: {err}") from None
    if not result.ok:
        print(result.line())
        raise InputError(f"{target}: not written: the exported model does not match the NumPy backend")
    return result


# ---- run ----


def _session(args: argparse.Namespace) -> Any:
    from netdsl.runtime import Session, SessionError

    try:
        return Session(args.model, provider=args.provider)
    except SessionError as err:
        raise InputError(str(err)) from None


def _infer(session: Any, x: Any, batch: int | None) -> Any:
    """The outputs for x; the input is checked first, then the CPU fallback notice (if any) is shown."""
    from netdsl.runtime import SessionError

    try:
        x = session.check_input(x)
        if session.notice:
            print(f"netdsl: {session.notice}", file=sys.stderr)
            session.notice = None
        return session.run(x, batch_size=batch)
    except SessionError as err:
        raise InputError(str(err)) from None


def _probabilities(outputs: Any) -> tuple[Any, str]:
    """Rows that already are probabilities as they are, else their softmax; and what they are."""
    import numpy as np

    rows = outputs.reshape(len(outputs), -1).astype(np.float64)
    if np.all(rows >= 0) and np.allclose(rows.sum(axis=1), 1.0, atol=1e-3):
        return rows, "probabilities"
    shifted = np.exp(rows - rows.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True), "softmax of the outputs"


def _print_top(outputs: Any, k: int) -> None:
    """One line per sample: its k best classes with their probabilities."""
    from netdsl.inputs import top_k

    if outputs.ndim != 2:
        print(f"outputs: shape {tuple(outputs.shape)}, not class scores; save them with -o out.npy")
        return
    probs, kind = _probabilities(outputs)
    k = min(k, probs.shape[1])
    print(f"top {k} of {probs.shape[1]} classes ({kind}):")
    shown = probs[:MAX_PRINTED]
    for index, best in enumerate(top_k(shown, k)):
        print(f"sample {index}: " + ", ".join(f"{c} ({p:.4f})" for c, p in best))
    if len(probs) > MAX_PRINTED:
        print(f"... and {len(probs) - MAX_PRINTED:,} more samples (save all outputs with -o out.npy)")


def _run_input(args: argparse.Namespace, session: Any) -> int:
    import numpy as np

    from netdsl.inputs import InputFileError, read_input

    try:
        x, notices = read_input(args.input, session.input_shape)
    except InputFileError as err:
        raise InputError(str(err)) from None
    for notice in notices:
        print(notice)
    outputs = _infer(session, x, args.batch)
    if args.output:
        from netdsl.fileio import atomic_write

        try:
            atomic_write(args.output, lambda handle: np.save(handle, outputs))
        except OSError as err:
            raise InputError(f"{args.output}: cannot write: {err.strerror or err}") from None
        print(f"wrote {args.output}: outputs {tuple(outputs.shape)} float32 ({session.device})")
    if args.top is not None or not args.output:
        _print_top(outputs, args.top or 5)
    return 0


def _run_data(args: argparse.Namespace, session: Any) -> int:
    import numpy as np

    from netdsl.data import DataError, load_arrays

    shape = session.input_shape
    if None in shape:
        raise InputError(f"{args.model}: the input shape {shape} is not fully known; --data needs it")
    try:
        arrays = load_arrays(args.data, shape, data_dir=args.data_dir, progress=print)
    except DataError as err:
        raise InputError(str(err)) from None
    for notice in arrays.notices:
        print(notice)
    batch = args.batch or 64
    _infer(session, arrays.x[:batch], batch)  # warm-up: first-run allocations stay out of the timing
    start = time.perf_counter()
    outputs = _infer(session, arrays.x, batch)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(outputs.reshape(len(outputs), -1).argmax(axis=1) == arrays.y)) if len(outputs) else 0.0
    print(f"{arrays.name}: {len(arrays.x)} samples, accuracy {accuracy:.4f}, "
          f"{len(arrays.x) / max(seconds, 1e-9):,.0f} images/s ({session.device}, batch {batch})")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    session = _session(args)
    if args.data is not None:
        return _run_data(args, session)
    return _run_input(args, session)


# ---- the sub-parsers ----


def register(subparsers: Any) -> None:
    """Add `export` and `run` to the netdsl command."""
    from netdsl.backends.onnx.export import DEFAULT_OPSET, MIN_OPSET, VERIFY_TOLERANCE

    export = subparsers.add_parser("export", help="export a network to ONNX (float32, dynamic batch)")
    export.add_argument("file", metavar="FILE", help=".net program")
    export.add_argument("--weights", metavar="W", help="weights .npz (default: seeded random weights, with a warning)")
    export.add_argument("-o", "--output", metavar="MODEL.onnx", help="where to write (default: ./<network>.onnx)")
    export.add_argument("--opset", type=int, default=DEFAULT_OPSET, metavar="N",
                        help=f"ONNX opset, {MIN_OPSET} or newer ({DEFAULT_OPSET})")
    export.add_argument("--verify", action="store_true",
                        help="compare onnxruntime with the NumPy backend on a seeded batch; exit 1 above "
                             f"a relative difference of {VERIFY_TOLERANCE:g}")
    export.add_argument("--verify-batch", type=positive(int), default=2, metavar="N", help="batch for --verify (2)")
    export.add_argument("--seed", type=int, default=0, help="seed of the random weights and the --verify batch (0)")
    export.add_argument("--network", help="which network of the file (default: the first)")
    export.set_defaults(func=cmd_export)

    run = subparsers.add_parser("run", help="run an .onnx model with onnxruntime")
    run.add_argument("model", metavar="MODEL.onnx")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", metavar="X", help="x.npy (float32, one sample or a batch) or an image")
    source.add_argument("--data", metavar="D", help="a data set (digits, mnist, ..., FILE.npz): accuracy and images/s")
    run.add_argument("--provider", choices=("auto", "cpu", "cuda"), default="auto",
                     help="auto: CUDA when it really loads, else CPU (auto)")
    run.add_argument("--batch", type=positive(int), metavar="N",
                     help="samples per onnxruntime call (default: all at once; 64 for --data)")
    run.add_argument("-o", "--output", metavar="OUT.npy", help="save the outputs as .npy")
    run.add_argument("--top", type=positive(int), metavar="K", help="print the K best classes per sample (5)")
    run.add_argument("--data-dir", help="cache directory of the built-in data sets (default ~/.cache/netdsl)")
    run.set_defaults(func=cmd_run)
