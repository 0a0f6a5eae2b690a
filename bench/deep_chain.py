"""`netdsl check` of `input(8) - [relu]*N - fc(10)` for growing N: the time must grow linearly.

Issue 11 (S3): `Graph.consumers` scanned every node and lint called it once per node, so 100k layers
took 521 s. For each N this prints the front end alone (compile_source), the whole `netdsl check`
command (table printed to /dev/null, interpreter start included) and, side by side, the idiomatic
PyTorch equivalent: building `nn.Sequential` of the same layers and running one sample through it.

    python bench/deep_chain.py            # N = 10k, 30k, 99,990
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (10_000, 30_000, 99_990)


def program(n: int) -> str:
    return f"input(8) - [relu]*{n} - fc(10)\n"


def front_end_seconds(n: int) -> tuple[float, float]:
    """Wall and CPU seconds of compile_source (CPU time is the fairer number on a shared machine)."""
    from netdsl.compiler import compile_source

    wall, cpu = time.perf_counter(), time.process_time()
    compilation = compile_source(program(n), "deep.net")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert compilation.ok and len(compilation.networks[0].graph) == n + 2, "the deep chain did not check"
    return wall, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def command_seconds(n: int, netdsl: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deep.net"
        path.write_text(program(n))
        wall, cpu = time.perf_counter(), _children_cpu()
        done = subprocess.run([netdsl, "check", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall, cpu = time.perf_counter() - wall, _children_cpu() - cpu
    assert done.returncode == 0, done.stderr.decode()[:500]
    return wall, cpu


def torch_seconds(n: int) -> tuple[float, float] | None:
    try:
        import torch
    except ModuleNotFoundError:
        return None
    wall, cpu = time.perf_counter(), time.process_time()
    model = torch.nn.Sequential(*[torch.nn.ReLU() for _ in range(n)], torch.nn.Linear(8, 10))
    with torch.no_grad():
        model(torch.zeros(1, 8))
    return time.perf_counter() - wall, time.process_time() - cpu


def _show(times: tuple[float, float] | None) -> str:
    return "no torch" if times is None else f"{times[0]:.2f} s ({times[1]:.2f} cpu)"


def main() -> None:
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(key, None)
    netdsl = shutil.which("netdsl") or sys.exit("netdsl is not installed (pip install -e .)")
    print(f"{'layers':>8} {'compile_source':>22} {'netdsl check':>22} {'torch Sequential+forward':>26}")
    for n in SIZES:
        print(
            f"{n + 2:>8,} {_show(front_end_seconds(n)):>22} {_show(command_seconds(n, netdsl)):>22} "
            f"{_show(torch_seconds(n)):>26}",
            flush=True,
        )


if __name__ == "__main__":
    main()
