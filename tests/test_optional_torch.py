"""The README's two commands pass without torch, and with torch but without torchvision: the tests that compare
with them skip and say how to install them; the README and the docs give the one install command CI uses."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from helpers import ROOT

# None in sys.modules makes `import torch` fail and importlib.util.find_spec("torch") answer None, as when absent
RUN_PYTEST = (
    "import sys; sys.modules.update(dict.fromkeys({blocked!r})); import pytest; sys.exit(pytest.main({args!r}))"
)
COMPARISONS = ["tests/ops", "tests/reference", "tests/test_torchvision.py"]


def pytest_without(blocked: list[str], args: list[str]) -> subprocess.CompletedProcess:
    """Run pytest in a fresh interpreter where the modules in `blocked` cannot be imported."""
    code = RUN_PYTEST.format(blocked=blocked, args=[*args, "-p", "no:randomly", "-q", "-rs"])
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_whole_suite_collects_without_torch() -> None:
    result = pytest_without(["torch", "torchvision"], ["--co", "tests"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "error" not in result.stdout.splitlines()[-1], result.stdout[-3000:]


def test_torch_comparisons_skip_with_how_to_install_it() -> None:
    result = pytest_without(["torch", "torchvision"], ["-x", *COMPARISONS])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "pip install torch==2.13.0" in result.stdout and " passed" in result.stdout  # the rest still runs
    assert "failed" not in result.stdout and "error" not in result.stdout.lower()


def test_torchvision_comparisons_skip_when_only_torch_is_installed() -> None:
    pytest.importorskip("torch", reason="the case of torch without torchvision needs torch")
    result = pytest_without(["torchvision"], ["-x", "tests/test_torchvision.py"])
    assert result.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, result.stdout[-3000:] + result.stderr[-2000:]
    assert "torchvision is not installed: pip install torch==2.13.0 torchvision==0.28.0" in result.stdout


def ci_pins() -> list[str]:
    """The torch and torchvision requirements CI installs, e.g. torch==2.13.0."""
    return re.findall(r'pip install --quiet "((?:torch|torchvision)==[\d.]+)"', (ROOT / ".ci" / "run").read_text())


def test_readme_and_docs_install_torch_as_ci_does() -> None:
    pins = ci_pins()
    assert len(pins) == 2, pins
    assert f"pip install {' '.join(pins)}" in (ROOT / "README.md").read_text()
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert ".[torch]" not in doc.read_text(), f"{doc.name}: install torch as the README does"
