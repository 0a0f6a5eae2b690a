"""Inference throughput (images/s) of netdsl's ONNX export in onnxruntime on the CPU, at batch 1 and 64.

Beside it: the NumPy backend's forward and, when torch is installed, the nn.Module that
`netdsl compile --target pytorch` generates (idiomatic PyTorch, with the same weights), run eagerly
and exported by `torch.onnx.export` into the same onnxruntime. The two onnxruntime sessions are timed in
alternating rounds so that machine noise hits both alike; the table prints medians and the ratio
netdsl export / torch export (target: >= 0.95). No asserts: this only measures.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/infer_throughput.py [--nets lenet5 ...]
        [--seconds 0.4] [--rounds 7] [--threads N]

(the OpenBLAS pins slow current NumPy; they are unset for this command only.)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import netdsl
from netdsl.backends.onnx.export import build_model, numpy_executor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_baseline import generated_module  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NETS = ("keras_mnist_cnn", "seed003_cnn", "lenet5", "seed002_cifar10")
BATCHES = (1, 64)


# ---- timing ----


def rate(fn: Callable[[], Any], images: int, seconds: float) -> float:
    """Images per second of one round: as many calls of fn as fit in `seconds` (at least 3)."""
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return images * calls / (time.perf_counter() - start)


def interleaved(fns: dict[str, Callable[[], Any]], images: int, seconds: float, rounds: int) -> dict[str, float]:
    """Median images/s of each function over alternating rounds, after one warm-up call each."""
    for fn in fns.values():
        fn()
    rates: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            rates[name].append(rate(fn, images, seconds))
    return {name: statistics.median(values) for name, values in rates.items()}


def torch_onnx(module: Any, graph: Any) -> bytes:
    """The module exported by torch.onnx.export (opset 17, dynamic batch), its chatter silenced."""
    import logging

    import torch

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    example = (torch.zeros((2, *graph.input.shape)),)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        program = torch.onnx.export(
            module,
            example,
            dynamo=True,
            opset_version=17,
            input_names=["input"],
            output_names=["output"],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
        )
    return program.model_proto.SerializeToString()


# ---- one network ----


def session(model: bytes, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def measure(stem: str, args: argparse.Namespace, have_torch: bool) -> list[dict[str, Any]]:
    """One row per batch size: images/s of each contender and the check that the two exports agree.

    The two onnxruntime sessions alternate; the NumPy backend and torch eager are timed apart from them
    (onnxruntime's worker threads spin for a while after each run and would slow whatever runs next)."""
    model = netdsl.load(ROOT / "examples" / f"{stem}.net")
    graph = model.graph
    executor = numpy_executor(graph)
    executor.init_params(0)  # the weights seeded_weights(graph, 0) gives
    weights = executor.state_dict()
    theirs, module, opset = None, None, 17
    if have_torch:
        import onnx
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        module = generated_module(model, weights).eval()
        exported = torch_onnx(module, graph)
        opset = next(o.version for o in onnx.load_from_string(exported).opset_import if o.domain in ("", "ai.onnx"))
        theirs = session(exported, args.threads)
    ours = session(build_model(graph, weights, opset).SerializeToString(), args.threads)
    rows = []
    for batch in BATCHES:
        feed = {"input": np.random.default_rng(0).standard_normal((batch, *graph.input.shape)).astype(np.float32)}
        row: dict[str, Any] = {"net": stem, "batch": batch, "opset": opset}
        pair = {"netdsl_ort": lambda feed=feed: ours.run(None, feed)}
        if theirs is not None:
            pair["torch_ort"] = lambda feed=feed: theirs.run(None, feed)
            row["max_diff"] = float(np.max(np.abs(ours.run(None, feed)[0] - theirs.run(None, feed)[0])))
        row.update(interleaved(pair, batch, args.seconds, args.rounds))
        time.sleep(0.2)
        row.update(
            interleaved(
                {"numpy": lambda feed=feed: executor.predict(feed["input"])},
                batch,
                args.seconds,
                max(3, args.rounds // 2),
            )
        )
        if module is not None:
            row.update(
                interleaved(
                    {"torch_eager": lambda feed=feed: _eager(module, feed["input"])},
                    batch,
                    args.seconds,
                    max(3, args.rounds // 2),
                )
            )
        rows.append(row)
    return rows


def _eager(module: Any, x: np.ndarray) -> Any:
    import torch

    with torch.inference_mode():
        return module(torch.from_numpy(x))


# ---- report ----


def print_table(rows: list[dict[str, Any]]) -> None:
    has_torch = "torch_ort" in rows[0]
    head = f"{'net':16s} {'batch':>5s} {'opset':>5s} {'netdsl->ORT':>12s} {'numpy':>10s}"
    if has_torch:
        head += f" {'torch->ORT':>12s} {'torch eager':>12s} {'netdsl/torch':>13s} {'max |diff|':>11s}"
    print(head)
    print("-" * len(head))
    for r in rows:
        line = f"{r['net']:16s} {r['batch']:5d} {r['opset']:5d} {r['netdsl_ort']:12,.0f} {r['numpy']:10,.0f}"
        if has_torch:
            line += (
                f" {r['torch_ort']:12,.0f} {r['torch_eager']:12,.0f} {r['netdsl_ort'] / r['torch_ort']:13.2f}"
                f" {r['max_diff']:11.1e}"
            )
        print(line)
    print(
        "images/s (medians of timing rounds); netdsl/torch: the two ONNX exports in onnxruntime, same opset "
        "(the torch exporter's)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", nargs="+", default=list(NETS))
    parser.add_argument("--seconds", type=float, default=0.4, help="length of one timing round (0.4)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per contender (7)")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime/torch threads (0: their default)")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
        print("torch is not installed: measuring netdsl's export and the NumPy backend only", file=sys.stderr)
    import onnxruntime

    print(
        f"onnxruntime {onnxruntime.__version__} (CPU), numpy {np.__version__}"
        + (f", torch {sys.modules['torch'].__version__}" if have_torch else "")
    )
    rows = [row for stem in args.nets for row in measure(stem, args, have_torch)]
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
