"""The train section: Keras and PyTorch spellings as documented aliases, adamw."""

from __future__ import annotations

import pytest
from helpers import compile_text, only_error

PROGRAM = "input(4) - fc(3)\ntrain {{\n  {setting}\n}}\n"


def config(setting: str):
    compilation = compile_text(PROGRAM.format(setting=setting))
    assert compilation.ok, [d.message for d in compilation.all_diagnostics]
    return compilation.networks[0].train


@pytest.mark.parametrize(
    ("written", "loss"),
    [
        ("categorical_crossentropy", "cross_entropy"),
        ("sparse_categorical_crossentropy", "cross_entropy"),
        ("CrossEntropyLoss", "cross_entropy"),
        ("binary_crossentropy", "binary_cross_entropy"),
        ("BCELoss", "binary_cross_entropy"),
        ("mean_squared_error", "mse"),
        ("MSELoss", "mse"),
        ("mse", "mse"),
    ],
)
def test_loss_aliases(written: str, loss: str) -> None:
    assert config(f"loss = {written}").loss == loss


@pytest.mark.parametrize(
    ("written", "optimizer", "args"),
    [
        ("adam(learning_rate=0.01)", "adam", {"lr": 0.01}),
        ("adam(beta_1=0.8, beta_2=0.99, epsilon=1e-7)", "adam", {"beta1": 0.8, "beta2": 0.99, "eps": 1e-7}),
        ("adam(betas=(0.8, 0.99))", "adam", {"beta1": 0.8, "beta2": 0.99}),
        ("rmsprop(learning_rate=0.01, rho=0.9)", "rmsprop", {"lr": 0.01, "alpha": 0.9}),
        ("adadelta(rho=0.8)", "adadelta", {"rho": 0.8}),
        (
            "sgd(learning_rate=0.1, momentum=0.9, weight_decay=1e-4)",
            "sgd",
            {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4},
        ),
        ("adamw(learning_rate=0.002, weight_decay=0.05)", "adamw", {"lr": 0.002, "weight_decay": 0.05}),
    ],
)
def test_optimizer_argument_aliases(written: str, optimizer: str, args: dict) -> None:
    train = config(f"optimizer = {written}")
    assert train.optimizer == optimizer and train.optimizer_args == args


def test_adamw_defaults_are_torchs() -> None:
    assert config("optimizer = adamw").optimizer_kwargs() == {
        "lr": 0.001,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.01,
    }


def test_an_argument_given_under_two_names_is_an_error() -> None:
    error = only_error(PROGRAM.format(setting="optimizer = adam(lr=0.1, learning_rate=0.01)"))
    assert error.message == "adam got 'lr' twice (as 'learning_rate' too)"


def test_betas_needs_two_numbers() -> None:
    assert "betas takes two numbers" in only_error(PROGRAM.format(setting="optimizer = adam(betas=0.9)")).message


def test_an_unknown_loss_still_suggests_the_closest() -> None:
    error = only_error(PROGRAM.format(setting="loss = cross_entropi"))
    assert error.message.startswith("loss must be one of") and "cross_entropy" in (error.hint or "")


@pytest.mark.parametrize(
    ("setting", "meant"),
    [("optimiser = adam(lr=0.001)", "optimizer"), ("early_stopping = val_loss(patience=3)", "early_stop")],
)
def test_a_misspelt_setting_is_named_not_its_value(setting: str, meant: str) -> None:
    error = only_error(f"input(4) - fc(2)\ntrain {{\n  {setting}\n}}\n")
    key = setting.split()[0]
    assert error.message == f"unknown train setting '{key}'" and error.hint == f"did you mean '{meant}'?"
