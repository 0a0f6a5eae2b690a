"""`netdsl export` (a program to .onnx) and `netdsl run` (an .onnx model through onnxruntime).

onnx and onnxruntime are imported inside the commands, so `netdsl check` never loads them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from netdsl.cli import TOP_DEFAULT, InputError, UsageError, add_threads_flag, load_program, positive

MAX_PRINTED = 20  # samples whose top-k `run` prints
TARGET_METADATA_KEY = "netdsl.target"  # values (a regression) or input (an autoencoder); absent for a classifier


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
    from netdsl.backends.onnx.export import ExportError, build_model, check_opset, save_model, split_metadata
    from netdsl.wording import file_size

    try:
        check_opset(args.opset)
    except ExportError as err:
        raise UsageError(f"--opset: {err}") from None
    from netdsl.cli.train import use_run_settings

    model = load_program(args)
    graph = model.graph
    weights = _weights(args, graph)
    if args.weights is not None:  # the data set, classes and target of the run that made the weights
        use_run_settings(model, args.weights)
    target = Path(args.output or f"{graph.name}.onnx")
    try:
        config = model.train_config
        metadata = split_metadata(config.data, config.seed, config.val_split)
        if config.target != "labels":  # `run` then shows output values, not classes
            metadata[TARGET_METADATA_KEY] = config.target
        proto = build_model(graph, weights, args.opset, metadata, args.input_layout)
        _attach_class_names(proto, model)
    except ExportError as err:
        raise InputError(str(err)) from None
    result = _verified(args, graph, weights, proto, target) if args.verify else None
    try:
        save_model(proto, target)
    except OSError as err:
        raise InputError(f"{target}: cannot write: {err.strerror or err}") from None
    size = target.stat().st_size
    print(
        f"wrote {target}: network {graph.name}, {len(proto.graph.node)} ONNX nodes, opset {args.opset}, "
        f"{model.totals.trainable:,} params, {file_size(size)}"
    )
    if result is not None:
        print(result.line())
    return 0


def _verified(args: argparse.Namespace, graph: Any, weights: dict[str, Any], proto: Any, target: Path) -> Any:
    """--verify on the model's bytes before they are written: a model that fails it never reaches the disk."""
    from netdsl.backends.onnx.export import ExportError, verify

    try:
        result = verify(
            graph, weights, proto.SerializeToString(deterministic=True), batch=args.verify_batch, seed=args.seed
        )
    except ExportError as err:
        raise InputError(f"--verify: {err}") from None
    if not result.ok:
        print(result.line())
        raise InputError(f"{target}: not written: the exported model does not match the NumPy backend")
    return result


def _attach_class_names(proto: Any, model: Any) -> None:
    """Put the train section's class names into the model's metadata, for `netdsl run` to print."""
    import json

    from netdsl.data import DataError
    from netdsl.data.classes import ONNX_METADATA_KEY, class_names

    try:
        names = class_names(model.train_config.classes, model.train_config.data, model.compilation.file)
    except DataError as err:
        raise InputError(str(err)) from None
    if names is not None:
        entry = proto.metadata_props.add()
        entry.key, entry.value = ONNX_METADATA_KEY, json.dumps(list(names))


def _class_names(session: Any) -> tuple[str, ...] | None:
    """The class names an exported model carries, if any."""
    import json

    from netdsl.data.classes import ONNX_METADATA_KEY

    try:
        names = json.loads(session.metadata.get(ONNX_METADATA_KEY, "null"))
    except json.JSONDecodeError:
        return None
    return tuple(str(n) for n in names) if isinstance(names, list) else None


# ---- run ----


def _session(args: argparse.Namespace) -> Any:
    from netdsl.backends.onnx.runtime import Session, SessionError

    try:
        return Session(args.model, provider=args.provider, threads=args.threads)
    except SessionError as err:
        raise InputError(str(err)) from None


def _infer(session: Any, x: Any, batch: int | None) -> Any:
    """The outputs for x, the input checked first. `auto` falling back to the CPU is not a notice: the
    user asked for no GPU (`--provider cuda` says why CUDA does not load)."""
    from netdsl.backends.onnx.runtime import SessionError

    try:
        x = session.check_input(x)
        return session.run(x, batch_size=batch)
    except SessionError as err:
        raise InputError(str(err)) from None


