"""The train section's v1 settings: what they parse to, their aliases, and located errors for bad ones."""

from __future__ import annotations

import pytest
from helpers import compile_text, only_error

from netdsl.train.config import EarlyStop, Schedule, Transform

NET = "input(3, 32, 32) - conv(4, 3) - relu - flatten - fc(10) - softmax\n"


def config(*settings: str):
    compilation = compile_text(NET + "train {\n" + "".join(f"    {s}\n" for s in settings) + "}\n")
    assert compilation.ok, [d.message for d in compilation.all_diagnostics]
    return compilation.networks[0].train


def error(*settings: str):
    return only_error(NET + "train {\n" + "".join(f"    {s}\n" for s in settings) + "}\n")


def test_the_contracts_example_section() -> None:
    c = config(
        "data = cifar10",
        "optimizer = rmsprop(lr=0.0001, decay=1e-6)",
        "schedule = cosine",
        "warmup = 2",
        "augment = (flip, shift(0.1), crop(4), rotate(15), cutout(8))",
        "early_stop = val_loss(patience=5, min_delta=0)",
        'classes = "classes.txt"',
        "epochs = 25",
    )
    assert c.decay == 1e-6 and c.lr == 0.0001 and "decay" not in c.optimizer_kwargs()
    assert c.schedule == Schedule("cosine") and c.warmup == 2 and c.epochs == 25
    assert c.augment == (
        Transform("flip"),
        Transform("shift", (0.1, 0.1)),
        Transform("crop", (4,)),
        Transform("rotate", (15.0,)),
        Transform("cutout", (8,)),
    )
    assert c.early_stop == EarlyStop("val_loss", 5, 0.0) and c.classes == "classes.txt"


def test_defaults_are_off() -> None:
    c = config("epochs = 3")
    assert (c.schedule, c.warmup, c.augment, c.early_stop, c.classes, c.decay) == (None, 0, (), None, None, 0.0)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("step(every=10, gamma=0.1)", Schedule("step", (("every", 10), ("gamma", 0.1)))),
        ("step(10)", Schedule("step", (("every", 10), ("gamma", 0.1)))),
        ("step(step_size=3, gamma=0.5)", Schedule("step", (("every", 3), ("gamma", 0.5)))),
        ("exponential(gamma=0.95)", Schedule("exponential", (("gamma", 0.95),))),
        (
            "onecycle(max_lr=0.1)",
            Schedule(
                "onecycle", (("max_lr", 0.1), ("pct_start", 0.3), ("div_factor", 25.0), ("final_div_factor", 1e4))
            ),
        ),
    ],
)
def test_schedules(text: str, expected: Schedule) -> None:
    assert config(f"schedule = {text}").schedule == expected


def test_onecycle_max_lr_defaults_to_the_optimizers_lr() -> None:
    assert config("schedule = onecycle").schedule.get("max_lr") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("flip", (Transform("flip"),)),
        ("shift(3)", (Transform("shift", (3, 3)),)),
        (
            "(horizontal_flip, width_shift_range(0.1), height_shift_range(0.2), rotation_range(20))",
            (
                Transform("flip"),
                Transform("shift", (0, 0.1)),
                Transform("shift", (0.2, 0)),
                Transform("rotate", (20.0,)),
            ),
        ),
        ("random_crop(4)", (Transform("crop", (4,)),)),
    ],
)
def test_augmentations_and_keras_aliases(text: str, expected: tuple) -> None:
    assert config(f"augment = {text}").augment == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("val_accuracy", EarlyStop("val_accuracy", 5, 0.0)),
        ("val_acc(patience=2)", EarlyStop("val_accuracy", 2, 0.0)),
        ("loss(3, 0.01)", EarlyStop("loss", 3, 0.01)),
    ],
)
def test_early_stop(text: str, expected: EarlyStop) -> None:
    stop = config(f"early_stop = {text}").early_stop
    assert stop == expected and stop.mode == ("max" if "acc" in text else "min")


def test_class_names_inline() -> None:
    assert config('classes = ("cat", "dog")').classes == ("cat", "dog")


