"""Completion decides from the text before the cursor, which need not parse."""

from __future__ import annotations

from netdsl.lsp.completion import completions, declared, tolerant_tokens

BLOCKS = "block res(c, stride=2) {\n    conv(c, 3, stride=stride) - relu\n}\n\n"


def _labels(text: str) -> set[str]:
    return {item.label for item in completions(text, len(text))}


def test_layer_positions_offer_ops_aliases_and_blocks() -> None:
    for before in (
        "network n {\n    input(1, 8, 8)\n    ",
        "network n {\n    input(1, 8, 8) - ",
        "network n {\n    add {\n        relu\n      | ",
        "network n {\n    c1: ",
        "network n {\n    [relu - ",
    ):
        labels = _labels(BLOCKS + before)
        assert {"conv", "conv2d", "linear", "res", "identity"} <= labels, before
        assert "network" not in labels
    assert {"network", "block", "train", "conv"} <= _labels(BLOCKS)


def test_a_word_being_typed_does_not_change_the_context() -> None:
    assert "conv" in _labels("network n {\n    input(1, 8, 8) - co")
    assert {"stride", "pad"} <= _labels("network n {\n    conv(8, 3, st")


def test_arguments_of_ops_blocks_and_optimizers_skip_those_given() -> None:
    labels = _labels("network n {\n    conv(8, 3, pad=1, ")
    assert {"stride", "dilation", "groups", "bias", "activation"} <= labels and "pad" not in labels
    assert _labels(BLOCKS + "network n {\n    res(") == {"c", "stride"}
    assert {"lr", "momentum", "nesterov"} <= _labels("train {\n    optimizer = sgd(")
    assert _labels("network n {\n    conv(8, ") >= {"kernel", "stride"}
    assert _labels("network n {\n    conv(8, 3, pad=") == set()  # a value, not a name


def test_train_sections_offer_settings_then_their_values() -> None:
    assert {"data", "epochs", "optimizer", "loss"} <= _labels("train {\n    ")
    assert _labels("train {\n    data = ") >= {"digits", "mnist", "cifar10"}
    assert _labels("train {\n    loss = ") == {"cross_entropy", "mse", "binary_cross_entropy", "mae", "huber"}
    assert _labels("train {\n    target = ") == {"labels", "values", "input"}
    assert _labels("train {\n    metrics = ") == {"accuracy", "mae", "rmse", "none"}
    assert {"adam", "sgd"} <= _labels("train {\n    optimizer = ")
    assert _labels("network lenet {\n    input(4)\n}\ntrain ") == {"lenet"}


def test_nothing_inside_comments_strings_or_a_block_header() -> None:
    assert _labels("network n {\n    input(1, 8, 8)  # con") == set()
    assert _labels('train {\n    data = "path/con') == set()
    assert _labels("block b(c, ") == set()


def test_tokens_and_declarations_survive_characters_that_do_not_lex() -> None:
    tokens = tolerant_tokens("block b(c, k=3) {\n    conv(c, k) $ relu ' \n")
    assert [str(t) for t in tokens if t.type == "NAME"] == ["b", "c", "k", "conv", "c", "k", "relu"]
    assert declared(tolerant_tokens(BLOCKS + "network n { res(")).blocks == {"res": [("c", None), ("stride", "2")]}


def test_arguments_given_by_position_are_not_offered_again() -> None:
    labels = _labels("network n {\n    conv(64, 3, ")
    assert {"stride", "pad", "dilation", "groups", "bias"} <= labels and not {"filters", "kernel"} & labels
    assert {"filters", "kernel"} <= _labels("network n {\n    conv(")
    after_one = _labels("network n {\n    conv(64, ")
    assert "filters" not in after_one and "kernel" in after_one
    assert "kernel" in _labels("network n {\n    conv(max(2, 3), ")  # one positional argument, with a call in it
    assert "filters" in _labels("network n {\n    conv(kernel=3, ")  # given by name: the others stay
    assert _labels(BLOCKS + "network n {\n    res(64, ") == {"stride"}
    assert "layout" in _labels("network n {\n    input(1, 28, ")  # input's positional arguments are its dimensions


def test_train_values_come_from_the_training_declarations() -> None:
    from netdsl.train.declarations import AUGMENTATIONS, OPTIMIZERS, SCHEDULES

    text = "train {\n    optimizer = "
    items = {item.label: item for item in completions(text, len(text))}
    assert set(items) == set(OPTIMIZERS)
    assert "torch.optim.RAdam" in items["radam"].documentation
    assert items["radam"].detail == "radam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.0)"
    assert _labels("train {\n    schedule = ") == set(SCHEDULES)
    assert _labels("train {\n    augment = ") == set(AUGMENTATIONS)
    assert _labels("train {\n    optimizer = radam(") == {"lr", "beta1", "beta2", "eps", "weight_decay"}


def test_schedule_and_augment_hovers_come_from_the_declarations() -> None:
    from netdsl.lsp.catalog import value_docs
    from netdsl.train.declarations import AUGMENTATIONS, SCHEDULES

    schedules = value_docs("schedule")
    assert len(schedules) == len(SCHEDULES)
    assert "- `step(every, gamma)`: lr * gamma ** (epoch // every) (torch.optim.lr_scheduler.StepLR)" in schedules
    assert [line.split("`")[1] for line in value_docs("augment")] == [a.example for a in AUGMENTATIONS.values()]
    assert value_docs("epochs") == []
