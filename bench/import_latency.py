"""How long `netdsl import` of a ResNet-50 .onnx (about 100 MB of weights) and `netdsl check model.onnx` take
(targets: under 3 s and under 2 s), side by side with onnx's own `onnx.load` + shape inference.

    python bench/import_latency.py [--rounds 3]

The model is examples/resnet50.net exported with seeded weights. Each command is a fresh process (the
interpreter's start and imports included, as a user waits for them); the onnx baseline too.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONNX_BASELINE = (
    "import onnx, sys; from onnx import shape_inference; shape_inference.infer_shapes(onnx.load(sys.argv[1]))"
)


def seconds(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        netdsl = [sys.executable, "-m", "netdsl.cli"]
        seconds([*netdsl, "export", str(ROOT / "examples" / "resnet50.net"), "-o", "resnet50.onnx"], work)
        size = (work / "resnet50.onnx").stat().st_size / 2**20
        commands = {
            "netdsl import resnet50.onnx": [*netdsl, "import", "resnet50.onnx", "-o", "r.net"],
            "netdsl check resnet50.onnx": [*netdsl, "check", "resnet50.onnx"],
            "onnx.load + shape inference": [sys.executable, "-c", ONNX_BASELINE, "resnet50.onnx"],
        }
        print(f"ResNet-50, {size:.0f} MiB, median of {args.rounds} runs (fresh processes)")
        for name, command in commands.items():
            times = [seconds(command, work) for _ in range(args.rounds)]
            print(f"  {name:30s} {statistics.median(times):6.2f} s   (min {min(times):.2f} s)")
        lines = (work / "r.net").read_text().count("\n")
        print(
            f"  the imported program: {lines} lines (examples/resnet50.net: "
            f"{(ROOT / 'examples' / 'resnet50.net').read_text().count(chr(10))})"
        )


if __name__ == "__main__":
    main()
