"""`netdsl draw`, `plot`, `show` and `report` as a user runs them: files written, bad input in one line."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import EXAMPLES

LENET = str(EXAMPLES / "lenet5.net")


def netdsl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netdsl.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or tempfile.gettempdir(),
    )


def one_line_error(result: subprocess.CompletedProcess, status: int, *words: str) -> None:
    assert result.returncode == status, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf", ".dot"])
def test_draw_writes_each_format(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"net{suffix}"
    result = netdsl("draw", EXAMPLES / "resnet18.net", "-o", out, "--rankdir", "LR", "--collapse")
    assert result.returncode == 0, result.stderr
    head = out.read_bytes()[:8]
    assert head.startswith({".svg": b"<svg", ".png": b"\x89PNG", ".pdf": b"%PDF", ".dot": b"digraph"}[suffix])
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left


def test_draw_defaults_to_the_network_name(tmp_path: Path) -> None:
    assert netdsl("draw", LENET, cwd=tmp_path).returncode == 0
    assert (tmp_path / "lenet5.svg").read_text().startswith("<svg")


def test_draw_refuses_an_unknown_format_and_writes_nothing(tmp_path: Path) -> None:
    one_line_error(
        netdsl("draw", LENET, "-o", "net.jpg", cwd=tmp_path), 2, "net.jpg", "unsupported output format", ".svg"
    )
    one_line_error(netdsl("draw", LENET, "-o", "net", cwd=tmp_path), 2, "unsupported output format")
    assert list(tmp_path.iterdir()) == []


def test_draw_of_a_bad_program_shows_the_diagnostic(tmp_path: Path) -> None:
    program = tmp_path / "bad.net"
    program.write_text("network n {\n    input(1, 8, 8)\n    conv(4, 9)\n}\n")
    result = netdsl("draw", program, "-o", tmp_path / "n.svg")
    assert result.returncode == 1 and "bad.net:3:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "n.svg").exists()


def test_check_imports_no_matplotlib() -> None:
    probe = (
        "import contextlib, io, sys, netdsl.cli as c\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    c.main(['check', sys.argv[1]])\n"
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe, LENET], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
