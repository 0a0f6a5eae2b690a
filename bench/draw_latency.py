"""Wall time of `netdsl draw examples/resnet50.net` (target: < 2 s), interpreter start included.

Runs the installed `netdsl draw` to SVG, PNG and Graphviz text several times, next to Graphviz's own
`dot -Tsvg` on the same .dot file when a Graphviz binary is installed (netdsl needs none), and prints
medians. Also prints the layout alone, in process, and the sizes of what was written.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESNET50 = ROOT / "examples" / "resnet50.net"
RUNS = 5


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def in_process() -> float:
    import netdsl
    from netdsl.draw.layout import layout
    from netdsl.draw.svg import to_svg

    graph = netdsl.load(RESNET50).graph
    start = time.perf_counter()
    to_svg(layout(graph))
    return time.perf_counter() - start


def main() -> None:
    netdsl = shutil.which("netdsl") or sys.exit("netdsl is not installed (pip install .)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        commands = {
            f"netdsl draw -o {s}": [netdsl, "draw", str(RESNET50), "-o", str(out / f"r50.{s}")]
            for s in ("svg", "dot", "png")
        }
        dot = shutil.which("dot")
        if dot:
            wall(commands["netdsl draw -o dot"])
            commands["graphviz dot -Tsvg"] = [dot, "-Tsvg", str(out / "r50.dot"), "-o", str(out / "gv.svg")]
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(RUNS):
            for name, cmd in commands.items():
                times[name].append(wall(cmd))
        for name, values in times.items():
            print(f"{name:22s} median {statistics.median(values):6.2f} s  min {min(values):6.2f} s")
        if not dot:
            print("graphviz dot: not installed here (netdsl does not need it)")
        print(f"layout + SVG in process: {min(in_process() for _ in range(RUNS)) * 1000:.0f} ms")
        for path in sorted(out.glob("r50.*")):
            print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