def _print_top(outputs: Any, k: int, names: tuple[str, ...] | None = None) -> None:
    """One line per sample: its k best classes (with their names) and probabilities."""
    from netdsl.cli.outputs import probabilities
    from netdsl.data.classes import label
    from netdsl.data.inputs import top_k

    if outputs.ndim != 2:
        print(f"outputs: shape {tuple(outputs.shape)}, not class scores; save them with -o out.npy")
        return
    probs, softened = probabilities(outputs)
    kind = "softmax of the outputs" if softened else "probabilities"
    k = min(k, probs.shape[1])
    print(f"top {k} of {probs.shape[1]} classes ({kind}):")
    shown = probs[:MAX_PRINTED]
    for index, best in enumerate(top_k(shown, k)):
        print(f"sample {index}: " + ", ".join(f"{label(c, names)} ({p:.4f})" for c, p in best))
    if len(probs) > MAX_PRINTED:
        print(f"... and {len(probs) - MAX_PRINTED:,} more samples (save all outputs with -o out.npy)")


def _sample_shape(session: Any) -> tuple[tuple, bool]:
    """The model's per-sample input as C x H x W, and whether the model takes it channels-last (nhwc export)."""
    shape = session.input_shape
    if session.metadata.get("netdsl.input_layout") == "nhwc" and len(shape) == 3:
        return (shape[2], shape[0], shape[1]), True
    return shape, False


def _model_input(x: Any, session: Any, image: bool) -> Any:
    """x in the order the model takes: an image (C x H x W) transposed for an nhwc model; an array given in
    the program's declared layout (layout=hwc: H x W x C) transposed for an nchw model."""
    from netdsl.data.channels_last import to_channels_first

    shape, channels_last = _sample_shape(session)
    if channels_last:
        return x.transpose(1, 2, 0) if image else x
    return to_channels_first(x, shape, session.metadata.get("netdsl.layout", "chw"))


def _run_input(args: argparse.Namespace, session: Any) -> int:
    import numpy as np

    from netdsl.data.inputs import IMAGE_SUFFIXES, InputFileError, read_input

    image = Path(args.input).suffix.lower() in IMAGE_SUFFIXES
    try:
        x, notices = read_input(args.input, _sample_shape(session)[0] if image else session.input_shape)
    except InputFileError as err:
        raise InputError(str(err)) from None
    x = _model_input(x, session, image)
    for notice in notices:
        print(notice)
    outputs = _infer(session, x, args.batch)
    if args.output and args.output.lower().endswith(".png"):  # image outputs (an autoencoder's) as a picture
        from netdsl.cli.outputs import is_image_batch, save_outputs

        print(f"wrote {args.output}: {save_outputs(args.output, outputs, images=is_image_batch(outputs))}")
    elif args.output:
        from netdsl.fileio import atomic_write

        try:
            atomic_write(args.output, lambda handle: np.save(handle, outputs))
        except OSError as err:
            raise InputError(f"{args.output}: cannot write: {err.strerror or err}") from None
        print(f"wrote {args.output}: outputs {tuple(outputs.shape)} float32 ({session.device})")
    if session.metadata.get(TARGET_METADATA_KEY, "labels") != "labels":  # a regression's or an autoencoder's
        from netdsl.cli.train import _print_not_classes

        _print_not_classes(outputs, args.output)
    elif args.top is not None or not args.output:
        _print_top(outputs, args.top or TOP_DEFAULT, _class_names(session))
    return 0


def _run_data(args: argparse.Namespace, session: Any) -> int:
    import numpy as np

    from netdsl.data import DataError, load_arrays

    shape, channels_last = _sample_shape(session)
    if None in shape:
        raise InputError(f"{args.model}: the input shape {shape} is not fully known; --data needs it")
    seed, val_split = _split_settings(session, args)
    regression = session.metadata.get(TARGET_METADATA_KEY) == "values"
    try:
        arrays = load_arrays(
            args.data,
            shape,
            data_dir=args.data_dir,
            val_split=val_split,
            seed=seed,
            progress=print,
            portion=args.split,
            target="values" if regression else "labels",
        )
    except DataError as err:
        raise InputError(str(err)) from None
    for notice in arrays.notices:
        print(notice)
    if channels_last:
        arrays.x = np.ascontiguousarray(arrays.x.transpose(0, 2, 3, 1))
    batch = args.batch or 64
    _infer(session, arrays.x[:batch], batch)  # warm-up: first-run allocations stay out of the timing
    start = time.perf_counter()
    outputs = _infer(session, arrays.x, batch)
    seconds = time.perf_counter() - start
    if regression:  # the mean absolute error of the predicted values
        error = outputs.reshape(len(outputs), -1) - arrays.y.reshape(len(arrays.y), -1)
        score = f"mae {float(np.abs(error).mean()) if error.size else 0.0:.4f}"
    else:
        hits = outputs.reshape(len(outputs), -1).argmax(axis=1) == arrays.y
        score = f"accuracy {float(np.mean(hits)) if len(outputs) else 0.0:.4f}"
    print(
        f"{arrays.name}: {len(arrays.x)} samples, {score}, "
        f"{len(arrays.x) / max(seconds, 1e-9):,.0f} images/s ({session.device}, batch {batch})"
    )
    return 0


