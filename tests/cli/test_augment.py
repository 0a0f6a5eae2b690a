"""`netdsl augment`: a PNG grid of augmented training samples, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netdsl.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_grid_png_shows_originals_and_augmentations(tmp_path: Path) -> None:
    from PIL import Image

    program = tmp_path / "net.net"
    program.write_text("input(1, 16, 16) - flatten - fc(10)\ntrain {\n augment = (crop(2), cutout(4))\n}\n")
    out = cli(
        "augment", str(program), "-o", str(tmp_path / "grid.png"), "--samples", "3", "--variants", "2", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert "wrote" in out.stdout and "3 samples, 2 augmentations each" in out.stdout
    with Image.open(tmp_path / "grid.png") as image:
        assert image.format == "PNG" and image.size[0] > 200 and image.size[1] > 200
        pixels = np.asarray(image.convert("L"))
    assert pixels.min() < 50 and pixels.max() > 200  # black backgrounds and white strokes were drawn
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_no_augment_setting_is_one_line(tmp_path: Path) -> None:
    program = tmp_path / "net.net"
    program.write_text("input(1, 8, 8) - flatten - fc(10)\n")
    out = cli("augment", str(program), cwd=tmp_path)
    assert out.returncode == 1 and "has no augment setting" in out.stderr and len(out.stderr.splitlines()) == 1


def test_too_many_pictures_is_a_usage_error(tmp_path: Path) -> None:
    program = tmp_path / "net.net"
    program.write_text("input(1, 8, 8) - flatten - fc(10)\ntrain {\n augment = flip\n}\n")
    out = cli("augment", str(program), "--samples", "100", "--variants", "10", cwd=tmp_path)
    assert out.returncode == 2 and "pictures" in out.stderr
