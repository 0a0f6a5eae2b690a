"""The train section's optimizer arguments: values an update cannot run with are located errors."""

from __future__ import annotations

import pytest
from helpers import compile_text

from netdsl.train.declarations import OPTIMIZERS


def train_errors(optimizer: str) -> list:
    text = f"input(4) - fc(2)\ntrain {{\n optimizer = {optimizer}\n}}\n"
    return [d for d in compile_text(text).all_diagnostics if d.severity == "error"]


@pytest.mark.parametrize(
    "optimizer,message,column",
    [
        ("adam(beta1=1)", "adam: beta1 must be a finite number in [0, 1), received 1", 25),
        ("adam(beta2=1.0)", "adam: beta2 must be a finite number in [0, 1), received 1.0", 25),
        ("adam(lr=1e400)", "adam: lr must be a finite number > 0, received inf", 22),
        ("adam(1e400)", "adam: lr must be a finite number > 0, received inf", 19),
        ("adam(eps=0)", "adam: eps must be a finite number > 0, received 0", 23),
        ("rmsprop(alpha=2)", "rmsprop: alpha must be a finite number in [0, 1], received 2", 28),
        ("adadelta(rho=-0.5)", "adadelta: rho must be a finite number in [0, 1], received -0.5", 27),
        ("sgd(momentum=-1)", "sgd: momentum must be a finite number >= 0, received -1", 27),
        ("sgd(nesterov=true)", "sgd: nesterov=true needs momentum > 0", 27),
        ("sgd(nesterov=1)", "sgd: nesterov must be true or false, received 1", 27),
        ("adam(amsgrad=true)", "adam has no argument 'amsgrad'", 19),  # declared internal: not a program's to set
        ("radam(beta2=1)", "radam: beta2 must be a finite number in [0, 1), received 1", 26),
    ],
)
def test_arguments_an_update_cannot_run_with_are_located(optimizer: str, message: str, column: int) -> None:
    [error] = train_errors(optimizer)
    assert error.message == message
    assert (error.span.line, error.span.column) == (3, column)


def test_the_defaults_and_usual_values_are_accepted() -> None:
    for name, optimizer in OPTIMIZERS.items():
        assert optimizer.problems(optimizer.defaults()) == [], name
    assert train_errors("sgd(lr=0.1, momentum=0.9, nesterov=true)") == []
    assert train_errors("adam(0.01, beta1=0, beta2=0.5, eps=1e-7, weight_decay=0.01)") == []
    assert train_errors("adadelta(rho=1)") == []
