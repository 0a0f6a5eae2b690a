"""Issue 21: a semantic fuzzer. Valid example programs, mutated the way a user edits them (numbers, op names,
arguments, deleted and duplicated lines), go through everything a checked program reaches: load, codegen of
both targets (which must parse as Python), the SVG diagram and one forward pass. Each case ends in success
or in a diagnostic, a one-line memory refusal or a codegen refusal; never in another exception.

Derandomized: the same cases every run. The default run is 600 cases (about 45 s on two busy cores: codegen
of two targets is most of it); NETDSL_FUZZ_CASES=5000 runs the issue's 5,000 (about 6 minutes).
"""

from __future__ import annotations

import ast
import os
import re

import numpy as np
from helpers import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netdsl
from netdsl.codegen.render import CodegenError, generate
from netdsl.diagnostics import NetdslError
from netdsl.draw.layout import layout
from netdsl.draw.svg import to_svg
from netdsl.memory import NotEnoughMemory
from netdsl.ops import REGISTRY

SEMANTIC_FUZZ_CASES = int(os.environ.get("NETDSL_FUZZ_CASES", "600"))
# small programs: a forward pass of each takes milliseconds, so the cases are many
SEEDS = [
    "lenet5",
    "seed000_mlp",
    "seed001_cnn",
    "seed002_cifar10",
    "seed002_fashion_dnn",
    "seed002_mnist_table",
    "seed003_cnn",
    "seed004_keras_cnn",
    "keras_mnist_cnn",
    "digits_autoencoder",
    "dcgan_generator",
]
SOURCES = [(EXAMPLES / f"{name}.net").read_text() for name in SEEDS]
OP_NAMES = sorted(REGISTRY)
NUMBERS = ["0", "1", "2", "3", "4", "5", "7", "8", "16", "33", "64", "0.5", "1000", "65535", "2147483647"]
ARGUMENTS = [
    "stride=2",
    "pad=same",
    "pad=1",
    "dilation=2",
    "groups=2",
    "bias=false",
    "activation=relu",
    "ceil=true",
    "rate=0.5",
    "layout=hwc",
    "x=1",
    "3x3",
    "(2, 3)",
    "-1",
]
# the forward pass is skipped beyond these (the case still runs load, codegen and draw): time, not safety
MAX_FORWARD_MACS = 20_000_000
MAX_WINDOW_AREA = 400
NUMBER = re.compile(r"(?<![A-Za-z_])\d+(?:\.\d+)?")
NAME = re.compile(r"(?<![A-Za-z_0-9])([a-z][a-z0-9_]*)(?=\()")


def _replace_nth(pattern: re.Pattern, text: str, n: int, new: str) -> str:
    matches = list(pattern.finditer(text))
    if not matches:
        return text
    match = matches[n % len(matches)]
    return text[: match.start()] + new + text[match.end() :]


@st.composite
def edited(draw) -> str:
    """An example program after one to three edits a user might make."""
    text = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["number", "op", "argument", "delete line", "duplicate line"]))
        n = draw(st.integers(0, 200))
        if kind == "number":
            text = _replace_nth(NUMBER, text, n, draw(st.sampled_from(NUMBERS)))
        elif kind == "op":
            text = _replace_nth(NAME, text, n, draw(st.sampled_from(OP_NAMES)))
        elif kind == "argument":
            calls = [m.end() - 1 for m in re.finditer(r"\w\([^()]*\)", text)]
            if calls:
                at = calls[n % len(calls)]
                text = text[:at] + ", " + draw(st.sampled_from(ARGUMENTS)) + text[at:]
        else:
            lines = text.split("\n")
            i = n % len(lines)
            lines[i : i + 1] = [] if kind == "delete line" else [lines[i], lines[i]]
            text = "\n".join(lines)
    return text


def _forward_is_cheap(model) -> bool:
    areas = [int(np.prod(n.attrs["kernel"])) for n in model.graph if isinstance(n.attrs.get("kernel"), tuple)]
    return (
        model.totals.macs <= MAX_FORWARD_MACS
        and max(areas, default=1) <= MAX_WINDOW_AREA
        and model.totals.trainable <= 5_000_000
    )


def run_everything(text: str) -> str:
    """What became of a program: 'refused' (diagnostics), or each stage it passed."""
    try:
        model = netdsl.loads(text, file="mutant.net")
    except NetdslError as err:
        assert err.diagnostics and all(d.span is None or d.span.file == "mutant.net" for d in err.diagnostics)
        return "refused"
    for target in ("numpy", "pytorch"):
        try:
            files = generate(model, target, source="mutant.net")
        except CodegenError as err:
            assert "\n" not in str(err)
            continue
        for name, code in files.items():
            ast.parse(code, filename=name)
    assert to_svg(layout(model.graph)).startswith("<svg")
    if not _forward_is_cheap(model):
        return "drawn"
    x = np.zeros((1,) + tuple(model.input_shape), np.float32)
    if model.input_layout == "hwc":
        x = np.zeros((1,) + tuple(model.input_shape[1:]) + (model.input_shape[0],), np.float32)
    try:
        y = model.predict(x)
    except NotEnoughMemory as err:
        assert "\n" not in str(err)
        return "too big"
    assert y.shape == (1,) + tuple(model.output_shape)
    return "ran"


def test_edited_programs_run_or_are_refused() -> None:
    """Every case ends well, and the edits are not all refusals: many compile, generate, draw and run."""
    outcomes: dict[str, int] = {}

    @settings(
        max_examples=SEMANTIC_FUZZ_CASES,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(edited())
    def case(text: str) -> None:
        outcome = run_everything(text)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    case()
    cases = sum(outcomes.values())
    assert cases >= 0.9 * SEMANTIC_FUZZ_CASES, outcomes  # hypothesis may skip a few repeats
    assert outcomes.get("ran", 0) >= cases // 10 and outcomes.get("refused", 0) >= cases // 10, outcomes
