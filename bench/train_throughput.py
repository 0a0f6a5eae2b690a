"""Training-step throughput (images/s, Adam): netdsl's NumPy backend beside PyTorch CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/train_throughput.py [--steps 20] [--rounds 5]
        [--threads N] [--batches 64,128,256] [--nets lenet5,resnet18_64] [--memory]

(the OpenBLAS pins slow current NumPy; they are unset for this command only). For each seed net
the torch side is the module `netdsl compile --target pytorch` generates (idiomatic nn.Conv2d with
padding=, the softmax fused into nn.CrossEntropyLoss), when torch is installed; both run the same
number of threads, and rounds are interleaved so that machine noise hits both alike. Prints
images/s and the ratio netdsl / torch (target: >= 0.8), the share
of netdsl's step spent inside BLAS matrix products (every conv and fc GEMM), and the ceiling:
the ratio netdsl would reach if everything but those products took no time at all.

`--batches` times each net at several batch sizes (the cost per image should stay flat: a growing
one shows where a step does not scale linearly); `resnet18_64` is examples/resnet18.net on 3x64x64
inputs, a bigger net than the seeds'. `--memory` adds each side's peak memory for one step, measured
in a fresh process of its own (the growth of the resident set over two steps, after the model and
the batch exist: weights, gradients, the optimizer's state, activations and scratch buffers), beside
netdsl's own estimate before running (`netdsl.memory.training_step_bytes`) when it has one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import netdsl
from netdsl.backends.numpy.executor import Executor
from netdsl.backends.numpy.objective import Objective
from netdsl.backends.numpy.ops import conv, core
from netdsl.backends.numpy.optimizers import Adam

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_baseline import generated_module  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NETS = ["keras_mnist_cnn", "seed003_cnn", "lenet5", "seed002_cifar10"]
BIG_NETS = {"resnet18_64": ("resnet18", "input(3, 224, 224)", "input(3, 64, 64)")}  # name: (example, from, to)
BATCH = 64


class GemmClock:
    """Adds up the time the NumPy kernels spend in ``np.matmul`` (all conv and fc GEMMs).

    Installed by giving the conv and fc kernel modules a numpy whose ``matmul`` is timed; the products
    themselves are unchanged.
    """

    def __init__(self) -> None:
        self.seconds = 0.0

    def __getattr__(self, name: str):
        return getattr(np, name)

    def matmul(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return np.matmul(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


GEMMS = GemmClock()
conv.np = core.np = GEMMS


def netdsl_step(graph):
    executor = Executor(graph)
    executor.init_params(0)
    objective = Objective(graph, "cross_entropy")
    optimizer = Adam(lr=1e-3)
    rng = np.random.default_rng(0)

    def step(x, y):
        out = executor.forward(x, training=True, rng=rng, stop_before=objective.stop_before)
        _, dout = objective(out, y)
        optimizer.step(executor.params, executor.backward(dout, start=objective.start))

    return step


def torch_step(model: netdsl.Model):
    """One Adam step of the generated PyTorch module, the softmax fused into CrossEntropyLoss."""
    import torch

    module = generated_module(model).train()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x, y):
        optimizer.zero_grad(set_to_none=True)
        loss_fn(module(x, logits=True), y).backward()
        optimizer.step()

    return step


def images_per_second(step, x, y, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step(x, y)
    return steps * len(x) / (time.perf_counter() - start)


def load_net(name: str) -> netdsl.Model:
    """An example net, or a BIG_NETS variant of one (the same program on another input size)."""
    if name in BIG_NETS:
        example, old, new = BIG_NETS[name]
        text = (ROOT / "examples" / f"{example}.net").read_text().replace(old, new)
        return netdsl.loads(text, file=f"examples/{example}.net")
    return netdsl.load(ROOT / "examples" / f"{name}.net")


def batch_of(graph, batch: int):
    rng = np.random.default_rng(0)
    x = rng.random((batch,) + graph.input.shape, dtype=np.float32)
    y = rng.integers(0, graph.output.shape[0], batch)
    return x, y


def _status_bytes(field: str) -> int:
    """A /proc/self/status memory line (VmRSS, VmHWM) in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_step_bytes(side: str, name: str, batch: int) -> int:
    """Run in this process: the resident-set high-water mark over two training steps of one side, above
    the resident set once the model and the batch exist (Linux: /proc/self/clear_refs resets the mark;
    getrusage's ru_maxrss would carry the parent's across exec)."""
    model = load_net(name)
    x, y = batch_of(model.graph, batch)
    if side == "torch":
        import torch

        step, x, y = torch_step(model), torch.from_numpy(x), torch.from_numpy(y)
    else:
        step = netdsl_step(model.graph)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_bytes("VmRSS")
    for _ in range(2):
        step(x, y)
    return _status_bytes("VmHWM") - before


