"""The package's layering: what imports what (read with ast), `netdsl.ops`/`netdsl.ir` without lark,
and no op name outside the op declarations and the per-op registrations."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

from netdsl import ops

PACKAGE = ROOT / "netdsl"
# where op names belong: the declarations and each backend's per-op implementations
DECLARATIONS_AND_REGISTRATIONS = (
    "netdsl/ops/",
    "netdsl/backends/numpy/ops/",
    "netdsl/backends/numpy/kernels.py",
    "netdsl/backends/onnx/lowerings/",
    "netdsl/reference.py",
)
# string literals that equal an op name but mean something else
OTHER_MEANINGS = {
    ("netdsl/backends/onnx/export.py", "input"): "the ONNX graph's input tensor",
    ("netdsl/backends/onnx/export.py", "output"): "the ONNX graph's output tensor",
    ("netdsl/backends/numpy/optimizers.py", "sum"): "Adagrad's accumulator slot",
    ("netdsl/frontend/parser_tables.py", "add"): "the grammar's arithmetic rules (generated tables)",
    ("netdsl/frontend/parser_tables.py", "mul"): "the grammar's arithmetic rules (generated tables)",
    ("netdsl/frontend/parser_tables.py", "sum"): "the grammar's arithmetic rules (generated tables)",
    ("netdsl/codegen/render.py", "scale"): "an initializer's scale factor",
    ("netdsl/train/config.py", "input"): "target = input: the network's input is the training target",
    ("netdsl/train/declarations.py", "input"): "target = input: the network's input is the training target",
    ("netdsl/frontend/train_spec.py", "input"): "target = input: the network's input is the training target",
    ("netdsl/frontend/limits.py", "add"): "the grammar's arithmetic rules (nesting depth)",
    ("netdsl/frontend/limits.py", "mul"): "the grammar's arithmetic rules (nesting depth)",
    ("netdsl/data/classes.py", "cat"): "a cifar10 class name",
    ("netdsl/importer/tensors.py", "linear"): "ONNX Resize's mode (linear interpolation)",
    **{
        ("netdsl/draw/layout.py", trait): "a trait name: the colour of each kind of op"
        for trait in ("input", "conv", "dense", "pool")
    },
}
# backend-neutral training facts (no numpy, no front end) that backends and codegen may read
TRAINING_FACTS = ("netdsl.train", "netdsl.train.settings", "netdsl.train.declarations")
# runtime modules: they take training facts from netdsl/train/, never from the front end
RUNTIME = ("netdsl.train", "netdsl.backends", "netdsl.codegen", "netdsl.draw")
# calls whose string arguments are trait names (netdsl.ops.base.TRAITS)
TRAIT_CALLS = {"has", "_is", "_has", "ops_with", "with_trait", "following"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(path: Path) -> set[str]:
    """Every module a file imports (also inside functions): `from a import b` counts a.b when b is a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{alias.name}" for alias in node.names} & set(MODULES)
            found |= subs or {node.module}
    return found


def closure(module: str) -> set[str]:
    """The netdsl modules a module reaches, itself included."""
    seen, pending = set(), [module]
    while pending:
        current = pending.pop()
        if current in seen or current not in MODULES:
            continue
        seen.add(current)
        pending += [m for m in imports(MODULES[current]) if m.startswith("netdsl")]
        pending += [".".join(current.split(".")[:k]) for k in range(2, current.count(".") + 1)]  # packages
    return seen


def third_party(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for name in modules for m in imports(MODULES[name]) if not m.startswith("netdsl")}


def test_ops_and_ir_reach_no_front_end_backend_or_heavy_library() -> None:
    for name in MODULES:
        if name.startswith(("netdsl.ops", "netdsl.ir")):
            reached = closure(name)
            bad = {m for m in reached if m.startswith(("netdsl.frontend", "netdsl.backends", "netdsl.codegen"))}
            assert not bad, f"{name} reaches {sorted(bad)}"
            assert not third_party(reached) & {"lark", "numpy", "onnx", "jinja2"}, name


def test_backends_import_neither_the_front_end_nor_each_other() -> None:
    for name, path in MODULES.items():
        if not name.startswith(("netdsl.backends.", "netdsl.codegen")):
            continue
        own = ".".join(name.split(".")[:3]) if name.startswith("netdsl.backends.") else "netdsl.codegen"
        for target in imports(path):
            assert (
                not target.startswith(("netdsl.frontend", "netdsl.compiler", "netdsl.train", "lark"))
                or target in TRAINING_FACTS
            ), f"{name} imports the front end ({target})"
            other_backend = target.startswith(("netdsl.backends.", "netdsl.codegen")) and not target.startswith(own)
            allowed = name.startswith("netdsl.backends.onnx") and target == "netdsl.backends.numpy.api"
            assert not other_backend or allowed, f"{name} imports another backend ({target})"


