"""netdsl's own training step (batch 64) in ms, per example net: a before/after check of the NumPy backend.

Run it twice, interleaved, from outside the repository, the second time against another checkout:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/train_step.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=/path/to/old/checkout python bench/train_step.py

Each checkout loads its own examples/. bench/train_throughput.py compares with PyTorch instead.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import netdsl
from netdsl.backends.numpy.executor import Executor
from netdsl.train.trainer import Trainer

NETS = ("keras_mnist_cnn", "seed003_cnn", "lenet5", "seed002_cifar10")


def step_ms(name: str, steps: int, rounds: int) -> float:
    """Median over rounds of the mean time of one Trainer.step on a fixed random batch of 64."""
    model = netdsl.load(Path(netdsl.__file__).resolve().parents[1] / "examples" / f"{name}.net")
    executor = Executor(model.graph)
    executor.init_params(0)
    trainer = Trainer(executor, model.train_config)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, *model.graph.input.shape)).astype(np.float32)
    y = rng.integers(0, model.graph.output.shape[0], 64)
    for _ in range(3):  # warm-up: buffers and BLAS threads
        trainer.step(x, y)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            trainer.step(x, y)
        times.append((time.perf_counter() - start) / steps * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"netdsl from {Path(netdsl.__file__).resolve().parent}")
    for name in NETS:
        print(f"{name:18s} {step_ms(name, args.steps, args.rounds):8.2f} ms/step")


if __name__ == "__main__":
    main()
