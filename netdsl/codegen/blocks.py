"""The scopes of generated code: the network, and one class (PyTorch) or function (NumPy) per block.

A block's uses are found by netdsl.ir.structure; those of one shape (the same layers, wired the same
way) share one class whose constructor takes the parameters that differ between them (values.py finds
the expressions). Each use is an attribute named as netdsl names it, so a PyTorch state dict has
netdsl's weight names; consecutive uses with the same arguments (`block(...) * N`) become a loop.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Any, Callable

from netdsl.codegen.values import Candidate, Fitter, NotUniform, Varying, merge, text_of
from netdsl.codegen.wrap import LINE_LENGTH, wrap
from netdsl.ir.graph import Graph, Node
from netdsl.ir.structure import Instance, Repeat, Unit, block_tree, instances, runs
from netdsl.ops.base import fmt_shape

Step = Node | Instance | Repeat


@dataclass
class Scope:
    """One class or function of the generated code and what it is made of."""

    name: str  # the class or function name
    block: str | None  # the block it implements; None for the network
    members: list[Instance]  # the uses it serves (empty for the network)
    params: list[Candidate] = field(default_factory=list)  # its constructor's parameters, in order
    attrs: dict[str, str] = field(default_factory=dict)  # local layer or use name -> Python identifier
    inits: list[str] = field(default_factory=list)  # PyTorch: the lines of __init__ after super().__init__()
    forward: list[str] = field(default_factory=list)  # the body of forward, its return included
    table: list[str] = field(default_factory=list)  # its layers, shapes of the first use, params

    def args(self, instance: Instance) -> tuple:
        """The values its parameters take for one of its uses."""
        index = next(i for i, member in enumerate(self.members) if member is instance)
        return tuple(c.values[index] for c in self.params)

    def signature(self) -> list[str]:
        """`name: annotation` of each parameter."""
        return [f"{c.name}: {type(c.values[0]).__name__}" for c in self.params]

    @property
    def init_signature(self) -> list[str]:
        """PyTorch: the `def __init__` line(s)."""
        return define("    def __init__(", ["self"] + self.signature(), ") -> None:")

    @property
    def function_signature(self) -> list[str]:
        """NumPy: the `def <block>` line(s)."""
        return define(
            f"def {self.name}(",
            ["params: dict[str, np.ndarray]", "x: np.ndarray"] + self.signature(),
            ") -> np.ndarray:",
        )


def define(head: str, args: list[str], tail: str) -> list[str]:
    """A def line, or one argument a line (as ruff formats it) when it is too long."""
    line = f"{head}{', '.join(args)}{tail}"
    if len(line) <= LINE_LENGTH:
        return [line]
    indent = " " * (len(head) - len(head.lstrip()))
    together = f"{indent}    {', '.join(args)}"
    if len(together) <= LINE_LENGTH:
        return [head, together, f"{indent}{tail}"]
    return [head] + [f"{indent}    {arg}," for arg in args] + [f"{indent}{tail}"]


def call_text(instance: Instance) -> str:
    """`bottleneck(c=64)`: the block use as the table shows it."""

    def shown(value: Any) -> str:
        return "x".join(map(str, value)) if isinstance(value, tuple) else str(value)

    return f"{instance.block}({', '.join(f'{k}={shown(v)}' for k, v in instance.args.items())})"


class Planner:
    """Renders every scope of a graph for one target, innermost blocks first."""

    MAX_TRIES = 8  # classes a use that fits none of a block's first class is tried against (time is quadratic)

    def __init__(
        self,
        graph: Graph,
        target: str,
        ops: Any,
        reserved: frozenset[str],
        name_of: Callable[[str, set[str]], str],
        comments: Callable[[Node], str],
    ):
        self.graph, self.target, self.ops, self.reserved = graph, target, ops, reserved
        self.name_of, self.comment_of = name_of, comments
        self.torch = target == "pytorch"
        self.tree = block_tree(graph)
        self.uses = instances(self.tree)
        self.scopes: list[Scope] = []  # in the order they are written: a block's parts before it
        self.scope_of: dict[str, Scope] = {}  # block use path -> its scope
        self.taken = set(reserved) | {part for node in graph for part in node.name.split(".")}
        self.final: str | None = None  # the network's last op when forward(logits=True) returns the scores before it
        self.top: Scope | None = None
        self._planned: set[str] = set()
        for block, members in self.uses.items():
            self.plan_block(block, members)

    # -- planning --

    def plan_block(self, block: str, members: list[Instance]) -> None:
        if block in self._planned:
            return
        self._planned.add(block)
        for member in members:
            for child in member.units:
                if isinstance(child, Instance):
                    self.plan_block(child.block, self.uses[child.block])
        shapes: dict[tuple, list[Instance]] = {}
        for member in members:
            shapes.setdefault(self.skeleton(member), []).append(member)
        for group in shapes.values():
            self.plan_group(block, group)

    def skeleton(self, instance: Instance) -> tuple:
        """What the uses of one class must share: layers, ops, wiring, and the classes of the uses inside."""

        def ref(name: str) -> str:
            return "<in>" if name == instance.input else self.local(name, instance.path)

        items: list[tuple] = []
        for step in runs(instance.units, self.graph):
            if isinstance(step, Node):
                items.append(
                    (
                        "layer",
                        ref(step.name),
                        step.op,
                        tuple(map(ref, step.inputs)),
                        tuple(sorted(step.attrs)),
                        tuple(step.params),
                        tuple(step.buffers),
                    )
                )
            elif isinstance(step, Instance):
                items.append(("use", step.name, id(self.scope_of[step.path]), ref(step.input)))
            else:
                items.append(
                    (
                        "repeat",
                        step.base,
                        step.start,
                        len(step.uses),
                        id(self.scope_of[step.uses[0].path]),
                        ref(step.input),
                    )
                )
        return tuple(items)

    def plan_group(self, block: str, members: list[Instance]) -> None:
        try:
            self.add_scope(block, members, members)
        except NotUniform:  # the uses that one class can follow, gathered in order
            groups: list[list[Instance]] = []
            for member in members:
                for group in groups[-self.MAX_TRIES :]:
                    try:
                        self.render(block, group + [member], group + [member])
                    except NotUniform:
                        continue
                    group.append(member)
                    break
                else:
                    groups.append([member])
            for group in groups:
                self.add_scope(block, group, group)

    def add_scope(self, block: str, members: list[Instance], sample: list[Instance]) -> None:
        scope = self.render(block, members, sample)
        scope.name = self.name_of(block, self.taken)
        self.taken.add(scope.name)
        self.scopes.append(scope)
        for member in members:
            self.scope_of[member.path] = scope

    def candidates(self, block_members: list[Instance]) -> list[Candidate]:
        """The block's parameters and `in_channels`, each with its value in every use."""
        first = block_members[0]
        taken = set(self.reserved) | {"in_channels"} | {s.name for s in self.scopes}
        result = []
        for name in first.args:
            python = (
                name
                if name.isidentifier() and not keyword.iskeyword(name) and name not in taken
                else self.fresh(name, taken)
            )
            taken.add(python)
            result.append(Candidate(python, tuple(m.args[name] for m in block_members)))
        channels = "in_channels" if "in_channels" not in first.args else self.fresh("in_channels", taken)
        result.append(Candidate(channels, tuple(self.graph[m.input].shape[0] for m in block_members)))
        return result

    @staticmethod
    def fresh(name: str, taken: set[str]) -> str:
        base = (
            name if name.isidentifier() and name.isascii() else "p_" + "".join(c if c.isalnum() else "_" for c in name)
        )
        candidate, k = base + "_", 1
        while candidate in taken or keyword.iskeyword(candidate):
            k += 1
            candidate = f"{base}_{k}"
        return candidate

    def render(self, block: str, members: list[Instance], sample: list[Instance]) -> Scope:
        candidates = self.candidates(sample)
        fitter = Fitter(candidates)
        rendered = _Rendered(
            self, fitter, [runs(m.units, self.graph) for m in sample], sample, {c.name for c in candidates}
        )
        rendered.run()
        used = [c for c in candidates[-1:] + candidates[:-1] if c.name in fitter.used]  # in_channels first
        if len(sample) < len(members):  # every member renders to the same code: their values are the sample's
            used = []
        first_use = ", ".join(m.path for m in members[:3]) + (", ..." if len(members) > 3 else "")
        title = (
            f"block {block}: {len(members)} use{'s' if len(members) > 1 else ''} ({first_use}); "
            f"shapes of {members[0].path}"
        )
        return Scope(
            "",
            block,
            members,
            used,
            rendered.idents,
            rendered.inits,
            rendered.forward,
            self.table(title, rendered.steps[0], members[0].path + "."),
        )

    def network(self) -> Scope:
        """The network's own scope: its top-level layers and block uses."""
        rendered = _Rendered(self, Fitter([]), [runs(self.tree, self.graph)], None, set())
        rendered.run()
        self.top = Scope("", None, [], [], rendered.idents, rendered.inits, rendered.forward, [])
        return self.top

    # -- names and tables --

    @staticmethod
    def local(name: str, path: str) -> str:
        return name[len(path) + 1 :] if path else name

    def table(self, title: str, steps: list[Step], prefix: str) -> list[str]:
        from netdsl.ops.base import fmt_shape
        from netdsl.table import op_text, plain_table

        rows = []
        for step in steps:
            uses = step.uses if isinstance(step, Repeat) else [step]
            for unit in uses:
                nodes = [unit] if isinstance(unit, Node) else unit.nodes
                last = nodes[-1] if isinstance(unit, Node) else self.graph[unit.output]
                count = sum(n.param_count for n in nodes)
                rows.append(
                    [
                        unit.name[len(prefix) :] if isinstance(unit, Node) else unit.name,
                        op_text(unit) if isinstance(unit, Node) else call_text(unit),
                        fmt_shape(last.shape),
                        f"{count:,}" if count else "",
                    ]
                )
        return plain_table(title, ["Layer", "Op", "Output (CxHxW)", "Params"], rows)

    def torch_names(self) -> dict[str, str]:
        """netdsl layer name -> its module path in the generated PyTorch module."""
        result: dict[str, str] = {}

        def walk(units: list[Unit], scope: Scope, prefix: str, path: str) -> None:
            for unit in units:
                if isinstance(unit, Node):
                    result[unit.name] = path + scope.attrs[self.local(unit.name, prefix)]
                else:
                    attr = scope.attrs.get(unit.name, unit.name)
                    walk(unit.units, self.scope_of[unit.path], unit.path, path + attr + ".")

        walk(self.tree, self.top, "", "")
        return result


