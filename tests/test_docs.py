"""The language reference stays in sync with the op registry and the train section's schema."""

from __future__ import annotations

import re

from helpers import ROOT

from netdsl import ops
from netdsl.train.declarations import LOSSES, OPTIMIZERS

REFERENCE = (ROOT / "docs" / "language.md").read_text()


def test_every_op_and_alias_is_documented() -> None:
    documented = set(re.findall(r"`([a-z0-9_]+)", REFERENCE))
    names = {name for op in ops.ALL for name in (op.name, *op.aliases)}
    missing = sorted(n for n in names if n not in documented)
    assert not missing, f"docs/language.md does not mention: {missing}"


def test_every_argument_is_documented() -> None:
    for op in ops.ALL:
        for arg in op.args:
            assert arg.name in REFERENCE, (op.name, arg.name)


def test_optimizers_and_losses_are_documented() -> None:
    for name, optimizer in OPTIMIZERS.items():
        assert f"`{name}`" in REFERENCE
        for arg in optimizer.defaults():
            assert arg in REFERENCE, (name, arg)
    for loss in LOSSES:
        assert loss in REFERENCE


def doc_value(value: float | bool) -> str:
    """A default as the optimizer table writes it: false, 0.01, 1e-8."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}".replace("e-0", "e-")


def test_the_optimizer_table_is_the_declarations() -> None:
    rows = re.findall(r"^\| `(\w+)` \| `([^`]*)` \| `(\w+)` \|$", REFERENCE, re.MULTILINE)
    expected = [
        (
            name,
            ", ".join(f"{key}={doc_value(value)}" for key, value in optimizer.defaults().items()),
            optimizer.torch_class,
        )
        for name, optimizer in OPTIMIZERS.items()
    ]
    assert rows == expected
    listed = re.search(r"optimizer = adam\(lr=0.001\) +# (.*)", REFERENCE).group(1)
    assert listed.split(", ") == list(OPTIMIZERS)


def test_train_section_v1_settings_are_documented() -> None:
    from netdsl.frontend.train_extras import EXTRA_SETTINGS
    from netdsl.train.declarations import (
        AUGMENTATION_ALIASES,
        AUGMENTATIONS,
        EARLY_STOP_ARGS,
        MONITOR_ALIASES,
        RECORDED,
        SCHEDULES,
    )

    words = [
        *EXTRA_SETTINGS,
        *SCHEDULES,
        *AUGMENTATIONS,
        *AUGMENTATION_ALIASES,
        *RECORDED,
        *MONITOR_ALIASES,
        *(arg.name for arg in EARLY_STOP_ARGS),
        "decay",
    ]
    words += [arg.name for schedule in SCHEDULES.values() for arg in schedule.args]
    words += [alias for schedule in SCHEDULES.values() for alias in schedule.arg_aliases]
    missing = [w for w in words if f"`{w}" not in REFERENCE]
    assert not missing, f"docs/language.md does not mention: {missing}"


def test_the_show_example_of_the_pictures_guide_runs(tmp_path) -> None:
    import shlex
    import subprocess
    import sys

    import netdsl

    guide = (ROOT / "docs" / "pictures.md").read_text()
    [command] = [line for line in guide.splitlines() if line.startswith("netdsl show examples/")]
    words = shlex.split(command)[1:]
    program = words[words.index("show") + 1]
    weights = words.index("--weights") + 1
    netdsl.load(ROOT / program).save_weights(tmp_path / "weights.npz")  # what the guide's train line writes
    words[weights] = str(tmp_path / "weights.npz")
    result = subprocess.run(
        [sys.executable, "-m", "netdsl", *words, "-o", str(tmp_path / "fig.png")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fig.png").stat().st_size > 0


def test_the_user_docs_name_their_own_contract_and_one_torch_install() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        assert "LANGUAGE.md" not in text, f"{page.name} refers to LANGUAGE.md, which is not in the repository"
        assert '".[torch]"' not in text, f"{page.name}: torch is installed one way, as the README says"
    assert "pip install torch==2.13.0 torchvision==0.28.0" in (ROOT / "README.md").read_text()
    assert "pip install torch==2.13.0 torchvision==0.28.0" in (ROOT / "docs" / "codegen.md").read_text()
