"""netdsl equals torchvision: MobileNetV2, EfficientNet-B0 and ConvNeXt-T, with torchvision's weights copied
into netdsl's layout, give torchvision's outputs on the NumPy backend, in onnxruntime and as generated code.
The programs are the examples with a smaller input (the nets are otherwise unchanged)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from codegen.test_numpy_target import import_file
from helpers import EXAMPLES
from torchvision_models import build, netdsl_weights, torch  # skips this module without torch or torchvision

import netdsl
from netdsl.backends.numpy.executor import Executor
from netdsl.backends.onnx.export import build_model, max_opset
from netdsl.backends.onnx.runtime import Session
from netdsl.codegen import generate, write
from netdsl.codegen.render import class_name

TOLERANCE = 1e-4
SMALL_INPUT = {"mobilenet_v2": 64, "efficientnet_b0": 64, "convnext_tiny": 32}


def small_program(name: str) -> netdsl.Model:
    """The example at a smaller input, ending in logits (its output without the softmax)."""
    size = SMALL_INPUT[name]
    text = (EXAMPLES / f"{name}.net").read_text()
    text = re.sub(r"input\(3, 224, 224\)", f"input(3, {size}, {size})", text)
    text = text.replace("output(1000)", "output(1000, activation=none)")
    return netdsl.loads(text, file=f"{name}.net")


@pytest.fixture(scope="module", params=sorted(SMALL_INPUT))
def case(request: pytest.FixtureRequest) -> dict:
    name = request.param
    model = small_program(name)
    net = build(name)
    weights, mapping = netdsl_weights(model.graph, net)
    size = SMALL_INPUT[name]
    x = np.random.default_rng(0).standard_normal((2, 3, size, size))
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    return {"name": name, "model": model, "weights": weights, "mapping": mapping, "x": x, "expected": expected}


def relative(got: np.ndarray, want: np.ndarray) -> float:
    assert got.shape == want.shape
    return float(np.abs(got - want).max() / np.abs(want).max())


def test_every_torchvision_tensor_has_a_netdsl_name(case: dict) -> None:
    state = build(case["name"]).state_dict()
    copied = set(case["mapping"].values())
    assert {k for k in state if not k.endswith("num_batches_tracked")} == copied


def test_numpy_backend_equals_torchvision(case: dict) -> None:
    executor = Executor(case["model"].graph)
    executor.load_state_dict({k: v.astype(np.float32) for k, v in case["weights"].items()})
    assert relative(executor.predict(case["x"].astype(np.float32)), case["expected"]) <= TOLERANCE


@pytest.mark.parametrize("opset", [13, 17, max_opset()])
def test_onnx_export_equals_torchvision(case: dict, opset: int) -> None:
    graph = case["model"].graph
    model = build_model(graph, {k: v.astype(np.float32) for k, v in case["weights"].items()}, opset)
    got = Session(model.SerializeToString(), provider="cpu").run(case["x"].astype(np.float32))
    assert relative(got, case["expected"]) <= TOLERANCE


@pytest.mark.parametrize("target", ["numpy", "pytorch"])
def test_generated_code_equals_torchvision(case: dict, target: str, tmp_path: Path) -> None:
    model = case["model"]
    write(generate(model, target, source=f"{case['name']}.net"), tmp_path)
    module = import_file(tmp_path / f"{model.name}.py", f"torchvision_{target}_{model.name}")
    weights = {k: v.astype(np.float32) for k, v in case["weights"].items()}
    x = case["x"].astype(np.float32)
    if target == "numpy":
        got = module.forward(weights, x)
    else:
        net = getattr(module, class_name(model.name))().eval()
        net.load_netdsl_state_dict(weights)
        with torch.no_grad():
            got = net(torch.from_numpy(x)).numpy()
    assert relative(got, case["expected"]) <= TOLERANCE
