"""Build netdsl/data/digits.npz from the copy of the UCI digits that scikit-learn ships.

The source is ``sklearn/datasets/data/digits.csv.gz`` inside a scikit-learn wheel
(1,797 rows: 64 pixel columns with values 0..16, then the label 0..9).
scikit-learn is not installed; only its wheel is fetched and opened as a zip:

    pip download --no-deps scikit-learn -d /tmp/skl
    python tools/make_digits.py /tmp/skl/scikit_learn-*.whl

digits.npz was made this way from scikit_learn-1.9.1 (digits.csv.gz: 57,523 bytes,
SHA-256 09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22).
The data: UCI ML repository, "Optical Recognition of Handwritten Digits"
(E. Alpaydin, C. Kaynak), CC BY 4.0; see netdsl/data/DIGITS_LICENSE.txt.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "sklearn/datasets/data/digits.csv.gz"
OUT = Path(__file__).resolve().parents[1] / "netdsl" / "data" / "digits.npz"
CLASS_COUNTS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)


def read_csv_gz(source: Path) -> bytes:
    """Return the decompressed digits CSV from a wheel or from a digits.csv.gz file."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            packed = wheel.read(MEMBER)
    else:
        packed = source.read_bytes()
    print(f"digits.csv.gz: {len(packed)} bytes, sha256 {hashlib.sha256(packed).hexdigest()}")
    return gzip.decompress(packed)


def parse(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Parse the CSV into uint8 images (n, 8, 8) and uint8 labels (n,), checking the contents."""
    table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    if table.shape != (1797, 65):
        raise SystemExit(f"unexpected table shape {table.shape}, expected (1797, 65)")
    if not np.array_equal(table, np.round(table)):
        raise SystemExit("non-integer values in the table")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or labels.min() < 0 or labels.max() > 9:
        raise SystemExit("values out of range")
    counts = tuple(int(c) for c in np.bincount(labels.astype(np.int64), minlength=10))
    if counts != CLASS_COUNTS:
        raise SystemExit(f"class counts {counts} differ from {CLASS_COUNTS}")
    return pixels.astype(np.uint8).reshape(-1, 8, 8), labels.astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: wheel (or csv.gz) in, digits.npz out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a scikit-learn wheel or digits.csv.gz")
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    x, y = parse(read_csv_gz(args.source))
    np.savez_compressed(args.output, x=x, y=y)
    print(f"{args.output}: x {x.shape} {x.dtype}, y {y.shape} {y.dtype}, {args.output.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
