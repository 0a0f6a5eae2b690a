"""Every example net pinned to its published numbers; the seeds' wrong numbers are called out."""

from __future__ import annotations

import pytest
from helpers import EXAMPLES, graph_of

import netdsl

# file -> (trainable params, MACs published by torchvision or None)
PUBLISHED = {
    "keras_mnist_cnn": (3_274_634, None),
    "seed003_cnn": (93_322, None),
    "seed004_keras_cnn": (1_387_594, None),
    "seed001_cnn": (137_660, None),
    "lenet5": (61_706, None),
    "seed002_mnist_table": (12_042, None),
    "seed002_cifar10": (1_250_858, None),
    "seed002_fashion_dnn": (109_770, None),
    "seed000_mlp": (25_450, None),
    "seed000_regression": (2, None),
    "alexnet": (50_844_008, None),
    "vgg16": (138_357_544, 15.47e9),
    "resnet18": (11_689_512, 1.814e9),
    "resnet50": (25_557_032, 4.089e9),
    "googlenet": (6_624_904, None),
    "densenet121": (7_978_856, None),
    "mobilenet_v2": (3_504_872, 300_774_272),
    "efficientnet_b0": (5_288_548, 385_814_752),
    "convnext_tiny": (28_589_128, 4_455_531_264),
    "unet": (31_037_698, 48_171_581_440),
    "dcgan_generator": (3_576_704, 104_628_224),
    "digits_autoencoder": (1_913, 30_720),
    "seed001_timeseries": (5_956, 276_608),
    "seed001_speech": (3_716, 34_328),
    "seed001_text": (4_228, None),
    "seed001_go": (3_882_433, 1_400_726_208),  # AlphaGo's policy net, with one final bias instead of 361
    "seed001_video": (70_901, 53_084_480),
}
# the section-9 examples exactly: (trainable, non-trainable, MACs), computed with torch and torchvision
EXACT = {
    "mobilenet_v2": (3_504_872, 34_112, 300_774_272),
    "efficientnet_b0": (5_288_548, 42_016, 385_814_752),
    "convnext_tiny": (28_589_128, 0, 4_455_531_264),
    "unet": (31_037_698, 11_776, 48_171_581_440),
    "dcgan_generator": (3_576_704, 1_920, 104_628_224),
}


