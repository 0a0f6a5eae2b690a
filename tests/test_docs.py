"""The language reference stays in sync with the op registry and the train section's schema."""

from __future__ import annotations

import re

from helpers import ROOT

from netdsl import ops
from netdsl.frontend.train_spec import LOSSES, OPTIMIZERS

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
    for name, schema in OPTIMIZERS.items():
        assert f"`{name}`" in REFERENCE
        for arg in schema:
            assert arg in REFERENCE, (name, arg)
    for loss in LOSSES:
        assert loss in REFERENCE


def test_train_section_v1_settings_are_documented() -> None:
    from netdsl.frontend.train_extras import (
        EXTRA_SETTINGS,
        MONITOR_ALIASES,
        RECORDED,
        SCHEDULE_ARG_ALIASES,
        SCHEDULES,
        TRANSFORM_ALIASES,
        TRANSFORMS,
    )

    words = [*EXTRA_SETTINGS, *SCHEDULES, *TRANSFORMS, *TRANSFORM_ALIASES, *RECORDED, *MONITOR_ALIASES,
             *SCHEDULE_ARG_ALIASES, "decay"]
    words += [arg for schema in SCHEDULES.values() for arg in schema]
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
    result = subprocess.run([sys.executable, "-m", "netdsl", *words, "-o", str(tmp_path / "fig.png")], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fig.png").stat().st_size > 0


def test_the_user_docs_name_their_own_contract_and_one_torch_install() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        assert "LANGUAGE.md" not in text, f"{page.name} refers to LANGUAGE.md, which is not in the repository"
        assert '".[torch]"' not in text, f"{page.name}: torch is installed one way, as the README says"
    assert "pip install torch==2.13.0 torchvision==0.28.0" in (ROOT / "README.md").read_text()
    assert "pip install torch==2.13.0 torchvision==0.28.0" in (ROOT / "docs" / "codegen.md").read_text()
