"""The installed package holds every subpackage and its data files."""

from __future__ import annotations

import tomllib
from pathlib import Path

from helpers import ROOT


def test_every_subpackage_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "netdsl").rglob("__init__.py")}
    assert found <= listed, found - listed


def test_grammar_ships_as_package_data() -> None:
    from importlib.resources import files

    assert "start:" in files("netdsl.grammars").joinpath("netdsl.lark").read_text()


def test_builtin_data_ships() -> None:
    import netdsl.data

    assert (Path(netdsl.data.__file__).parent / "digits.npz").is_file()
