"""Write examples/data/line.csv: seed 000's regression data, y = 0.5 x + 2 plus a little noise.

The seed's Keras tutorial fits Dense(units=1, input_dim=1) with sgd and mse to 200 points on a line; this
draws them the same way with a fixed seed, so the file (and what the example learns from it) never changes:
    python tools/make_line.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLES = 200
SLOPE, INTERCEPT, NOISE = 0.5, 2.0, 0.05
OUT = Path(__file__).resolve().parents[1] / "examples" / "data" / "line.csv"


def line(seed: int = 1337) -> tuple[np.ndarray, np.ndarray]:
    """x evenly spaced in [-1, 1], shuffled; y on the line with N(0, NOISE) noise."""
    rng = np.random.default_rng(seed)
    x = rng.permutation(np.linspace(-1.0, 1.0, SAMPLES))
    y = SLOPE * x + INTERCEPT + rng.normal(0.0, NOISE, SAMPLES)
    return x, y


def main() -> None:
    x, y = line()
    rows = "".join(f"{a:.6f},{b:.6f}\n" for a, b in zip(x, y))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("x,y\n" + rows, encoding="utf-8")
    print(f"wrote {OUT}: {SAMPLES} rows")


if __name__ == "__main__":
    main()
