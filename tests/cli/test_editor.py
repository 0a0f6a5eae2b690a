"""`netdsl fmt` and `netdsl lsp` on the command line; `netdsl check` stays free of the editor packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import EXAMPLES

MESSY = "network  n{\ninput( 1,28,28 )\n  conv(8,3)-relu   # first\nfc(10)}\n"
TIDY = "network n {\n    input(1, 28, 28)\n    conv(8, 3) - relu  # first\n    fc(10)\n}\n"


def netdsl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netdsl", *args], capture_output=True, text=True, cwd=cwd)


def test_the_examples_are_formatted() -> None:
    result = netdsl("fmt", "--check", str(EXAMPLES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == "0 files would be reformatted"


def test_check_lists_the_files_that_would_change_and_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "messy.net").write_text(MESSY)
    (tmp_path / "tidy.net").write_text(TIDY)
    result = netdsl("fmt", "--check", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout == f"would reformat {tmp_path / 'messy.net'}\n"
    assert (tmp_path / "messy.net").read_text() == MESSY


def test_diff_prints_what_would_change(tmp_path: Path) -> None:
    (tmp_path / "messy.net").write_text(MESSY)
    result = netdsl("fmt", "--diff", "messy.net", cwd=tmp_path)
    assert result.returncode == 1
    assert "--- messy.net\n+++ messy.net (formatted)\n" in result.stdout
    assert "\n-input( 1,28,28 )\n" in result.stdout and "\n+    input(1, 28, 28)\n" in result.stdout
    assert (tmp_path / "messy.net").read_text() == MESSY


def test_fmt_rewrites_in_place(tmp_path: Path) -> None:
    (tmp_path / "messy.net").write_text(MESSY)
    result = netdsl("fmt", "messy.net", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "1 file reformatted\n"
    assert (tmp_path / "messy.net").read_text() == TIDY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["messy.net"]  # no temporary file left
    assert netdsl("fmt", "--check", "messy.net", cwd=tmp_path).returncode == 0


def test_a_file_that_does_not_parse_is_left_alone_with_a_located_error(tmp_path: Path) -> None:
    broken = "network n {\n    input(1, 8, 8\n    fc(2)\n}\n"
    (tmp_path / "broken.net").write_text(broken)
    (tmp_path / "messy.net").write_text(MESSY)
    result = netdsl("fmt", "broken.net", "messy.net", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("broken.net:3:5: error: ")
    assert (tmp_path / "broken.net").read_text() == broken
    assert (tmp_path / "messy.net").read_text() == TIDY  # the other files are formatted all the same


def test_bad_paths_are_one_line_and_exit_2(tmp_path: Path) -> None:
    result = netdsl("fmt", "nowhere.net", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr == "netdsl: error: nowhere.net: no such file or folder\n"
    (tmp_path / "binary.net").write_bytes(b"\xff\xfe")
    result = netdsl("fmt", "binary.net", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("netdsl: error: binary.net: ")
    assert result.stderr.count("\n") == 1 and "UTF-8" in result.stderr


def test_check_imports_neither_pygls_nor_lsprotocol() -> None:
    probe = (
        "import sys, netdsl.cli as c; c.main(['check', sys.argv[1]]); "
        "print(' '.join(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'cattrs')),"
        " file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(EXAMPLES / "lenet5.net")], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_lsp_is_listed() -> None:
    result = netdsl("--help")
    assert "lsp" in result.stdout and "fmt" in result.stdout
