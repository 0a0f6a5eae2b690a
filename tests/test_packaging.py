"""The wheel that `pip install .` builds holds every subpackage, the grammar and the data files."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `python -m build` makes of this checkout, checked by `twine check`."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)], check=True, capture_output=True
    )
    built = next(out.glob("netdsl-*.whl"))
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(built)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return built


def _source_packages() -> set[str]:
    """Every directory under netdsl/ that holds modules or package data, as a dotted package name."""
    return {
        ".".join(p.relative_to(ROOT).parts)
        for p in (ROOT / "netdsl").rglob("*")
        if p.is_dir() and p.name != "__pycache__" and any(f.is_file() for f in p.iterdir())
    }


def test_the_wheel_holds_every_package_grammar_template_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {name.rsplit("/", 1)[0].replace("/", ".") for name in names if "/" in name}
    assert _source_packages() <= shipped, _source_packages() - shipped
    assert {
        "netdsl/grammars/netdsl.lark",
        "netdsl/data/digits.npz",
        "netdsl/data/DIGITS_LICENSE.txt",
        "netdsl/cli/__init__.py",
        "netdsl/codegen/templates/numpy_module.py.j2",
    } <= names
    source_files = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "netdsl").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert source_files <= names, sorted(source_files - names)


def test_the_installed_wheel_checks_a_program(wheel: Path, tmp_path: Path) -> None:
    """A fresh venv with only the wheel (its dependencies reached through a .pth): `netdsl check` runs."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    # the dependencies through a .pth, written after the install: before it, pip would see this
    # environment's own netdsl there and install nothing
    (site / "_deps.pth").write_text("\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    python = venv / "bin" / "python"
    where = subprocess.run(
        [python, "-c", "import netdsl; print(netdsl.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert where.startswith(str(site)), where
    result = subprocess.run(
        [venv / "bin" / "netdsl", "check", str(ROOT / "examples" / "lenet5.net")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Trainable params:     61,706" in result.stdout


def test_the_version_is_stated_once() -> None:
    import netdsl

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "netdsl.__version__"}
    assert netdsl.__version__


def test_exactly_one_onnxruntime_for_every_platform() -> None:
    from packaging.markers import Marker

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    runtimes = {
        d.split(";")[0].split(">")[0].strip(): Marker(d.split(";", 1)[1]) for d in deps if d.startswith("onnxruntime")
    }
    platforms = {
        ("linux", "x86_64"): "onnxruntime-gpu",
        ("win32", "AMD64"): "onnxruntime-gpu",
        ("darwin", "arm64"): "onnxruntime",
        ("linux", "aarch64"): "onnxruntime",
    }
    for (system, machine), expected in platforms.items():
        chosen = [
            name
            for name, marker in runtimes.items()
            if marker.evaluate({"sys_platform": system, "platform_machine": machine})
        ]
        assert chosen == [expected], (system, machine, chosen)


def test_license_is_an_spdx_expression() -> None:
    """A string, not the deprecated {text = ...} table (setuptools warns about that on every build)."""
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "MIT"
