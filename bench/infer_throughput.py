"""Inference throughput (images/s) of netdsl's ONNX export in onnxruntime on the CPU, at batch 1 and 64.

Beside it: the NumPy backend's forward and, when torch is installed, the same network written as a
torch.nn.Module (built by hand from the IR below, with the same weights), exported by
`torch.onnx.export` and run in the same onnxruntime. The two onnxruntime sessions are timed in
alternating rounds so that machine noise hits both alike; the table prints medians and the ratio
netdsl export / torch export (target: >= 0.95). No asserts: this only measures.

    python bench/infer_throughput.py [--nets lenet5 ...] [--seconds 0.4] [--rounds 7] [--threads N]
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


# ---- the torch twin of a netdsl graph ----


def torch_module(graph: Any, weights: dict[str, np.ndarray]) -> Any:
    """A torch.nn.Module computing the graph at inference, holding copies of the weights."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleDict()
            self.pre_pads: dict[str, tuple[int, int, int, int]] = {}
            for node in graph.nodes[1:]:
                layer = _torch_layer(node, graph, weights, self.pre_pads)
                if layer is not None:
                    self.layers[node.name.replace(".", "__")] = layer

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            values = {graph.input.name: x}
            for node in graph.nodes[1:]:
                values[node.name] = _torch_forward(self, node, [values[i] for i in node.inputs])
            return values[graph.output.name]

    return Net().eval()


def _torch_layer(node: Any, graph: Any, weights: dict[str, np.ndarray], pre_pads: dict) -> Any:
    """The nn.Module of one layer (None for stateless ops done in forward)."""
    import torch
    from torch import nn

    a = node.attrs
    top, left, bottom, right = a.get("pads", (0, 0, 0, 0))
    symmetric = (top, left) == (bottom, right)
    if node.op in ("conv", "maxpool", "avgpool") and not symmetric:
        pre_pads[node.name] = (left, right, top, bottom)
    padding = (top, left) if symmetric else 0
    if node.op == "conv":
        layer = nn.Conv2d(graph[node.inputs[0]].shape[0], a["filters"], a["kernel"], a["stride"], padding,
                          a["dilation"], a["groups"], bias="bias" in node.params)
    elif node.op == "maxpool":
        return nn.MaxPool2d(a["kernel"], a["stride"], padding)
    elif node.op == "avgpool":
        if not symmetric:
            raise NotImplementedError("the bench's torch twin has no asymmetric avgpool")
        return nn.AvgPool2d(a["kernel"], a["stride"], padding, count_include_pad=False)
    elif node.op == "fc":
        layer = nn.Linear(graph[node.inputs[0]].shape[0], a["units"], bias="bias" in node.params)
    elif node.op == "batchnorm":
        kind = nn.BatchNorm2d if len(node.shape) == 3 else nn.BatchNorm1d
        layer = kind(node.shape[0], eps=a["eps"], momentum=a["momentum"])
    else:
        return None
    with torch.no_grad():
        for key, tensor in layer.state_dict().items():
            tensor.copy_(torch.from_numpy(weights[f"{node.name}.{key}"]))
    return layer


def _torch_forward(net: Any, node: Any, xs: list) -> Any:
    """One layer's output in torch."""
    import torch
    import torch.nn.functional as F

    x = xs[0]
    if node.name in net.pre_pads:
        fill = float("-inf") if node.op == "maxpool" else 0.0
        x = F.pad(x, net.pre_pads[node.name], value=fill)
    key = node.name.replace(".", "__")
    if key in net.layers:
        return net.layers[key](x)
    simple = {"relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "swish": F.silu,
              "identity": lambda t: t, "dropout": lambda t: t, "flatten": lambda t: torch.flatten(t, 1),
              "softmax": lambda t: torch.softmax(t, dim=1), "globalavgpool": lambda t: t.mean((2, 3), keepdim=True),
              "globalmaxpool": lambda t: t.amax((2, 3), keepdim=True),
              "leakyrelu": lambda t: F.leaky_relu(t, node.attrs.get("alpha", 0.01))}
    if node.op in simple:
        return simple[node.op](x)
    if node.op == "add":
        return torch.stack(xs).sum(0)
    if node.op == "concat":
        return torch.cat(xs, 1)
    raise NotImplementedError(f"the bench's torch twin has no {node.op}")


def torch_onnx(module: Any, graph: Any) -> bytes:
    """The module exported by torch.onnx.export (opset 17, dynamic batch), its chatter silenced."""
    import logging

    import torch

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    example = (torch.zeros((2, *graph.input.shape)),)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        program = torch.onnx.export(module, example, dynamo=True, opset_version=17, input_names=["input"],
                                    output_names=["output"], dynamic_shapes=({0: torch.export.Dim("batch")},))
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
    graph = netdsl.load(ROOT / "examples" / f"{stem}.net").graph
    executor = numpy_executor(graph)
    executor.init_params(0)  # the weights seeded_weights(graph, 0) gives
    weights = executor.state_dict()
    theirs, module, opset = None, None, 17
    if have_torch:
        import onnx
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        module = torch_module(graph, weights)
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
        row.update(interleaved({"numpy": lambda feed=feed: executor.predict(feed["input"])}, batch, args.seconds,
                               max(3, args.rounds // 2)))
        if module is not None:
            row.update(interleaved({"torch_eager": lambda feed=feed: _eager(module, feed["input"])}, batch,
                                   args.seconds, max(3, args.rounds // 2)))
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
            line += (f" {r['torch_ort']:12,.0f} {r['torch_eager']:12,.0f} {r['netdsl_ort'] / r['torch_ort']:13.2f}"
                     f" {r['max_diff']:11.1e}")
        print(line)
    print("images/s (medians of timing rounds); netdsl/torch: the two ONNX exports in onnxruntime, same opset "
          "(the torch exporter's)")


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

    print(f"onnxruntime {onnxruntime.__version__} (CPU), numpy {np.__version__}"
          + (f", torch {sys.modules['torch'].__version__}" if have_torch else ""))
    rows = [row for stem in args.nets for row in measure(stem, args, have_torch)]
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
