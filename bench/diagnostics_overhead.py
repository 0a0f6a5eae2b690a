"""CPU time per training epoch on digits with and without per-layer diagnostics, interleaved, per example net.

Diagnostics sample SAMPLED_STEPS steps of each epoch (netdsl/train/layer_stats.py); this prints what they
add to an epoch. The process's CPU time is timed (time.process_time), not the wall clock: on a shared
machine it does not count the time other jobs hold the cores; run with one BLAS thread. Run from outside the
repository; with PYTHONPATH set to an older checkout (one without diagnostics) it times the epochs without
them only, for a before/after check of the training loop:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python bench/diagnostics_overhead.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 PYTHONPATH=/path/to/old/checkout \
        python bench/diagnostics_overhead.py --off
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

import netdsl
from netdsl.backends.numpy.executor import Executor
from netdsl.data import load_dataset
from netdsl.train.trainer import Trainer

NETS = ("lenet5", "keras_mnist_cnn", "seed000_mlp")


def epoch_seconds(model, data, diagnostics: bool) -> float:
    """One epoch of a fresh trainer (seed 0) over the digits training split."""
    executor = Executor(model.graph)
    executor.init_params(0)
    config = model.train_config
    if diagnostics:
        config = dataclasses.replace(config, diagnostics=True)
    trainer = Trainer(executor, config, verbose=0)
    started = time.process_time()
    trainer.fit(data.x_train, data.y_train, epochs=1)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--nets", nargs="*", default=list(NETS))
    parser.add_argument("--off", action="store_true", help="time epochs without diagnostics only")
    args = parser.parse_args()
    supported = "diagnostics" in {f.name for f in dataclasses.fields(netdsl.loads("input(2) - fc(1)").train_config)}
    examples = Path(netdsl.__file__).resolve().parents[1] / "examples"
    print(f"netdsl from {Path(netdsl.__file__).parent}; median of {args.rounds} interleaved epochs")
    for name in args.nets:
        model = netdsl.load(examples / f"{name}.net")
        data = load_dataset("digits", model.input_shape)
        modes = (False, True) if supported and not args.off else (False,)
        times: dict[bool, list[float]] = {mode: [] for mode in modes}
        for _ in range(args.rounds):
            for mode in modes:
                times[mode].append(epoch_seconds(model, data, mode))
        off = statistics.median(times[False])
        line = f"{name:>16}: {len(data.x_train)} samples, batch {model.train_config.batch}: off {off * 1000:8.1f} ms"
        if True in times:
            on = statistics.median(times[True])
            line += f"   on {on * 1000:8.1f} ms   overhead {100 * (on - off) / off:+5.1f}%"
        print(line, flush=True)


if __name__ == "__main__":
    main()
