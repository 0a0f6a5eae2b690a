"""The helper code a generated file carries: the NumPy module copies the reference functions
(netdsl/reference.py) its layers call; the PyTorch module the helper classes (torch_helpers.j2) its
submodules use. Both are found by the names the generated lines use: no list of ops here."""

from __future__ import annotations

import ast
import importlib.util
import re
from functools import lru_cache
from pathlib import Path

_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_MACRO = re.compile(r"{%-?\s*macro\s+(\w+)\s*\(")


@lru_cache(maxsize=1)
def reference_functions() -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (source without decorators, the other reference functions it uses), in file order.
    Read with ast, so rendering a PyTorch module never imports numpy."""
    spec = importlib.util.find_spec("netdsl.reference")
    assert spec is not None and spec.origin is not None
    text = Path(spec.origin).read_text(encoding="utf-8")
    functions = [
        node for node in ast.parse(text).body if isinstance(node, ast.FunctionDef) and node.name != "reference"
    ]  # the registering decorator stays in netdsl
    names = {fn.name for fn in functions}
    result = {}
    for fn in functions:
        used = {n.id for part in fn.body for n in ast.walk(part) if isinstance(n, ast.Name)} & names - {fn.name}
        source = ast.get_source_segment(text, fn)
        assert source is not None
        result[fn.name] = (source, frozenset(used))
    return result


def helper_names() -> set[str]:
    """Every name a generated NumPy module may define for its helpers."""
    return set(reference_functions())


def numpy_helpers(lines: list[str]) -> list[str]:
    """The source of each reference function the lines call, with those they call in turn, in file order."""
    functions = reference_functions()
    wanted = {name for line in lines for name in _CALLED.findall(line) if name in helper_names()}
    pending = list(wanted)
    while pending:
        for used in functions[pending.pop()][1]:
            if used not in wanted:
                wanted.add(used)
                pending.append(used)
    return [source for name, (source, _) in functions.items() if name in wanted]


def torch_helper_classes(template_source: str, lines: list[str]) -> list[str]:
    """The helper classes (macros of torch_helpers.j2, in file order) that the lines construct."""
    called = {name for line in lines for name in _CALLED.findall(line)}
    return [name for name in _MACRO.findall(template_source) if name in called]
