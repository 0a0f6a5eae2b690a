"""A small trained run shared by the picture tests: a conv net on the 8x8 digits, two epochs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TINY = """# a conv net on the 8x8 digits
network tiny {
    input(1, 8, 8)
    conv(6, 3, pad=1) - relu - maxpool(2)
    flatten
    fc(16) - relu
    output(10)
}

train {
    data      = digits
    optimizer = adam(lr=0.01)
    epochs    = 2
    batch     = 64
    val_split = 0.2
}
"""


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """The run directory netdsl train wrote; its program is tiny.net beside it."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "tiny.net").write_text(TINY)
    result = subprocess.run(
        [sys.executable, "-m", "netdsl.cli", "train", "tiny.net", "--out", "run", "--quiet"],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "run"


@pytest.fixture(scope="session")
def diagnosed_run(tmp_path_factory) -> Path:
    """The same training with --diagnostics: diagnostics.csv beside the other files."""
    root = tmp_path_factory.mktemp("diagnosed")
    (root / "tiny.net").write_text(TINY)
    result = subprocess.run(
        [sys.executable, "-m", "netdsl.cli", "train", "tiny.net", "--out", "run", "--quiet", "--diagnostics"],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "run"
