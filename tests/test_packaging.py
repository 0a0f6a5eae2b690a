"""The wheel that `pip install .` builds holds every subpackage, the grammar and the data files."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from helpers import ROOT


def test_every_subpackage_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "netdsl").rglob("*")
             if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py*"))}
    assert found <= listed, found - listed


def test_wheel_ships_grammar_and_data(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("netdsl-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"netdsl/grammars/netdsl.lark", "netdsl/data/digits.npz", "netdsl/data/DIGITS_LICENSE.txt",
            "netdsl/cli/__init__.py", "netdsl/codegen/templates/numpy_module.py.j2"} <= names


def test_exactly_one_onnxruntime_for_every_platform() -> None:
    from packaging.markers import Marker

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    runtimes = {d.split(";")[0].split(">")[0].strip(): Marker(d.split(";", 1)[1]) for d in deps
                if d.startswith("onnxruntime")}
    platforms = {("linux", "x86_64"): "onnxruntime-gpu", ("win32", "AMD64"): "onnxruntime-gpu",
                 ("darwin", "arm64"): "onnxruntime", ("linux", "aarch64"): "onnxruntime"}
    for (system, machine), expected in platforms.items():
        chosen = [name for name, marker in runtimes.items()
                  if marker.evaluate({"sys_platform": system, "platform_machine": machine})]
        assert chosen == [expected], (system, machine, chosen)


def test_license_is_an_spdx_expression() -> None:
    """A string, not the deprecated {text = ...} table (setuptools warns about that on every build)."""
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "MIT"
