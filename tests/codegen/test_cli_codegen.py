"""`netdsl compile` as a user runs it: default and explicit outputs, one-line errors, exit codes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from helpers import EXAMPLES


def compile_(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netdsl.cli", "compile", *args], capture_output=True, text=True, cwd=cwd
    )


def test_default_output_is_generated_target_network(tmp_path: Path) -> None:
    result = compile_(str(EXAMPLES / "resnet18.net"), "--target", "pytorch", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "wrote generated/pytorch/resnet18.py",
        "wrote generated/pytorch/resnet18_train.py",
    ]
    result = compile_(str(EXAMPLES / "resnet18.net"), "--target", "numpy", cwd=tmp_path)
    assert result.stdout.strip() == "wrote generated/numpy/resnet18.py"
    written = sorted(p.name for p in (tmp_path / "generated" / "pytorch").iterdir())
    assert written == ["resnet18.py", "resnet18_train.py"]  # and no temporary files
    umask = os.umask(0o022)
    os.umask(umask)
    mode = stat.S_IMODE((tmp_path / "generated" / "numpy" / "resnet18.py").stat().st_mode)
    assert mode == 0o666 & ~umask  # as any file the user creates, not the 0600 of a temporary file


def test_output_file_and_folder(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    assert compile_(str(EXAMPLES / "lenet5.net"), "--target", "numpy", "-o", "models", cwd=tmp_path).returncode == 0
    assert (tmp_path / "models" / "lenet5_numpy.py").is_file()
    result = compile_(str(EXAMPLES / "lenet5.net"), "--target", "pytorch", "-o", "nets/le.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    train = (tmp_path / "nets" / "le_train.py").read_text()
    assert "from le import INPUT_SHAPE, OUTPUT_SHAPE, Lenet5" in train


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    cases = [
        (["missing.net", "--target", "numpy"], "missing.net: no such file"),
        ([str(EXAMPLES / "lenet5.net"), "--target", "numpy", "-o", "out.txt"], "name a .py file"),
        ([str(EXAMPLES / "lenet5.net"), "--target", "numpy", "-o", "torch.py"], "would shadow the 'torch' library"),
        ([str(EXAMPLES / "lenet5.net"), "--target", "numpy", "-o", "my-net.py"], "must be an identifier"),
    ]
    for args, message in cases:
        result = compile_(*args, cwd=tmp_path)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = compile_(str(EXAMPLES / "lenet5.net"), "--target", "jax", cwd=tmp_path)
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_bad_program_exits_1_with_diagnostics(tmp_path: Path) -> None:
    bad = tmp_path / "bad.net"
    bad.write_text("input(1, 8, 8)\nconv(4, 9)\n")
    result = compile_(str(bad), "--target", "numpy", cwd=tmp_path)
    assert result.returncode == 1 and "bad.net:2:1: error" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "generated").exists()


def test_network_option(tmp_path: Path) -> None:
    program = tmp_path / "two.net"
    program.write_text("network a { input(4) - fc(2) }\nnetwork b { input(3) - fc(2) - softmax }\n")
    assert compile_(str(program), "--target", "numpy", "--network", "b", cwd=tmp_path).returncode == 0
    assert (tmp_path / "generated" / "numpy" / "b.py").is_file()
    result = compile_(str(program), "--target", "numpy", "--network", "c", cwd=tmp_path)
    assert result.returncode == 1 and "has no network 'c'" in result.stderr


def test_unwritable_output_exits_1(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = compile_(str(EXAMPLES / "lenet5.net"), "--target", "numpy", "-o", "file/sub/x.py", cwd=tmp_path)
    assert result.returncode == 1 and "cannot write" in result.stderr and "Traceback" not in result.stderr


def test_help_documents_the_default_output(tmp_path: Path) -> None:
    result = compile_("--help", cwd=tmp_path)
    assert result.returncode == 0 and "generated/TARGET/NETWORK.py" in result.stdout and "torchrun" in result.stdout


def test_a_missing_folder_is_created_and_each_target_has_its_own_files(tmp_path: Path) -> None:
    for target in ("numpy", "pytorch"):
        result = compile_(str(EXAMPLES / "lenet5.net"), "--target", target, "-o", "out/", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "lenet5_numpy.py",
        "lenet5_pytorch.py",
        "lenet5_pytorch_train.py",
    ]
    assert "import numpy" in (tmp_path / "out" / "lenet5_numpy.py").read_text()
    train = (tmp_path / "out" / "lenet5_pytorch_train.py").read_text()
    assert "from lenet5_pytorch import" in train
    assert compile_(str(EXAMPLES / "lenet5.net"), "--target", "numpy", "-o", "fresh", cwd=tmp_path).returncode == 0
    assert (tmp_path / "fresh" / "lenet5_numpy.py").is_file()


def test_another_targets_file_is_never_overwritten(tmp_path: Path) -> None:
    assert compile_(str(EXAMPLES / "lenet5.net"), "--target", "numpy", "-o", "m.py", cwd=tmp_path).returncode == 0
    before = (tmp_path / "m.py").read_text()
    result = compile_(str(EXAMPLES / "lenet5.net"), "--target", "pytorch", "-o", "m.py", cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "m.py holds the numpy code netdsl generated" in result.stderr
    assert (tmp_path / "m.py").read_text() == before and not (tmp_path / "m_train.py").exists()
    again = compile_(str(EXAMPLES / "lenet5.net"), "--target", "numpy", "-o", "m.py", cwd=tmp_path)
    assert again.returncode == 0  # the same target regenerates its own file