def test_every_example_is_pinned() -> None:
    assert {p.stem for p in EXAMPLES.glob("*.net")} == set(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_params_and_macs(name: str) -> None:
    model = netdsl.load(EXAMPLES / f"{name}.net")
    params, macs = PUBLISHED[name]
    assert model.totals.trainable == params
    if macs:
        assert abs(model.totals.macs - macs) / macs < 0.01


@pytest.mark.parametrize("name", sorted(EXACT))
def test_section9_examples_give_the_torch_figures_exactly(name: str) -> None:
    totals = netdsl.load(EXAMPLES / f"{name}.net").totals
    assert (totals.trainable, totals.non_trainable, totals.macs) == EXACT[name]


def test_check_json_gives_the_figures(tmp_path) -> None:
    """`netdsl check --json`, the command a user runs, prints the same totals."""
    import json
    import subprocess
    import sys

    for name, (trainable, non_trainable, macs) in EXACT.items():
        out = subprocess.run(
            [sys.executable, "-m", "netdsl", "check", "--json", str(EXAMPLES / f"{name}.net")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        totals = json.loads(out)["totals"]
        assert (totals["trainable"], totals["non_trainable"], totals["macs"]) == (trainable, non_trainable, macs)


def test_seed003_conv_part_is_55744_as_keras_prints() -> None:
    model = netdsl.load(EXAMPLES / "seed003_cnn.net")
    per_layer = [n.param_count for n in model.layers if n.op == "conv"]
    assert per_layer == [320, 18_496, 36_928] and sum(per_layer) == 55_744
    assert model.graph["conv_3"].shape == (64, 3, 3)
    assert [n.param_count for n in model.layers if n.op == "fc"] == [36_928, 650]


def test_seed002_table_second_conv_is_3216_not_400_plus_16() -> None:
    model = netdsl.load(EXAMPLES / "seed002_mnist_table.net")
    conv2 = model.graph["conv_2"]
    assert conv2.shape == (16, 8, 8)
    assert conv2.param_count == 16 * 8 * 5 * 5 + 16 == 3_216 != 400 + 16


def test_alexnet_first_conv_is_54_not_the_seeds_55_and_check_warns() -> None:
    model = netdsl.load(EXAMPLES / "alexnet.net")
    assert model.graph["conv_1"].shape == (96, 54, 54)
    warning = next(w for w in model.warnings if "conv_1" in w.message)
    assert "never read" in warning.message and "227x227" in warning.hint


def test_language_one_liner_uses_32_filters_twice() -> None:
    """LANGUAGE.md's one-line program repeats conv(32): 1,643,370 params, not the seed net's 3,274,634."""
    graph = graph_of("INPUT(1, 28, 28) - [CONV(32, 5, pad=same) - RELU - POOL(2)]*2 - FC(1024) - RELU - OUTPUT(10)")
    assert sum(n.param_count for n in graph) == 1_643_370


def test_seed001_shapes_match_the_seed_text() -> None:
    graph = netdsl.load(EXAMPLES / "seed001_cnn.net").graph
    assert [graph[n].shape for n in ("conv_1", "maxpool_1", "conv_2", "maxpool_2")] == [
        (25, 26, 26),
        (25, 13, 13),
        (50, 11, 11),
        (50, 5, 5),
    ]
    assert graph["conv_2"].params["weight"] == (50, 25, 3, 3)


def test_keras_mnist_shapes_as_commented_in_seed001() -> None:
    graph = netdsl.load(EXAMPLES / "keras_mnist_cnn.net").graph
    assert [graph[n].shape for n in ("conv_1", "maxpool_1", "conv_2", "maxpool_2", "flatten_1")] == [
        (32, 28, 28),
        (32, 14, 14),
        (64, 14, 14),
        (64, 7, 7),
        (3136,),
    ]


def test_googlenet_ceil_pools() -> None:
    graph = netdsl.load(EXAMPLES / "googlenet.net").graph
    assert [n.shape[1] for n in graph if n.op == "maxpool" and "inception" not in n.name] == [56, 28, 14, 7]


def test_seed002_cifar10_recipe_trains_with_decay_and_augmentation() -> None:
    """Section 18.6.3's recipe: rmsprop(lr=0.0001, decay=1e-6), shifts and flips, 25 epochs; a short run on digits."""
    from netdsl.data import load_dataset
    from netdsl.train.augment import Augmenter
    from netdsl.train.config import Transform

    model = netdsl.load(EXAMPLES / "seed002_cifar10.net")
    config = model.train_config
    assert (config.decay, config.epochs, config.batch, config.optimizer) == (1e-6, 25, 32, "rmsprop")
    assert config.augment == (Transform("shift", (0.1, 0.1)), Transform("flip"))
    data = load_dataset("digits", model.input_shape)
    history = model.fit(
        data.x_train[:96], data.y_train[:96], epochs=2, validation_data=(data.x_val, data.y_val), verbose=0
    )
    steps = 3  # 96 samples, batch 32
    assert history.history["lr"] == pytest.approx([1e-4 / (1 + 1e-6 * (steps * e + steps - 1)) for e in (0, 1)])
    assert history.history["loss"][1] < history.history["loss"][0] < 2.4  # from about ln 10
    assert model._trainer(0).extras.augmenter is not None and isinstance(model._trainer(0).extras.augmenter, Augmenter)


@pytest.mark.parametrize("name, epochs, accuracy", [("seed002_fashion_dnn", 3, 0.9), ("seed000_mlp", 4, 0.85)])
def test_seed_mlps_train_on_digits(name: str, epochs: int, accuracy: float) -> None:
    from netdsl.data import load_dataset

    model = netdsl.load(EXAMPLES / f"{name}.net")
    data = load_dataset("digits", model.input_shape)
    assert data.notices == ["digits: resized 8x8 -> 28x28 and flattened to fit input(784)"]
    history = model.fit(data.x_train, data.y_train, epochs=epochs, validation_data=(data.x_val, data.y_val), verbose=0)
    assert history.history["val_accuracy"][-1] > accuracy


def test_seed004_keras_cnn_layers_as_keras_prints() -> None:
    model = netdsl.load(EXAMPLES / "seed004_keras_cnn.net")
    assert model.graph["conv_1"].shape == (32, 26, 26) and model.graph["maxpool_1"].shape == (32, 13, 13)
    assert [n.param_count for n in model.layers if n.param_count] == [320, 1_384_704, 2_570]


@pytest.mark.parametrize(
    "name, accuracy", [("seed001_timeseries", 0.95), ("seed001_speech", 0.9), ("seed001_text", 0.9)]
)
def test_seed001_sequence_examples_train_through_netdsl_train(name: str, accuracy: float, tmp_path, capsys) -> None:
    """`netdsl train` with each example's own train section (its built-in generated data set)."""
    import csv

    from netdsl import cli

    assert cli.main(["train", str(EXAMPLES / f"{name}.net"), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    with open(tmp_path / "run" / "history.csv", newline="") as handle:
        last = list(csv.DictReader(handle))[-1]
    assert float(last["val_accuracy"]) > accuracy


def test_seed001_speech_filters_span_the_frequency_axis() -> None:
    graph = netdsl.load(EXAMPLES / "seed001_speech.net").graph
    assert graph["input_1"].shape == (1, 17, 13) and graph["conv_1"].attrs["kernel"] == (17, 3)
    assert graph["conv_1"].shape == (24, 1, 11)  # one row: the filters slide over time only


def test_seed001_text_reads_the_sentences_vocabulary() -> None:
    from netdsl.data import synthetic

    model = netdsl.load(EXAMPLES / "seed001_text.net")
    assert model.tokens == len(synthetic.vocabulary()) and model.input_shape == (synthetic.SENTENCE_LENGTH,)
    assert [model.graph[n].shape for n in ("embedding_1", "concat_1")] == [(1, 16, 16), (48, 1, 1)]


def test_seed001_go_keeps_the_board() -> None:
    graph = netdsl.load(EXAMPLES / "seed001_go.net").graph
    assert not [n for n in graph if "pool" in n.op]
    assert all(n.shape[1:] == (19, 19) for n in graph if n.op == "conv") and graph.output.shape == (361,)
