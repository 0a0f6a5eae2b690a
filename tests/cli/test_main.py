"""`netdsl check` as a user runs it: tables, JSON, exit codes, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers import EXAMPLES


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The installed command, run away from the source tree."""
    return subprocess.run(
        [sys.executable, "-m", "netdsl.cli", *args], capture_output=True, text=True, cwd=cwd or tempfile.gettempdir()
    )


def test_check_prints_table_and_totals() -> None:
    result = run("check", str(EXAMPLES / "lenet5.net"))
    assert result.returncode == 0, result.stderr
    assert "c1" in result.stdout and "6x28x28" in result.stdout and "Trainable params:     61,706" in result.stdout
    assert "\x1b[" not in result.stdout  # plain text when not a terminal


def test_check_graph_table_shows_inputs() -> None:
    result = run("check", str(EXAMPLES / "resnet18.net"))
    assert "Inputs" in result.stdout and "basic_1.batchnorm_2, maxpool_1" in result.stdout


def test_check_json_schema() -> None:
    result = run("check", "--json", str(EXAMPLES / "alexnet.net"))
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["network"] == "alexnet"
    conv = data["layers"][1]
    assert conv["name"] == "conv_1" and conv["shape"] == [96, 54, 54] and conv["params"] == 34_944
    assert conv["macs"] == 54 * 54 * 96 * 11 * 11 * 3 and conv["receptive_field"] == [11, 4] and conv["line"] == 6
    assert data["layers"][-2]["receptive_field"] is None
    assert set(data["totals"]) >= {"trainable", "non_trainable", "macs", "param_bytes", "activation_bytes"}
    warning = data["diagnostics"][0]
    assert warning["severity"] == "warning" and (warning["file"], warning["line"], warning["column"]) == (
        str(EXAMPLES / "alexnet.net"),
        6,
        5,
    )


def test_check_json_error_exits_1_and_still_prints(tmp_path: Path) -> None:
    bad = tmp_path / "bad.net"
    bad.write_text("input(1, 8, 8)\n  conv(0, 3)\n")
    result = run("check", "--json", str(bad))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["diagnostics"][0]["severity"] == "error" and data["diagnostics"][0]["line"] == 2


def test_bad_program_gets_caret_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "lenet.net"
    bad.write_text("input(1, 32, 32)\nconv(6, 5) - maxpool(2) - conv(16, 5) - maxpool(2)\n    conv(16, 7) - relu\n")
    result = run("check", str(bad))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == (f"{bad}:3:5: error: conv(16, 7) needs an input of at least 7x7, but maxpool_2 gives 16x5x5")
    assert lines[1] == "        conv(16, 7) - relu"
    assert lines[2] == "        ^~~~~~~~~~~"
    assert "Traceback" not in result.stderr


def test_missing_file_is_usage_error() -> None:
    result = run("check", "/nonexistent/model.net")
    assert result.returncode == 2
    assert result.stderr.strip() == "netdsl: error: /nonexistent/model.net: no such file"


def test_no_arguments_is_usage_error() -> None:
    assert run("check").returncode == 2
    assert run("frobnicate").returncode == 2


def test_several_files_check_all() -> None:
    result = run("check", str(EXAMPLES / "lenet5.net"), str(EXAMPLES / "seed001_cnn.net"))
    assert result.returncode == 0 and "network lenet5" in result.stdout and "network seed001_cnn" in result.stdout


def test_binary_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.net"
    bad.write_bytes(b"\xff\xfe\x00\x01")
    result = run("check", str(bad))
    assert result.returncode == 1 and result.stderr.count("\n") == 1


def test_file_without_network_is_located(tmp_path: Path) -> None:
    empty = tmp_path / "empty.net"
    empty.write_text("# nothing here\n")
    result = run("check", str(empty))
    assert result.returncode == 1 and result.stderr.startswith(f"{empty}:1:1: error: the file defines no network")


# Modules a start-up must not load: `check` is what every user and the language server run first.
HEAVY = (
    "numpy",
    "onnx",
    "onnxruntime",
    "jinja2",
    "matplotlib",
    "rich",
    "PIL",
    "torch",
    "netdsl.codegen",
    "netdsl.backends",
)


def _loaded_after(code: str, *args: str) -> list[str]:
    probe = (
        f"import contextlib, io, sys, netdsl.cli as c\nwith contextlib.redirect_stdout(io.StringIO()):\n"
        f"    {code}\nprint(' '.join(m for m in sys.modules if m.startswith({HEAVY!r})))"
    )
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_check_loads_no_backend_codegen_or_heavy_library() -> None:
    assert _loaded_after("c.main(['check', sys.argv[1]])", str(EXAMPLES / "resnet50.net")) == []


def test_fmt_loads_no_backend_codegen_or_heavy_library() -> None:
    assert _loaded_after("c.main(['fmt', '--check', sys.argv[1]])", str(EXAMPLES / "resnet50.net")) == []


def test_lsp_start_up_loads_no_backend_codegen_or_heavy_library() -> None:
    code = "c.build_parser(['lsp']).parse_args(['lsp']); import netdsl.lsp.server"
    assert _loaded_after(code) == []


def test_only_the_chosen_command_module_is_imported() -> None:
    probe = (
        "import sys, netdsl.cli as c; c.build_parser(['check']).parse_args(['check', 'x.net']); "
        "print(' '.join(m for m in sys.modules if m.startswith('netdsl.cli.')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_help_lists_every_command_with_its_help() -> None:
    from netdsl.cli import COMMANDS

    result = run("--help")
    assert result.returncode == 0
    for name, (_, help_text) in COMMANDS.items():
        assert name in result.stdout and help_text.split()[0] in result.stdout
    assert len(COMMANDS) >= 14


def test_every_registered_command_builds() -> None:
    from netdsl.cli import COMMANDS, build_parser

    for name in COMMANDS:
        assert build_parser([name]).parse_args([name, *_minimal(name)]).func


def _minimal(command: str) -> list[str]:
    """Arguments that satisfy each command's required ones."""
    return {
        "check": ["x.net"],
        "fmt": ["x.net"],
        "lsp": [],
        "plot": ["run"],
        "report": ["run"],
        "run": ["m.onnx", "--input", "x.npy"],
        "evaluate": ["x.net", "--weights", "w.npz"],
        "predict": ["x.net", "--weights", "w.npz", "--input", "x.npy"],
        "show": ["x.net", "--weights", "w.npz", "--input", "x.npy"],
        "dream": ["x.net", "--weights", "w.npz"],
        "compile": ["x.net", "--target", "numpy"],
    }.get(command, ["x.net"])


def test_flags_are_never_abbreviated() -> None:
    result = run("predict", "x.net", "--weights", "w.npz", "--input", "x.npy", "--data", "digits")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "netdsl predict: error: unrecognized arguments: --data digits" in result.stderr
    assert "did you mean --data-dir" in result.stderr
    result = run("train", "x.net", "--epoch", "3")
    assert result.returncode == 2 and "did you mean --epochs" in result.stderr


def test_no_parser_allows_abbreviations() -> None:
    import argparse

    from netdsl.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert not parser.allow_abbrev and not any(p.allow_abbrev for p in sub.choices.values())
