"""Training-step throughput (images/s, batch 64, Adam): netdsl's NumPy backend beside PyTorch CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/train_throughput.py [--steps 20] [--rounds 5]
        [--threads N]

(the OpenBLAS pins slow current NumPy; they are unset for this command only). For each seed net
the torch side is the module `netdsl compile --target pytorch` generates (idiomatic nn.Conv2d with
padding=, the softmax fused into nn.CrossEntropyLoss), when torch is installed; both run the same
number of threads, and rounds are interleaved so that machine noise hits both alike. Prints
images/s and the ratio netdsl / torch (target: >= 0.8), the share
of netdsl's step spent inside BLAS matrix products (every conv and fc GEMM), and the ceiling:
the ratio netdsl would reach if everything but those products took no time at all.
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("torch is not installed (pip install torch==2.13.0): netdsl alone")
    print(f"batch {BATCH}, Adam, {args.threads} threads, median of {args.rounds} interleaved rounds "
          f"of {args.steps} steps")
    print(f"{'net':18s} {'netdsl img/s':>13s} {'torch img/s':>12s} {'ratio':>6s} {'GEMM share':>11s} "
          f"{'ceiling':>8s}")
    for name in NETS:
        model = netdsl.load(ROOT / "examples" / f"{name}.net")
        graph = model.graph
        rng = np.random.default_rng(0)
        x = rng.random((BATCH,) + graph.input.shape, dtype=np.float32)
        y = rng.integers(0, graph.output.shape[0], BATCH)
        ours = netdsl_step(graph)
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
            gemm_share.append(GEMMS.seconds * rates["netdsl"][-1] / (args.steps * BATCH))
            if theirs is not None:
                rates["torch"].append(images_per_second(theirs, tx, ty, args.steps))
        mine, share = statistics.median(rates["netdsl"]), statistics.median(gemm_share)
        if theirs is None:
            print(f"{name:18s} {mine:13,.0f} {'':12s} {'':6s} {share:11.0%}")
            continue
        other = statistics.median(rates["torch"])
        print(f"{name:18s} {mine:13,.0f} {other:12,.0f} {mine / other:6.2f} {share:11.0%} "
              f"{mine / other / share:8.2f}")


if __name__ == "__main__":
    main()
