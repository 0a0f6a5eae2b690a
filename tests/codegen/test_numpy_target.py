"""The generated NumPy modules: each committed one, executed from generated/, equals netdsl's NumPy backend."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from codegen.test_render import zoo_model
from helpers import EXAMPLES, ROOT, random_weights

import netdsl
from netdsl.backends.numpy.executor import Executor
from netdsl.codegen import generate, write

GENERATED = ROOT / "generated" / "numpy"
NAMES = sorted(path.stem for path in EXAMPLES.glob("*.net"))
BIG = {
    "alexnet",
    "vgg16",
    "resnet18",
    "resnet50",
    "googlenet",
    "densenet121",
    "mobilenet_v2",
    "efficientnet_b0",
    "convnext_tiny",
    "unet",
}
TOLERANCE = 1e-5


def import_file(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def backend(model: netdsl.Model, tensors: dict[str, np.ndarray]) -> Executor:
    executor = Executor(model.graph)
    executor.load_state_dict(tensors)
    return executor


def sample(model: netdsl.Model, seed: int = 2) -> np.ndarray:
    batch = 1 if model.name in BIG else 3
    if model.tokens is not None:  # token ids below the vocabulary (seed001_text)
        return np.random.default_rng(seed).integers(0, model.tokens, (batch, *model.input_shape)).astype(np.float32)
    return np.random.default_rng(seed).standard_normal((batch, *model.input_shape)).astype(np.float32)


def relative(got: np.ndarray, want: np.ndarray) -> float:
    assert got.shape == want.shape and got.dtype == np.float32
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))


def example(name: str) -> tuple[netdsl.Model, ModuleType]:
    model = netdsl.load(EXAMPLES / f"{name}.net")
    return model, import_file(GENERATED / f"{model.name}.py", f"generated_numpy_{model.name}")


@pytest.mark.parametrize("name", NAMES)
def test_generated_module_equals_backend(name: str) -> None:
    model, module = example(name)
    tensors = random_weights(model.graph)
    executor = backend(model, tensors)
    x = sample(model)
    assert relative(module.forward(tensors, x), executor.predict(x)) <= TOLERANCE
    if model.graph.output.op in ("softmax", "sigmoid") and name not in BIG:  # the scores before it, too
        want = executor.forward(x, stop_before=model.graph.output.name)
        assert relative(module.forward(tensors, x, logits=True), want) <= TOLERANCE


@pytest.mark.parametrize("name", [n for n in NAMES if n != "vgg16"])
def test_init_params_is_the_backends_initialization(name: str) -> None:
    model, module = example(name)
    executor = Executor(model.graph)
    executor.init_params(seed=5)
    mine = module.init_params(seed=5)
    theirs = executor.state_dict()
    assert set(mine) == set(theirs)
    for key, value in theirs.items():
        assert mine[key].dtype == np.float32 and np.array_equal(mine[key], value), key


def test_load_reads_netdsl_weights_files(tmp_path: Path) -> None:
    model, module = example("seed002_mnist_table")
    tensors = random_weights(model.graph)
    path = tmp_path / "w.npz"
    np.savez(path, **tensors)
    loaded = module.load(str(path))
    assert set(loaded) == set(tensors) and all(np.array_equal(loaded[k], tensors[k]) for k in tensors)
    x = sample(model)
    assert relative(module.forward(loaded, x), backend(model, tensors).predict(x)) <= TOLERANCE


def test_load_rejects_a_mismatched_file(tmp_path: Path) -> None:
    model, module = example("lenet5")
    tensors = random_weights(model.graph)
    tensors["c1.weight"] = tensors["c1.weight"][:3]
    del tensors["out.bias"]
    tensors["extra"] = np.zeros(1, np.float32)
    np.savez(tmp_path / "bad.npz", **tensors)
    with pytest.raises(ValueError, match="missing out.bias.*unexpected extra.*c1.weight has shape"):
        module.load(str(tmp_path / "bad.npz"))


def test_forward_checks_the_input_shape() -> None:
    model, module = example("lenet5")
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 1, 32, 32\)"):
        module.forward(module.init_params(), np.zeros((1, 1, 28, 28), np.float32))


def test_every_op_and_odd_pads_equal_backend(tmp_path: Path) -> None:
    """Ops no example uses, asymmetric conv and pool pads, ceil pooling, even LRN, names that need renaming."""
    model = zoo_model()
    write(generate(model, "numpy", source="zoo.net"), tmp_path)
    module = import_file(tmp_path / "zoo.py", "generated_numpy_zoo")
    tensors = random_weights(model.graph)
    executor = backend(model, tensors)
    x = sample(model)
    assert relative(module.forward(tensors, x), executor.predict(x)) <= TOLERANCE
    assert (
        relative(module.forward(tensors, x, logits=True), executor.forward(x, stop_before=model.graph.output.name))
        <= TOLERANCE
    )


def test_vector_input(tmp_path: Path) -> None:
    model = netdsl.loads("network vec { input(20) - fc(16) - bn - relu - dropout(0.2) - fc(3) - sigmoid }")
    write(generate(model, "numpy", source="vec.net"), tmp_path)
    module = import_file(tmp_path / "vec.py", "generated_numpy_vec")
    tensors = random_weights(model.graph)
    x = np.random.default_rng(0).standard_normal((4, 20)).astype(np.float32)
    assert relative(module.forward(tensors, x), backend(model, tensors).predict(x)) <= TOLERANCE


RESIDUAL_INPUT = "network res { input(3, 9, 9) - add { conv(3, 3, pad=1) - relu | identity } - softmax - maxpool(3) }"


def test_input_feeding_two_layers_and_image_softmax(tmp_path: Path) -> None:
    model = netdsl.loads(RESIDUAL_INPUT)
    write(generate(model, "numpy", source="res.net"), tmp_path)
    assert "    input_1 = x  # input -> 3x9x9\n" in (tmp_path / "res.py").read_text()
    module = import_file(tmp_path / "res.py", "generated_numpy_res")
    tensors = random_weights(model.graph)
    x = sample(model)
    assert relative(module.forward(tensors, x), backend(model, tensors).predict(x)) <= TOLERANCE