def measured_peak(side: str, name: str, batch: int) -> int | None:
    """peak_step_bytes in a fresh interpreter, so that one measurement's high-water mark is its own."""
    result = subprocess.run(
        [sys.executable, __file__, "--peak-of", side, name, str(batch)], capture_output=True, text=True
    )
    return json.loads(result.stdout) if result.returncode == 0 else None


def estimated_peak(model: netdsl.Model, batch: int) -> int | None:
    """netdsl's estimate of one training step's memory, where this checkout has one."""
    try:
        from netdsl.memory import training_step_bytes
    except ImportError:
        return None
    return training_step_bytes(model.graph, batch, state_slots=2)  # Adam: two moments per parameter


def mib(n: int | None) -> str:
    return "" if n is None else f"{n / 2**20:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batches", default=str(BATCH), help="comma-separated batch sizes (default 64)")
    parser.add_argument("--nets", default=",".join(NETS), help=f"comma-separated: {', '.join(NETS + list(BIG_NETS))}")
    parser.add_argument("--memory", action="store_true", help="also each side's peak memory for one step")
    parser.add_argument("--peak-of", nargs=3, metavar=("SIDE", "NET", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_of:
        side, name, batch = args.peak_of
        print(json.dumps(peak_step_bytes(side, name, int(batch))))
        return
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("torch is not installed (pip install torch==2.13.0): netdsl alone")
    batches = [int(b) for b in args.batches.split(",")]
    print(f"Adam, {args.threads} threads, median of {args.rounds} interleaved rounds of {args.steps} steps")
    header = (
        f"{'net':16s} {'batch':>5s} {'netdsl img/s':>13s} {'torch img/s':>12s} {'ratio':>6s} "
        f"{'GEMM share':>11s} {'ceiling':>8s}"
    )
    if args.memory:
        header += f" {'netdsl MiB':>10s} {'estimate':>8s} {'torch MiB':>9s}"
    print(header)
    for name in args.nets.split(","):
        model = load_net(name)
        for batch in batches:
            print(row(model, name, batch, args, torch), flush=True)


def row(model: netdsl.Model, name: str, batch: int, args: argparse.Namespace, torch) -> str:
    """One table line: both sides' images/s at this batch, interleaved, and optionally their memory."""
    x, y = batch_of(model.graph, batch)
    ours = netdsl_step(model.graph)
    ours(x, y)
    theirs = None
    if torch is not None:
        theirs, tx, ty = torch_step(model), torch.from_numpy(x), torch.from_numpy(y)
        theirs(tx, ty)
    rates: dict[str, list[float]] = {"netdsl": [], "torch": []}
    gemm_share: list[float] = []
    for _ in range(args.rounds):
        GEMMS.seconds = 0.0
        rates["netdsl"].append(images_per_second(ours, x, y, args.steps))
        gemm_share.append(GEMMS.seconds * rates["netdsl"][-1] / (args.steps * batch))
        if theirs is not None:
            rates["torch"].append(images_per_second(theirs, tx, ty, args.steps))
    mine, share = statistics.median(rates["netdsl"]), statistics.median(gemm_share)
    line = f"{name:16s} {batch:5d} {mine:13,.0f} "
    if theirs is None:
        line += f"{'':12s} {'':6s} {share:11.0%} {'':8s}"
    else:
        other = statistics.median(rates["torch"])
        line += f"{other:12,.0f} {mine / other:6.2f} {share:11.0%} {mine / other / share:8.2f}"
    if args.memory:
        torch_peak = measured_peak("torch", name, batch) if theirs is not None else None
        line += (
            f" {mib(measured_peak('netdsl', name, batch)):>10s} {mib(estimated_peak(model, batch)):>8s} "
            f"{mib(torch_peak):>9s}"
        )
    return line


if __name__ == "__main__":
    main()
