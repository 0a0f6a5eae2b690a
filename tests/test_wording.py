"""The commands' English: plurals, file sizes, help for every flag."""

from __future__ import annotations

import argparse

import pytest

from netdsl.cli import TOP_DEFAULT, build_parser
from netdsl.train.loss_watch import EXPLOSION, LossWatch
from netdsl.wording import file_size, plural


def test_plural() -> None:
    assert plural(1, "epoch") == "1 epoch" and plural(3, "epoch") == "3 epochs" and plural(0, "byte") == "0 bytes"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (512, "512 bytes"),
        (1, "1 byte"),
        (43_210, "43.2 KB"),
        (999_949, "999.9 KB"),
        (1_500_000, "1.5 MB"),
        (2_500_000_000, "2.50 GB"),
    ],
)
def test_file_size(size: int, text: str) -> None:
    assert file_size(size) == text


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_flag_has_a_description() -> None:
    missing = [
        (name, action.option_strings or action.dest)
        for name, sub in _subcommands().items()
        for action in sub._actions
        if not action.help and not isinstance(action, argparse._HelpAction)
    ]
    assert not missing


def test_top_has_one_default() -> None:
    commands = _subcommands()
    assert commands["predict"].get_default("top") == TOP_DEFAULT
    assert f"({TOP_DEFAULT};" in next(a.help for a in commands["run"]._actions if a.dest == "top")


def test_loss_watch_warns_once_before_nan() -> None:
    watch = LossWatch()
    assert watch.check(2.0, 1, 1, 0.1) is None and watch.check(2.0 * EXPLOSION * 0.9, 1, 2, 0.1) is None
    warning = watch.check(2.0 * EXPLOSION * 2, 1, 3, 0.1)
    assert warning.startswith("the loss exploded to 4e+06 at epoch 1, step 3 (the first was 2)")
    assert "--lr 0.01" in warning
    assert watch.check(1e30, 1, 4, 0.1) is None and watch.check(float("nan"), 1, 5, 0.1) is None
