"""The generated PyTorch modules equal netdsl's NumPy backend on netdsl's weights; train.py trains under torchrun."""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from codegen.test_numpy_target import (
    BIG,
    NAMES,
    RESIDUAL_INPUT,
    TOLERANCE,
    backend,
    import_file,
    relative,
    sample,
)
from codegen.test_render import zoo_model
from helpers import EXAMPLES, ROOT, random_weights

import netdsl
from netdsl.backends.numpy.weights import load_weights
from netdsl.codegen import generate, write
from netdsl.codegen.render import class_name

torch = pytest.importorskip("torch")

GENERATED = ROOT / "generated" / "pytorch"


def network_class(path: Path, network: str) -> type:
    module = import_file(path, f"generated_torch_{network}_{abs(hash(path))}")
    return getattr(module, class_name(network))


def run(net: torch.nn.Module, x: np.ndarray, logits: bool = False) -> np.ndarray:
    with torch.no_grad():
        out = net(torch.from_numpy(x), logits=True) if logits else net(torch.from_numpy(x))
    return out.numpy()


def loaded(model: netdsl.Model, path: Path, tensors: dict[str, np.ndarray]) -> torch.nn.Module:
    net = network_class(path, model.name)().eval()
    net.load_netdsl_state_dict(tensors)
    return net


@pytest.mark.parametrize("name", NAMES)
def test_generated_module_equals_backend(name: str) -> None:
    model = netdsl.load(EXAMPLES / f"{name}.net")
    tensors = random_weights(model.graph)
    executor = backend(model, tensors)
    net = loaded(model, GENERATED / f"{model.name}.py", tensors)
    x = sample(model)
    assert relative(run(net, x), executor.predict(x)) <= TOLERANCE
    if model.graph.output.op in ("softmax", "sigmoid") and name not in BIG:
        assert relative(run(net, x, logits=True), executor.forward(x, stop_before=model.graph.output.name)) <= TOLERANCE


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "seed002_mnist_table", "alexnet"])
def test_weights_map_one_to_one(name: str) -> None:
    model = netdsl.load(EXAMPLES / f"{name}.net")
    path = GENERATED / f"{model.name}.py"
    module = import_file(path, f"generated_torch_map_{model.name}")
    net = getattr(module, class_name(model.name))()
    expected = {f"{n.name}.{k}": s for n in model.graph for k, s in {**n.params, **n.buffers}.items()}
    names = net.netdsl_names()
    assert set(names) == set(expected)
    state = net.state_dict()
    assert set(names.values()) == {k for k in state if not k.endswith("num_batches_tracked")}
    parameters = dict(net.named_parameters())
    trainable = {f"{n.name}.{k}" for n in model.graph for k in n.params}
    for key, torch_name in names.items():
        assert tuple(state[torch_name].shape) == expected[key]
        assert (torch_name in parameters) == (key in trainable), key
    assert sum(p.numel() for p in parameters.values()) == model.totals.trainable


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "unet", "lenet5"])
def test_state_dict_keys_are_netdsls_weight_names(name: str, tmp_path: Path) -> None:
    """netdsl's weights.npz goes into the generated module with load_state_dict itself: no renaming."""
    model = netdsl.load(EXAMPLES / f"{name}.net")
    tensors = random_weights(model.graph)
    np.savez(tmp_path / "weights.npz", **tensors)
    net = network_class(GENERATED / f"{model.name}.py", model.name)().eval()
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as data:
        net.load_state_dict({key: torch.from_numpy(data[key]) for key in data.files}, strict=False)
    missing = {key for key in net.state_dict() if not key.endswith("num_batches_tracked")} - set(tensors)
    assert not missing
    x = sample(model)
    assert relative(run(net, x), backend(model, tensors).predict(x)) <= TOLERANCE


