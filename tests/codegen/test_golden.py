"""generated/ is exactly what the compiler writes today: regenerated in a temporary folder, compared byte
for byte; ruff-clean; written atomically and deterministically; `netdsl compile` agrees with it."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from codegen.test_numpy_target import import_file
from helpers import EXAMPLES, ROOT

from netdsl.codegen.helpers import reference_functions

GENERATED = ROOT / "generated"
REGENERATE = ROOT / "tools" / "regenerate.py"


@functools.cache
def regenerate_module() -> ModuleType:
    """tools/regenerate.py, rendering the examples once for all the tests here."""
    tool = import_file(REGENERATE, "codegen_regenerate")
    tool.render_all = functools.cache(tool.render_all)
    return tool


def test_every_example_is_generated_for_both_targets() -> None:
    networks = [
        line.split()[1]
        for path in EXAMPLES.glob("*.net")
        for line in path.read_text().splitlines()
        if line.startswith("network ")
    ]
    assert len(networks) == len(list(EXAMPLES.glob("*.net")))
    for network in networks:
        for rel in (f"numpy/{network}.py", f"pytorch/{network}.py", f"pytorch/{network}_train.py"):
            assert (GENERATED / rel).is_file(), f"generated/{rel} is missing: run python tools/regenerate.py"


def test_generated_matches_a_fresh_regeneration(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    regenerate_module().regenerate(out)
    fresh = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.py"))
    committed = sorted(p.relative_to(GENERATED).as_posix() for p in GENERATED.rglob("*.py"))
    assert fresh == committed, "run python tools/regenerate.py"
    stale = [rel for rel in fresh if (out / rel).read_bytes() != (GENERATED / rel).read_bytes()]
    assert not stale, f"generated/ is out of date ({', '.join(stale)}): run python tools/regenerate.py"


def test_regenerate_check_mode_and_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    shutil.copytree(GENERATED, out)
    tool = regenerate_module()
    assert tool.main(["--check", "--out", str(out)]) == 0
    (out / "numpy" / "old_network.py").write_text("x = 1\n")
    (out / "numpy" / "lenet5.py").write_text("changed\n")
    assert tool.main(["--check", "--out", str(out)]) == 1
    assert sorted(tool.regenerate(out)) == ["changed numpy/lenet5.py", "stale numpy/old_network.py"]
    assert not (out / "numpy" / "old_network.py").exists()
    assert (out / "numpy" / "lenet5.py").read_bytes() == (GENERATED / "numpy" / "lenet5.py").read_bytes()
    assert tool.regenerate(out) == []


def test_generated_code_is_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    # pyproject.toml excludes generated/ from the project's own runs; checked here on purpose, same rules
    result = subprocess.run(
        [ruff, "check", "--no-force-exclude", "--no-cache", str(GENERATED)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def set_aside_reference_copies(text: str) -> str:
    """The text with each copy of a netdsl/reference.py function replaced by one assignment to its name."""
    for name, (source, _) in reference_functions().items():
        text = text.replace(source, f"{name} = None")
    return text


def test_generated_code_is_ruff_formatted(tmp_path: Path) -> None:
    """`ruff format --check` under the project's settings. The NumPy modules' copies of netdsl/reference.py's
    functions are set aside: they keep that file's own layout, whatever the project's formatting makes it."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    for path in GENERATED.rglob("*.py"):
        copy = tmp_path / path.relative_to(GENERATED)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(set_aside_reference_copies(path.read_text()))
    assert "= None" in (tmp_path / "numpy" / "lenet5.py").read_text()  # the copies were found
    result = subprocess.run(
        [ruff, "format", "--check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_lines_fit_120_columns() -> None:
    """Only the `check` table in a header comment may be wider (those files say `ruff: noqa: E501`)."""
    for path in GENERATED.rglob("*.py"):
        lines = path.read_text().splitlines()
        wide = [n for n, line in enumerate(lines, 1) if len(line) > 120 and not line.startswith("# ")]
        assert not wide, f"{path}: lines {wide}"
        if any(len(line) > 120 for line in lines):
            assert "# ruff: noqa: E501" in lines[:3]


def test_cli_writes_the_committed_bytes(tmp_path: Path) -> None:
    for target in ("numpy", "pytorch"):
        out = tmp_path / target / "lenet5.py"
        result = subprocess.run(
            [sys.executable, "-m", "netdsl.cli", "compile", "examples/lenet5.net", "--target", target, "-o", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        assert out.read_bytes() == (GENERATED / target / "lenet5.py").read_bytes()
    assert (tmp_path / "pytorch" / "lenet5_train.py").read_bytes() == (
        GENERATED / "pytorch" / "lenet5_train.py"
    ).read_bytes()