# (settings, message fragment, hint fragment or None, line, column)
BAD = [
    (["augment = (flip, flipp)"], "unknown augmentation 'flipp'", "did you mean 'flip'?", 3, 22),
    (["augment = horizontal_flipp"], "unknown augmentation", "did you mean 'horizontal_flip'?", 3, 15),
    (["augment = shift(1.5)"], "shift(1.5): a fraction of the image must be below 1.0", "shift(0.15)", 3, 21),
    (["augment = shift(-2)"], "shift must be a positive number", None, 3, 21),
    (["augment = crop(2.5)"], "padding must be a whole number", None, 3, 20),
    (["augment = rotate(200)"], "degrees must be in (0, 180]", None, 3, 22),
    (["augment = cutout(0)"], "cutout: needs at least 1 pixel, received 0", None, 3, 22),
    (["augment = (flip, random_crop(0))"], "random_crop: needs at least 1 pixel", None, 3, 34),
    (["schedule = onecycle(pct_start=1)"], "onecycle: pct_start must be between 0 and 1, received 1.0", None, 3, 35),
    (["early_stop = val_loss(min_delta=-1)"], "patience and min_delta must be >= 0", None, 3, 37),
    (["augment = flip(2)"], "takes no arguments", None, 3, 20),
    (["augment = 3"], "must be a name or a call", None, 3, 15),
    (["schedule = step(every=2.5)"], "step: every must be a whole number, received 2.5", None, 3, 27),
    (["schedule = step(every=cosine)"], "every must be a number, received 'cosine'", None, 3, 27),
    (["schedule = exponential(gamma=true)"], "gamma must be a number", None, 3, 34),
    (["schedule = exponential"], "exponential needs gamma", None, 3, 16),
    (["schedule = step(gamma=0.1)"], "step needs every", None, 3, 16),
    (["schedule = step(10, every=3)"], "every is given twice", None, 3, 25),
    (["schedule = cosin"], "unknown schedule 'cosin'", "did you mean 'cosine'?", 3, 16),
    (["schedule = step(evry=3)"], "step has no argument 'evry'", "did you mean 'every'?", 3, 21),
    (["schedule = exponential(gamma=1.5)"], "gamma must be in (0, 1]", None, 3, 34),
    (["early_stop = val_auc"], "'val_auc' is not a recorded metric", "did you mean 'val_accuracy'?", 3, 18),
    (["early_stop = precision"], "'precision' is not a recorded metric", "history.csv records", 3, 18),
    (["early_stop = val_los"], "not a recorded metric", "did you mean 'val_loss'?", 3, 18),
    (["early_stop = val_loss(patience=1.5)"], "patience must be a whole number", None, 3, 36),
    (["early_stop = val_loss(wait=3)"], "val_loss has no argument 'wait'", None, 3, 27),
    (["val_split = 0", "early_stop = val_loss"], "val_split = 0 records no validation", "monitor loss", 4, 18),
    (["warmup = 1.5"], "warmup must be a whole number of epochs", None, 3, 14),
    (["epochs = 3", "warmup = 3"], "warmup (3 epochs) must be shorter than epochs (3)", None, 4, 14),
    (["schedule = onecycle", "warmup = 1"], "onecycle has its own warm-up", None, 4, 14),
    (["optimizer = adam(decay=-1)"], "decay must be a finite number >= 0", None, 3, 28),
    (["classes = 3"], "classes must be a quoted file name", None, 3, 15),
    (['classes = ("a", "a")'], "a name appears twice", None, 3, 15),
]


@pytest.mark.parametrize("settings, message, hint, line, column", BAD)
def test_bad_settings_are_located(settings: list[str], message: str, hint: str | None, line: int, column: int) -> None:
    diagnostic = error(*settings)
    assert message in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (line, column)
    if hint:
        assert hint in (diagnostic.hint or "")


def test_early_stop_on_validation_with_a_test_split_needs_no_val_split() -> None:
    assert config("data = mnist", "val_split = 0", "early_stop = val_accuracy").early_stop.monitor == "val_accuracy"


def test_check_stays_light_with_the_new_settings() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from netdsl.compiler import compile_source; "
        "compile_source(open(sys.argv[1]).read(), 'x.net'); "
        "print(sorted(m for m in ('numpy', 'jinja2', 'matplotlib', 'onnx') if m in sys.modules))"
    )
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".net", delete=False) as handle:
        handle.write(NET + "train {\n schedule = cosine\n augment = (flip, crop(4))\n early_stop = val_loss\n}\n")
    out = subprocess.run([sys.executable, "-c", code, handle.name], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