class _Rendered:
    """The code of one scope, rendered for every sample use at once (values that differ are Varyings)."""

    def __init__(
        self, planner: Planner, fitter: Fitter, steps: list[list[Step]], members: list[Instance] | None, taken: set[str]
    ):
        self.p, self.fitter, self.steps, self.members = planner, fitter, steps, members
        self.top = members is None
        self.inits: list[str] = []
        self.forward: list[str] = []
        self.taken = set(planner.reserved) | taken | {s.name for s in planner.scopes}
        self.idents: dict[str, str] = {}
        self.loop = next(name for name in ("k", "i", "n", "index", "k_") if name not in self.taken | self.locals())
        self.taken.add(self.loop)

    def locals(self) -> set[str]:
        return {self.local_name(step, 0) for step in self.steps[0] if not isinstance(step, Repeat)} | {
            u.name for step in self.steps[0] if isinstance(step, Repeat) for u in step.uses
        }

    def prefix(self, m: int) -> str:
        return "" if self.members is None else self.members[m].path

    def local_name(self, step: Step, m: int) -> str:
        if isinstance(step, Node):
            return Planner.local(step.name, self.prefix(m))
        if isinstance(step, Instance):
            return step.name
        return step.uses[-1].name

    def ident(self, local: str) -> str:
        if local not in self.idents:
            base = local.replace(".", "__")
            base = base if base.isidentifier() else "_" + "".join(c if c.isalnum() else "_" for c in base)
            ident, k = base, 1
            while ident in self.taken:
                k += 1
                ident = f"{base}_" if k == 2 else f"{base}_{k}"
            self.taken.add(ident)
            self.idents[local] = ident
        return self.idents[local]

    # -- variables --

    def variables(self) -> tuple[list[str], dict[str, str]]:
        """Per step the variable holding its output; and each value's variable by its layer name."""
        steps = self.steps[0]
        outputs = [s.name if isinstance(s, Node) else s.output for s in steps]
        scope_input = None if self.members is None else self.members[0].input
        readers: dict[str | None, list[int]] = {}
        for j, step in enumerate(steps):
            for source in step.inputs if isinstance(step, Node) else [step.input]:
                readers.setdefault(source, []).append(j)
        last_input_read = max(readers.get(scope_input, [-1])) if scope_input else 0
        names = []
        for j, output in enumerate(outputs):
            chained = readers.get(output, []) == [j + 1]
            free = j >= last_input_read
            names.append("x" if (chained or j == len(steps) - 1) and free else self.ident(self.local_name(steps[j], 0)))
        by_layer = {output: names[j] for j, output in enumerate(outputs)}
        if scope_input is not None:
            by_layer[scope_input] = "x"
        return names, by_layer

    # -- rendering --

    def run(self) -> None:
        names, by_layer = self.variables()
        for step in self.steps[0]:  # attributes first, in order: a state dict lists them as netdsl does
            if not isinstance(step, Repeat):
                self.ident(self.local_name(step, 0))
        final = self.top and self.p.final is not None
        for j, step in enumerate(self.steps[0]):
            same = [steps[j] for steps in self.steps]
            ins = [by_layer[s] for s in (step.inputs if isinstance(step, Node) else [step.input])] or ["x"]
            if final and j == len(self.steps[0]) - 1 and isinstance(step, Node):
                self.forward += [f"{self.indent}if logits:", f"{self.indent}    return {ins[0]}"]
            if isinstance(step, Node):
                self.layer(same, names[j], ins)  # type: ignore[arg-type]  # step j is one kind in every use
            elif isinstance(step, Instance):
                self.use(same, names[j], ins[0])  # type: ignore[arg-type]
            else:
                self.repeat(same, names[j], ins[0])  # type: ignore[arg-type]
        self.forward.append(f"{self.indent}return {names[-1]}")

    @property
    def indent(self) -> str:
        return " " * (8 if self.p.torch else 4)

    def statement(self, line: str, note: str | None) -> None:
        """A forward statement, with the network's own steps annotated: after it when that fits, else above."""
        from netdsl.codegen.render import comment_text

        lines = wrap(line)
        if self.top and note is not None:
            trailing = f"{lines[-1]}  # {comment_text(note)}"
            if len(trailing) <= LINE_LENGTH:
                lines[-1] = trailing
            else:
                lines.insert(0, f"{line[: len(line) - len(line.lstrip())]}# {comment_text(note)}")
        self.forward += lines

    def layer(self, nodes: list[Node], var: str, ins: list[str]) -> None:
        from netdsl.codegen.render import Layer

        first = nodes[0]
        local = self.local_name(first, 0)
        merged = Node(
            local,
            first.op,
            {key: self.merge([n.attrs[key] for n in nodes]) for key in first.attrs},
            [],
            first.span,
            first.text,
            first.implicit,
            first.context,
            shape=self.merge([n.shape for n in nodes]),
            params=dict(first.params),
            buffers=dict(first.buffers),
        )
        in_shapes = tuple(
            self.merge([self.p.graph[n.inputs[i]].shape for n in nodes]) for i in range(len(first.inputs))
        )
        layer = Layer(merged, var, tuple(ins), self.ident(local), in_shapes)
        expression = " ".join(str(getattr(self.p.ops, first.op)(layer)).split())
        if expression != var:
            self.statement(f"{self.indent}{var} = {expression}", self.p.comment_of(first))
        make = getattr(self.p.ops, f"{first.op}_init", None)
        text = " ".join(str(make(layer)).split()) if make is not None else ""
        if self.p.torch and text:
            self.inits += wrap(f"        self.{layer.attr} = {text}")

    def merge(self, values: list) -> Any:
        return merge(tuple(values), self.fitter)

    def child_call(self, uses: list[Instance]) -> tuple[Scope, str]:
        scope = self.p.scope_of[uses[0].path]
        if any(self.p.scope_of[u.path] is not scope for u in uses):
            raise NotUniform("uses of different classes")
        values = [scope.args(u) for u in uses]
        args = [text_of(self.merge([v[k] for v in values])) for k in range(len(scope.params))]
        return scope, ", ".join(args)

    def use(self, uses: list[Instance], var: str, source: str) -> None:
        from netdsl.codegen.render import py_literal

        scope, args = self.child_call(uses)
        attr = self.ident(uses[0].name)
        note = f"{call_text(uses[0])} -> {fmt_shape(self.p.graph[uses[0].output].shape)}"
        if self.p.torch:
            self.inits += wrap(f"        self.{attr} = {scope.name}({args})")
            self.statement(f"{self.indent}{var} = self.{attr}({source})", note)
        else:
            extra = f", {args}" if args else ""
            self.statement(
                f"{self.indent}{var} = {scope.name}(scope(params, {py_literal(uses[0].name)}), {source}{extra})", note
            )

    def repeat(self, repeats: list[Repeat], var: str, source: str) -> None:
        from netdsl.codegen.render import py_literal

        first = repeats[0]
        names = [u.name for u in first.uses]
        if not all(n.isascii() and n.isidentifier() and n not in self.p.reserved for n in names):
            for k in range(len(first.uses)):  # names a loop cannot spell: one statement per use
                self.use([r.uses[k] for r in repeats], var, source if k == 0 else var)
            return
        scope, args = self.child_call([u for r in repeats for u in r.uses])
        for name in names:
            self.idents[name] = name
        loop = f"for {self.loop} in range({first.start}, {first.start + len(names)}):"
        spelled = "f" + py_literal(first.base + "_")[:-1] + "{" + self.loop + "}" + '"'
        if source != var:
            self.forward.append(f"{self.indent}{var} = {source}")
        shape = fmt_shape(self.p.graph[first.output].shape)
        self.statement(f"{self.indent}{loop}", f"{call_text(first.uses[0])} * {len(names)} -> {shape}")
        if self.p.torch:
            self.inits += [f"        {loop}"] + wrap(f"            self.add_module({spelled}, {scope.name}({args}))")
            self.forward += wrap(f"{self.indent}    {var} = getattr(self, {spelled})({var})")
        else:
            extra = f", {args}" if args else ""
            self.forward += wrap(f"{self.indent}    {var} = {scope.name}(scope(params, {spelled}), {var}{extra})")


__all__ = ["Planner", "Scope", "Varying", "call_text"]