def test_runtime_takes_training_facts_from_train_not_the_front_end() -> None:
    for name, path in MODULES.items():
        if name.startswith(RUNTIME):
            bad = sorted(t for t in imports(path) if t.startswith(("netdsl.frontend", "netdsl.compiler")))
            assert not bad, f"{name} imports {bad}: take training facts from netdsl/train/declarations.py"


def module_level_imports(path: Path) -> set[str]:
    """The netdsl modules a file imports when it is loaded (imports inside functions run later, and don't count)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{alias.name}" for alias in node.names} & set(MODULES)
            found |= subs or {node.module}
    return {m for m in found if m in MODULES}


def import_cycles() -> list[list[str]]:
    """Every cycle of module-level imports among netdsl modules, each as the modules along it."""
    graph = {name: sorted(module_level_imports(path) - {name}) for name, path in MODULES.items()}
    cycles, state = [], dict.fromkeys(graph, 0)  # 0 unvisited, 1 on the current path, 2 done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for target in graph[name]:
            if state[target] == 1:
                cycles.append(path[path.index(target) :] + [target])
            elif state[target] == 0:
                visit(target)
        path.pop()
        state[name] = 2

    for name in sorted(graph):
        if state[name] == 0:
            visit(name)
    return cycles


def test_no_import_cycles() -> None:
    assert import_cycles() == [], "import cycles (move the shared name down, or import lazily inside a function)"


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path, monkeypatch) -> None:
    for name, text in (("a", "import netdsl.b\n"), ("b", "from netdsl.a import x\n")):
        (tmp_path / f"{name}.py").write_text(text, encoding="utf-8")
    modules = {"netdsl.a": tmp_path / "a.py", "netdsl.b": tmp_path / "b.py"}
    monkeypatch.setattr(sys.modules[__name__], "MODULES", modules)
    assert import_cycles() == [["netdsl.a", "netdsl.b", "netdsl.a"]]


def test_the_top_level_of_the_package_stays_small() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= 12, f"{len(top)} modules at the top of netdsl/ (at most 12; give a family its package): {top}"


def test_ops_and_ir_import_with_lark_and_numpy_blocked() -> None:
    code = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("lark", "numpy", "onnx", "jinja2"):
            raise ImportError(f"blocked: {name}")
        return None
sys.meta_path.insert(0, Block())
import netdsl.ops, netdsl.ir.passes, netdsl.ir.lint, netdsl.ir.init, netdsl.ir.decompose, netdsl.train.settings
import netdsl.train.declarations, netdsl.train.config, netdsl.train.schedules
print(len(netdsl.ops.ALL))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(ops.ALL)


def _trait_arguments(tree: ast.AST) -> set[int]:
    """ids of the string constants passed to trait queries (`op.has("conv")`): trait names, not op names."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if func in TRAIT_CALLS:
                ids |= {id(arg) for arg in node.args if isinstance(arg, ast.Constant)}
    return ids


def test_no_op_name_outside_declarations_and_registrations() -> None:
    names = {name for op in ops.ALL for name in (op.name, *op.aliases)}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(DECLARATIONS_AND_REGISTRATIONS):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        traits = _trait_arguments(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in names
                and id(node) not in traits
                and (relative, node.value) not in OTHER_MEANINGS
            ):
                found.append(f"{relative}:{node.lineno}: {node.value!r}")
    assert not found, "op names outside their declaration (use the op's traits or its OpDef):\n" + "\n".join(found)


def test_a_node_s_op_declaration_is_read_from_the_node() -> None:
    """`node.opdef`, not a registry lookup by the node's op name (the front end looks up what a program wrote)."""
    pattern = re.compile(r"(REGISTRY\[|lookup\()\w+(\.\w+|\[\d\])*\.op\b")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.relative_to(PACKAGE).as_posix().startswith(("ops/", "frontend/", "ir/graph.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert not found, found


def test_templates_dispatch_on_no_op_name() -> None:
    """Per-op macros are named after their op; no template compares `L.op` to a name."""
    for path in (PACKAGE / "codegen" / "templates").glob("*.j2"):
        assert ".op ==" not in path.read_text(encoding="utf-8"), path.name
