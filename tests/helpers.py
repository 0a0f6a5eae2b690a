"""Shared helpers: compile a program and pull out its diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest

from netdsl.compiler import Compilation, compile_source

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TORCH_REASON = "compares with PyTorch, which is not installed: pip install torch==2.13.0 (README, 'Quick start')"
TORCHVISION_REASON = (
    "compares with torchvision's models, and torchvision is not installed: "
    "pip install torch==2.13.0 torchvision==0.28.0 (README, 'Quick start')"
)


def torch_or_skip():
    """torch, or skip the calling test with how to install it (CI installs it, so the test runs there)."""
    return pytest.importorskip("torch", reason=TORCH_REASON)


def compile_text(text: str, file: str = "test.net") -> Compilation:
    return compile_source(text, file)


def errors(text: str) -> list:
    return [d for d in compile_text(text).all_diagnostics if d.severity == "error"]


def warnings(text: str) -> list:
    return [d for d in compile_text(text).all_diagnostics if d.severity == "warning"]


def only_error(text: str):
    found = errors(text)
    assert len(found) == 1, [d.message for d in found]
    return found[0]


def graph_of(text: str):
    compilation = compile_text(text)
    assert compilation.ok, [d.message for d in compilation.all_diagnostics]
    return compilation.networks[0].graph


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


def random_weights(graph, seed: int = 0) -> dict:
    """He-scaled weights, non-zero biases, batchnorm scale/shift/mean/var away from 1/0/0/1: every term counts."""
    import math

    import numpy as np

    rng = np.random.default_rng(seed)
    weights = {}
    for node in graph:
        for param, shape in {**node.params, **node.buffers}.items():
            if param == "weight" and len(shape) > 1:
                value = rng.standard_normal(shape, dtype=np.float32) * np.float32(math.sqrt(2.0 / math.prod(shape[1:])))
            elif param == "running_var":
                value = rng.uniform(0.5, 2.0, shape)
            elif param == "weight":  # batchnorm scale
                value = rng.uniform(0.5, 1.5, shape)
            else:  # biases, batchnorm shift and running mean
                value = rng.normal(0.0, 0.1, shape)
            weights[f"{node.name}.{param}"] = np.asarray(value, dtype=np.float32)
    return weights


def numeric_gradient(f, x, h: float = 1e-6):
    """Centered finite-difference gradient of the scalar f() with respect to x (perturbed in place)."""
    import numpy as np

    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f()
        flat[i] = old - h
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return g