def test_weights_files_round_trip(tmp_path: Path) -> None:
    model = netdsl.load(EXAMPLES / "seed002_mnist_table.net")
    tensors = random_weights(model.graph)
    np.savez(tmp_path / "in.npz", **tensors)
    net = network_class(GENERATED / f"{model.name}.py", model.name)().eval()
    net.load_netdsl_weights(str(tmp_path / "in.npz"))
    net.save_netdsl_weights(str(tmp_path / "out.npz"))
    back = load_weights(tmp_path / "out.npz", model.graph)  # netdsl's own reader accepts it
    assert all(np.array_equal(back[key], tensors[key]) for key in tensors)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.npz", "out.npz"]  # no temporary file left


def test_mismatched_weights_are_refused() -> None:
    model = netdsl.load(EXAMPLES / "lenet5.net")
    tensors = random_weights(model.graph)
    tensors.pop("out.bias")
    tensors["c1.weight"] = tensors["c1.weight"][:2]
    net = network_class(GENERATED / "lenet5.py", "lenet5")()
    with pytest.raises(ValueError, match="missing out.bias.*c1.weight has shape"):
        net.load_netdsl_state_dict(tensors)


def test_every_op_and_asymmetric_pads_equal_backend(tmp_path: Path) -> None:
    """Asymmetric conv pads, ceil and `same` pooling (asymmetric avgpool counts only real inputs),
    an even LRN window, dilation, groups, and layer names that clash with Python or nn.Module."""
    model = zoo_model()
    write(generate(model, "pytorch", source="zoo.net"), tmp_path)
    text = (tmp_path / "zoo.py").read_text()
    assert "PaddedAvgPool2d((2, 2), (2, 2), pads=(0, 0, 1, 1))" in text and "ChannelLRN(4" in text
    assert "count_include_pad=False" in text and "F.pad(x, (0, 1, 0, 1))" in text
    tensors = random_weights(model.graph)
    executor = backend(model, tensors)
    net = loaded(model, tmp_path / "zoo.py", tensors)
    x = sample(model, seed=7)
    assert relative(run(net, x), executor.predict(x)) <= TOLERANCE
    assert relative(run(net, x, logits=True), executor.forward(x, stop_before=model.graph.output.name)) <= TOLERANCE


def test_asymmetric_avgpool_divides_by_real_inputs(tmp_path: Path) -> None:
    model = netdsl.loads("network p { input(1, 3, 3) - avgpool(2, pad=same) }")
    assert model.graph.output.attrs["pads"] == (0, 0, 1, 1)
    write(generate(model, "pytorch", source="p.net"), tmp_path)
    net = network_class(tmp_path / "p.py", "p")()
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    y = run(net, x)[0, 0]
    assert y.tolist() == [[2.0, 3.5], [6.5, 8.0]]  # corners: 1 + 1 real inputs, 1 real input
    assert np.array_equal(y, backend(model, {}).predict(x)[0, 0])


def test_vector_input_and_batchnorm1d(tmp_path: Path) -> None:
    model = netdsl.loads("network vec { input(20) - fc(16) - bn - relu - dropout(0.2) - fc(3) - sigmoid }")
    write(generate(model, "pytorch", source="vec.net"), tmp_path)
    assert "nn.BatchNorm1d(16" in (tmp_path / "vec.py").read_text()
    tensors = random_weights(model.graph)
    net = loaded(model, tmp_path / "vec.py", tensors)
    x = np.random.default_rng(0).standard_normal((4, 20)).astype(np.float32)
    assert relative(run(net, x), backend(model, tensors).predict(x)) <= TOLERANCE


# ---- train.py ----