def _split_settings(session: Any, args: argparse.Namespace) -> tuple[int, float]:
    """The seed and val_split the model was trained with (from its netdsl metadata), so --split val scores
    the samples `netdsl evaluate` scores; without that metadata, the defaults, with a notice."""
    from netdsl.backends.onnx.runtime import split_settings
    from netdsl.frontend.train_spec import TrainConfig

    settings = split_settings(session.metadata)
    if settings is not None:
        return settings
    default = TrainConfig()
    if args.split != "all":
        print(
            f"{args.model} does not record its training split (exported by another tool or an older netdsl): "
            f"using seed {default.seed}, val_split {default.val_split:g}"
        )
    return default.seed, default.val_split


def cmd_run(args: argparse.Namespace) -> int:
    session = _session(args)
    if args.data is not None:
        return _run_data(args, session)
    return _run_input(args, session)


# ---- the sub-parsers ----


def export_arguments(export: argparse.ArgumentParser) -> None:
    from netdsl.backends.onnx.export import DEFAULT_OPSET, MIN_OPSET, VERIFY_TOLERANCE

    export.add_argument("file", metavar="FILE", help=".net program")
    export.add_argument("--weights", metavar="W", help="weights .npz (default: seeded random weights, with a warning)")
    export.add_argument("-o", "--output", metavar="MODEL.onnx", help="where to write (default: ./<network>.onnx)")
    export.add_argument(
        "--opset",
        type=int,
        default=DEFAULT_OPSET,
        metavar="N",
        help=f"ONNX opset, {MIN_OPSET} or newer ({DEFAULT_OPSET})",
    )
    export.add_argument(
        "--verify",
        action="store_true",
        help="compare onnxruntime with the NumPy backend on a seeded batch; exit 1 above "
        f"a relative difference of {VERIFY_TOLERANCE:g}",
    )
    export.add_argument("--verify-batch", type=positive(int), default=2, metavar="N", help="batch for --verify (2)")
    export.add_argument("--seed", type=int, default=0, help="seed of the random weights and the --verify batch (0)")
    export.add_argument(
        "--input-layout",
        choices=("nchw", "nhwc"),
        default="nchw",
        help="the ONNX input's layout: nhwc takes N x H x W x C (Keras order) and transposes it "
        "inside the graph (nchw)",
    )
    export.add_argument("--network", help="which network of the file (default: the first)")
    export.set_defaults(func=cmd_export)


def run_arguments(run: argparse.ArgumentParser) -> None:
    from netdsl.data import PORTIONS

    run.add_argument("model", metavar="MODEL.onnx", help="the .onnx model to run")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", metavar="X", help="x.npy (float32, one sample or a batch) or an image")
    source.add_argument("--data", metavar="D", help="a data set (digits, mnist, ..., FILE.npz): accuracy and images/s")
    run.add_argument(
        "--split",
        choices=PORTIONS,
        default="val",
        help="with --data: the samples to score: val (the split `netdsl evaluate` scores: a set's "
        "test split, else the validation split of the model's seed and val_split), train, or all "
        "(val)",
    )
    run.add_argument(
        "--provider",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="auto: CUDA when it really loads, else CPU (auto)",
    )
    run.add_argument(
        "--batch",
        type=positive(int),
        metavar="N",
        help="samples per onnxruntime call (default: all at once; 64 for --data)",
    )
    run.add_argument("-o", "--output", metavar="OUT.npy", help="save the outputs as .npy")
    run.add_argument(
        "--top",
        type=positive(int),
        metavar="K",
        help=f"print the K best classes per sample ({TOP_DEFAULT}; with -o only when given)",
    )
    run.add_argument("--data-dir", help="cache directory of the built-in data sets (default ~/.cache/netdsl)")
    add_threads_flag(run, onnxruntime=True)
    run.set_defaults(func=cmd_run)
