"""Wall time of `netdsl check examples/resnet50.net`, interpreter start included (target: < 0.1 s, < 5x python).

Runs the installed `netdsl` command several times next to a bare `python -c pass`, interleaved,
and prints the medians of the wall time and of the CPU time the process used (user + system: less
moved by other work on a shared machine than the wall time). Also lists which heavy modules the
check command imports (none should be).
Bytecode is written and used as an installed package's is, even where PYTHONDONTWRITEBYTECODE is set.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 15
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
HEAVY = ("numpy", "onnx", "onnxruntime", "jinja2", "matplotlib", "rich", "netdsl.codegen", "netdsl.backends")


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of cmd."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    netdsl = shutil.which("netdsl") or sys.exit("netdsl is not installed (pip install .)")
    check = [netdsl, "check", str(ROOT / "examples" / "resnet50.net")]
    bare = [sys.executable, "-c", "pass"]
    timed(check)  # write the bytecode, warm the OS file cache
    times: dict[str, list[tuple[float, float]]] = {"check": [], "python -c pass": []}
    for _ in range(RUNS):
        times["check"].append(timed(check))
        times["python -c pass"].append(timed(bare))
    for name, values in times.items():
        walls, cpus = [w for w, _ in values], [c for _, c in values]
        print(
            f"{name:16s} wall median {statistics.median(walls) * 1000:6.1f} ms, min {min(walls) * 1000:6.1f} ms;"
            f"  CPU median {statistics.median(cpus) * 1000:6.1f} ms"
        )
    probe = (
        "import contextlib, io, sys, netdsl.cli as c\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    c.main(['check', sys.argv[1]])\n"
        f"print(' '.join(sorted(m for m in sys.modules if m.startswith({HEAVY!r}) and m.count('.') < 2)))"
    )
    heavy = subprocess.run([sys.executable, "-c", probe, check[-1]], capture_output=True, text=True).stdout.strip()
    print(f"heavy modules imported by check: {heavy or 'none'}")


if __name__ == "__main__":
    main()