def _train(script: Path, args: list[str], cwd: Path, torchrun: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    launcher = (
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
        if torchrun
        else [sys.executable]
    )
    return subprocess.run(
        [*launcher, str(script), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def _val_accuracy(model: netdsl.Model, weights: Path) -> float:
    from netdsl.data import load_dataset

    config = model.train_config
    data = load_dataset(config.data, model.input_shape, val_split=config.val_split, seed=config.seed)
    executor = backend(model, load_weights(weights, model.graph))
    return float((executor.predict(data.x_val).argmax(axis=1) == data.y_val).mean())


def _check_run(result: subprocess.CompletedProcess, model: netdsl.Model, weights: Path, processes: int) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{processes} process(es) on cpu" in result.stdout
    epoch = re.search(r"^epoch 1/1 loss (\S+) acc (\S+) val_loss (\S+) val_acc (\S+)", result.stdout, re.M)
    assert epoch, result.stdout
    loss, val_acc = float(epoch[1]), float(epoch[4])
    assert np.isfinite(loss) and loss < 2.4  # below chance (ln 10) after one epoch
    assert f"saved {weights.name}" in result.stdout
    # the saved file is a netdsl weights file, and netdsl finds the accuracy the script printed
    assert abs(_val_accuracy(model, weights) - val_acc) < 1e-4


def test_train_script_under_torchrun_ddp(tmp_path: Path) -> None:
    model = netdsl.load(EXAMPLES / "lenet5.net")
    result = _train(
        GENERATED / "lenet5_train.py", ["--epochs", "1", "--out", "w.npz", "--device", "cpu"], tmp_path, torchrun=True
    )
    _check_run(result, model, tmp_path / "w.npz", processes=2)


TINY_RESNET = """
block res(c) { add { conv(c, 3, pad=1) - relu - conv(c, 3, pad=1) | identity } - relu }
network tinyres {
    input(1, 8, 8)
    conv(8, 3, pad=1) - relu - res(8) * 2 - globalavgpool
    output(10)
}
train {
    data = digits
    loss = cross_entropy
    optimizer = adam(lr=0.01)
    epochs = 1
    batch = 32
}
"""


def test_train_script_of_block_classes_under_torchrun_ddp(tmp_path: Path) -> None:
    """Block classes and a loop over repeated uses train under DDP and save netdsl's weight names."""
    model = netdsl.loads(TINY_RESNET, file="tinyres.net")
    write(generate(model, "pytorch", source="tinyres.net"), tmp_path)
    assert "class Res(nn.Module):" in (tmp_path / "tinyres.py").read_text()
    result = _train(
        tmp_path / "tinyres_train.py", ["--epochs", "1", "--out", "w.npz", "--device", "cpu"], tmp_path, torchrun=True
    )
    _check_run(result, model, tmp_path / "w.npz", processes=2)


def test_train_script_in_one_process_with_batchnorm(tmp_path: Path) -> None:
    model = netdsl.load(EXAMPLES / "seed002_mnist_table.net")
    result = _train(
        GENERATED / "seed002_mnist_train.py",
        ["--epochs", "1", "--out", "w.npz", "--device", "cpu"],
        tmp_path,
        torchrun=False,
    )
    _check_run(result, model, tmp_path / "w.npz", processes=1)


def test_input_feeding_two_layers_and_image_softmax(tmp_path: Path) -> None:
    model = netdsl.loads(RESIDUAL_INPUT)
    write(generate(model, "pytorch", source="res.net"), tmp_path)
    tensors = random_weights(model.graph)
    net = loaded(model, tmp_path / "res.py", tensors)
    x = sample(model)
    assert relative(run(net, x), backend(model, tensors).predict(x)) <= TOLERANCE


OPTIMIZERS = {  # optimizer setting -> (torch class, settings its param group must hold)
    "sgd(lr=0.1, momentum=0.9, nesterov=true)": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "rmsprop(alpha=0.9)": ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-8}),
    "radam(beta1=0.8)": ("RAdam", {"lr": 0.001, "betas": (0.8, 0.999), "eps": 1e-8}),
    "adagrad(0.05)": ("Adagrad", {"lr": 0.05, "eps": 1e-10}),
    "adadelta(rho=0.8)": ("Adadelta", {"lr": 1.0, "rho": 0.8}),
    "adam(beta1=0.8, beta2=0.99, weight_decay=0.01)": ("Adam", {"betas": (0.8, 0.99), "weight_decay": 0.01}),
    "adamax": ("Adamax", {"lr": 0.002, "betas": (0.9, 0.999)}),
    "nadam(lr=0.003)": ("NAdam", {"lr": 0.003, "betas": (0.9, 0.999)}),
    "adamw": ("AdamW", {"lr": 0.001, "weight_decay": 0.01, "betas": (0.9, 0.999)}),
    "adamw(learning_rate=0.002, weight_decay=0.05, betas=(0.8, 0.99))": (
        "AdamW",
        {"lr": 0.002, "weight_decay": 0.05, "betas": (0.8, 0.99)},
    ),
    "rmsprop(learning_rate=0.01, rho=0.8, epsilon=1e-7)": ("RMSprop", {"lr": 0.01, "alpha": 0.8, "eps": 1e-7}),
}


def _train_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, program: str):
    """The model, its generated train script as a module, and a fresh network (NAME in `program` is replaced)."""
    name = "net_" + hashlib.sha256(program.encode()).hexdigest()[:10]  # each program its own module name
    model = netdsl.loads(program.replace("NAME", name))
    write(generate(model, "pytorch", source=f"{name}.net"), tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    train = import_file(tmp_path / f"{name}_train.py", f"{name}_train")
    monkeypatch.delitem(sys.modules, name)  # imported by the train script; gone after the test
    return model, train, getattr(train, class_name(name))()


@pytest.mark.parametrize("setting", sorted(OPTIMIZERS))
def test_optimizer_settings_map_to_torch(setting: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program = f"network NAME {{ input(4) - fc(3) - softmax }}\ntrain {{\n  optimizer = {setting}\n  epochs = 3\n}}\n"
    _, train, net = _train_module(tmp_path, monkeypatch, program)
    optimizer = train.make_optimizer(net.parameters(), train.LR)
    kind, settings = OPTIMIZERS[setting]
    assert type(optimizer).__name__ == kind and train.EPOCHS == 3
    group = optimizer.param_groups[0]
    for key, value in settings.items():
        assert group[key] == pytest.approx(value), key


LOSSES = [
    ("mse", "fc(1)", False),
    ("binary_cross_entropy", "fc(1) - sigmoid", True),
    ("binary_cross_entropy", "fc(1) - tanh", False),
    ("binary_cross_entropy", "fc(3) - sigmoid", True),
    ("cross_entropy", "fc(3)", False),
    ("cross_entropy", "fc(3) - softmax", True),
    ("mse", "fc(3) - softmax", False),
]


@pytest.mark.parametrize(("loss", "head", "fused"), LOSSES)
def test_losses_match_netdsls(
    loss: str, head: str, fused: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netdsl.backends.numpy.objective import Objective

    program = f"network NAME {{ input(5) - fc(8) - tanh - {head} }}\ntrain {{\n  loss = {loss}\n}}\n"
    model, train, net = _train_module(tmp_path, monkeypatch, program)
    tensors = random_weights(model.graph)
    net.load_netdsl_state_dict(tensors)
    units = model.output_shape[0]
    x = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 2 if units == 1 else units, 6)
    loss_value, scores = train.loss_and_scores(net, torch.from_numpy(x), torch.from_numpy(y))
    assert ("logits=True" in inspect.getsource(train.loss_and_scores)) == fused
    if units == 1 or loss == "cross_entropy":  # what netdsl's own trainer takes: compare the loss itself
        objective = Objective(model.graph, loss)
        out = backend(model, tensors).forward(x, stop_before=objective.stop_before)
        assert loss_value.item() == pytest.approx(objective(out, y)[0], rel=1e-5)
        assert train.hits(scores, torch.from_numpy(y)) == round(objective.accuracy(out, y) * len(y))
    else:
        assert np.isfinite(loss_value.item())


SCHEDULES = [
    "schedule = cosine\n  warmup = 3\n  optimizer = sgd(lr=0.1, decay=0.01)",
    "schedule = step(every=7, gamma=0.5)\n  optimizer = adam(decay=1e-3)",
    "schedule = exponential(gamma=0.97)\n  warmup = 2",
    "schedule = onecycle(max_lr=0.3)\n  optimizer = rmsprop(decay=1e-4)",
    "schedule = onecycle",
    "warmup = 4",
    "optimizer = sgd(lr=0.05, decay=0.1)",
]


@pytest.mark.parametrize("settings", SCHEDULES)
def test_train_script_sets_netdsls_lr_at_every_step(
    settings: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The script's torch.optim.lr_scheduler (and Keras' decay) give netdsl's lr at each of 1,000 steps."""
    from torch.utils.data import DataLoader, TensorDataset

    from netdsl.train.schedules import learning_rate

    epochs, steps = 200, 5
    program = f"network NAME {{ input(4) - fc(3) - softmax }}\ntrain {{\n  {settings}\n  epochs = {epochs}\n}}\n"
    model, train, net = _train_module(tmp_path, monkeypatch, program)
    config = model.train_config
    optimizer = train.make_optimizer(net.parameters(), train.LR)
    scheduler = train.make_scheduler(optimizer, epochs) if hasattr(train, "make_scheduler") else None
    assert (scheduler is not None) == bool(config.schedule or config.warmup)
    assert hasattr(train, "DECAY") == bool(config.decay)
    seen: list[float] = []
    original = optimizer.step
    optimizer.step = lambda *a, **k: (seen.append(optimizer.param_groups[0]["lr"]), original(*a, **k))[1]
    data = TensorDataset(torch.zeros(steps, 4), torch.zeros(steps, dtype=torch.long))
    loader = DataLoader(data, batch_size=1)
    iteration = 0
    for epoch in range(1, epochs + 1):
        if config.decay:
            _, iteration = train.train_epoch(net, loader, optimizer, torch.device("cpu"), iteration)
        else:
            train.train_epoch(net, loader, optimizer, torch.device("cpu"))
        if scheduler is not None and epoch < epochs:
            scheduler.step()
    expected = [
        learning_rate(
            config.lr,
            epoch=i // steps,
            iteration=i,
            epochs=epochs,
            schedule=config.schedule,
            warmup=config.warmup,
            decay=config.decay,
        )
        for i in range(epochs * steps)
    ]
    assert len(seen) == 1000 and np.max(np.abs(np.array(seen) - expected)) < 1e-7


def test_train_script_augments_as_netdsl_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program = "network NAME { input(1, 6, 6) - flatten - fc(3) }\ntrain {\n  augment = (flip, crop(2), cutout(2))\n}\n"
    model, train, _ = _train_module(tmp_path, monkeypatch, program)
    augmenter = train.make_augmenter(0, 0)
    assert augmenter.transforms == model.train_config.augment
    x = np.random.default_rng(0).random((4, 1, 6, 6)).astype(np.float32)
    assert not np.array_equal(augmenter(x), x)


RANKED = {
    "seq": "network seq { input(3, 20) - conv(6, 5, stride=2, pad=same) - bn - prelu - maxpool(2, ceil=true) "
    "- avgpool(2, pad=same) - zeropad((1, 2)) - upsample(3, mode=bilinear) - upsample(2) "
    "- deconv(5, 3, stride=2, pad=1, output_pad=1) - groupnorm(5) - layernorm - scale "
    "- deconv(4, 4, stride=2, pad=same) - concat { conv(4, 3, pad=1, dilation=2) - relu - globalmaxpool "
    "| dwconv(2, multiplier=2) - globalavgpool } - output(5) }",
    "vol": "network vol { input(2, 6, 7, 8) - conv(4, 3x3x2, stride=(1, 2, 2), pad=same) - bn - relu "
    "- maxpool(2, ceil=true) - upsample(2x1x2, mode=bilinear) - upsample(2) - layernorm "
    "- deconv(3, 3, stride=2, pad=1, output_pad=1) - zeropad(1) - avgpool(3, stride=2, pad=same) "
    "- deconv(3, 2, stride=2, pad=same) - mul { identity | globalavgpool - conv(3, 1) - sigmoid } "
    "- globalmaxpool - output(4) }",
}


@pytest.mark.parametrize("name", sorted(RANKED))
def test_sequences_and_volumes_equal_backend(name: str, tmp_path: Path) -> None:
    """nn.Conv1d/Conv3d, the pools, BatchNorm1d/3d, interpolate (linear, trilinear), ConvTranspose1d/3d and the
    padded pool helpers of other ranks."""
    model = netdsl.loads(RANKED[name])
    write(generate(model, "pytorch", source=f"{name}.net"), tmp_path)
    text = (tmp_path / f"{name}.py").read_text()
    suffix = "1d" if name == "seq" else "3d"
    assert f"nn.Conv{suffix}(" in text and f"nn.ConvTranspose{suffix}(" in text
    assert "PaddedAvgPoolNd(" in text or "PaddedMaxPoolNd(" in text
    tensors = random_weights(model.graph)
    net = loaded(model, tmp_path / f"{name}.py", tensors)
    x = sample(model, seed=3)
    assert relative(run(net, x), backend(model, tensors).predict(x)) <= TOLERANCE


@pytest.mark.parametrize("as_image", [False, True])
def test_embedding_equals_backend_in_both_targets(as_image: bool, tmp_path: Path) -> None:
    """nn.Embedding transposed to channels-first (or as a 1 x L x D image) and the NumPy module's table lookup,
    on token ids; a Kim-style text CNN (filter widths 2 and 3, max over time, concat)."""
    head, wide = ("embedding(40, 6, as_image=true)", "x6") if as_image else ("embedding(40, 6)", "")
    model = netdsl.loads(
        f"network text {{ input(9, tokens=40) - {head} - concat {{ conv(3, 2{wide}) - relu - "
        f"globalmaxpool | conv(3, 3{wide}) - relu - globalmaxpool }} - output(3) }}"
    )
    write(generate(model, "pytorch", source="text.net"), tmp_path / "pytorch")
    write(generate(model, "numpy", source="text.net"), tmp_path / "numpy")
    assert "nn.Embedding(40, 6)" in (tmp_path / "pytorch" / "text.py").read_text()
    tensors = random_weights(model.graph)
    x = np.random.default_rng(0).integers(0, 40, (4, 9)).astype(np.float32)
    expected = backend(model, tensors).predict(x)
    assert relative(run(loaded(model, tmp_path / "pytorch" / "text.py", tensors), x), expected) <= TOLERANCE
    generated = import_file(tmp_path / "numpy" / "text.py", f"generated_numpy_text_{as_image}")
    assert relative(generated.forward(tensors, x), expected) <= TOLERANCE


BLOCKS = {
    "seqblocks": "block unit(c, k, s) { conv(c, k, stride=s, pad=same) - bn - relu - maxpool(2, ceil=true) }\n"
    "network seqblocks { input(4, 33) - unit(8, 3, 1) - unit(8, 5, 2) - unit(16, 3, 1) "
    "- globalmaxpool - output(2) }",
    "volblocks": "block unit(c, k) { conv(c, k, pad=same) - bn - relu - avgpool(2, ceil=true) "
    "- deconv(c, 2, stride=2) }\n"
    "network volblocks { input(2, 5, 7, 6) - unit(4, 3) - unit(4, 1) - unit(6, 3) - globalmaxpool "
    "- output(2) }",
}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_block_classes_of_sequences_and_volumes_equal_backend(name: str, tmp_path: Path) -> None:
    """A block used with different kernels and strides renders as shared classes whose pads and windows are
    expressions (values.Varying), at ranks 1 and 3, in both targets."""
    model = netdsl.loads(BLOCKS[name])
    write(generate(model, "pytorch", source=f"{name}.net"), tmp_path / "pytorch")
    write(generate(model, "numpy", source=f"{name}.net"), tmp_path / "numpy")
    assert "class Unit(nn.Module):" in (tmp_path / "pytorch" / f"{name}.py").read_text()
    tensors = random_weights(model.graph)
    x = sample(model, seed=5)
    expected = backend(model, tensors).predict(x)
    assert relative(run(loaded(model, tmp_path / "pytorch" / f"{name}.py", tensors), x), expected) <= TOLERANCE
    generated = import_file(tmp_path / "numpy" / f"{name}.py", f"generated_numpy_{name}")
    assert relative(generated.forward(tensors, x), expected) <= TOLERANCE
