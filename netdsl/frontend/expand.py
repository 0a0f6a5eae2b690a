"""AST -> IR graph: evaluate arguments, expand blocks and repetition, name every layer."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from netdsl import ops
from netdsl.diagnostics import CompileError, DiagnosticSink, Span, did_you_mean
from netdsl.frontend import ast
from netdsl.frontend.limits import MAX_INT, MAX_INT_TEXT, MAX_NESTING, MAX_SIZE
from netdsl.ir.graph import BlockUse, Graph, Node
from netdsl.ops.base import REQUIRED, ArgError, OpDef, Symbol

MAX_NODES = 100_000
BROKEN = "<error>"  # the output of a layer that had an error: what follows is still checked, but not shaped


class _Fatal(CompileError):
    """An error after which nothing more can be checked (the network expands without bound)."""


def _noop(name: str) -> bool:
    """An op that computes nothing (identity): as a whole branch it passes the input itself on."""
    op = ops.lookup(name)
    return op is not None and op.has("noop") and not op.args


# ---- expressions ----


def evaluate(expr: ast.Expr, env: dict[str, Any]) -> Any:
    """The value of an argument expression; names are block parameters, booleans or symbols."""
    if isinstance(expr, ast.Num):
        return expr.value
    if isinstance(expr, ast.Size):
        return expr.dims
    if isinstance(expr, ast.Str):
        return expr.value
    if isinstance(expr, ast.Name):
        if expr.id in env:
            return env[expr.id]
        if expr.id.lower() in ("true", "false"):
            return expr.id.lower() == "true"
        return Symbol(expr.id)
    if isinstance(expr, ast.TupleExpr):
        return tuple(evaluate(item, env) for item in expr.items)
    if isinstance(expr, ast.Neg):
        value = evaluate(expr.operand, env)
        _require_number(value, expr.operand)
        return -value
    if isinstance(expr, ast.BinOp):
        return _binop(expr, evaluate(expr.left, env), evaluate(expr.right, env))
    raise CompileError(f"{expr.name}(...) is not a value here", expr.span)


def _require_number(value: Any, expr: ast.Expr) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CompileError(f"arithmetic needs numbers, but this is {value!r}", expr.span)


def _binop(expr: ast.BinOp, left: Any, right: Any) -> int:
    for value, side in ((left, expr.left), (right, expr.right)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise CompileError(
                f"arithmetic works on integers, but this is {value!r}",
                side.span,
                "block arguments used in arithmetic must be integers",
            )
    if expr.op in ("/", "//", "%") and right == 0:
        raise CompileError("division by zero", expr.right.span)
    if expr.op == "/" and left % right:
        raise CompileError(f"{left} / {right} is not a whole number", expr.span, "use // to round down")
    result = {
        "+": lambda: left + right,
        "-": lambda: left - right,
        "*": lambda: left * right,
        "/": lambda: left // right,
        "//": lambda: left // right,
        "%": lambda: left % right,
    }[expr.op]()
    if abs(result) > MAX_INT:  # operands are within MAX_INT, so the result took bounded time to compute
        raise CompileError(
            f"{left} {expr.op} {right} is too large (integers are at most {MAX_INT_TEXT})",
            expr.span,
            f"sizes and counts are at most {MAX_SIZE:,}",
        )
    return result


# ---- arguments ----


def bind_args(op: OpDef, layer: ast.Layer, env: dict[str, Any]) -> dict[str, Any]:
    """Match positional and key=value arguments to the op's schema and coerce each one."""
    schema = {arg.name: arg for arg in op.args}
    values: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    positional = list(layer.args)
    if op.variadic:
        if not positional:
            raise CompileError(f"{op.name} needs its dimensions, e.g. input(1, 28, 28)", layer.span)
        values["dims"] = tuple(evaluate(a, env) for a in positional)
        positional = []
    if len(positional) > len(op.args):
        names = ", ".join(a.name for a in op.args) or "none"
        extra = positional[len(op.args)]
        raise CompileError(
            f"{op.name} takes at most {len(op.args)} positional argument"
            f"{'s' if len(op.args) != 1 else ''} ({names}), received {len(positional)}",
            extra.span,
        )
    for arg, expr in zip(op.args, positional):
        values[arg.name], spans[arg.name] = evaluate(expr, env), expr.span
    for kw in layer.kwargs:
        if kw.name not in schema:
            known = [a.name for a in op.args]
            hint = did_you_mean(kw.name, known)
            listing = f"{op.name} takes {', '.join(known)}" if known else f"{op.name} takes no arguments"
            raise CompileError(
                f"{op.name} has no argument '{kw.name}'", kw.span, f"{hint} {listing}" if hint else listing
            )
        if kw.name in values:
            raise CompileError(f"{op.name} got '{kw.name}' twice", kw.span)
        values[kw.name], spans[kw.name] = evaluate(kw.value, env), kw.span
    attrs: dict[str, Any] = {}
    for arg in op.args:
        if arg.name not in values:
            if arg.default is REQUIRED:
                required = [a.name for a in op.args if a.default is REQUIRED]
                raise CompileError(
                    f"{op.name} needs {' and '.join(required)}, but {arg.name} is missing",
                    layer.span,
                    f"write {op.name}({', '.join(required)}, ...)",
                )
            attrs[arg.name] = arg.default if arg.default is None else arg.coerce(arg.default, arg.name)
            continue
        try:
            attrs[arg.name] = arg.coerce(values[arg.name], arg.name)
        except ArgError as err:
            raise CompileError(f"{op.name}: {err}", spans[arg.name]) from None
    if op.variadic:
        from netdsl.ops.core import input_dims

        try:
            attrs["shape"] = input_dims(values["dims"], attrs.get("layout", "chw"))
        except ArgError as err:
            raise CompileError(f"{op.name}: {err}", layer.span) from None
    return attrs


# ---- the builder ----


@dataclass
class _Scope:
    prefix: str
    context: tuple[tuple[str, Span], ...]
    env: dict[str, Any]
    counters: Counter = field(default_factory=Counter)


class Builder:
    """Builds one network's graph; errors go to the sink, one per independent mistake."""

    def __init__(self, program: ast.Program, network: ast.Network, sink: DiagnosticSink):
        self.program = program
        self.network = network
        self.sink = sink
        self.blocks = {b.name: b for b in program.blocks}
        self.nodes: list[Node] = []
        self.uses: dict[str, BlockUse] = {}
        self.names: dict[str, Span] = {}
        self.block_stack: list[str] = []
        self.used_blocks: set[str] = set()
        self.lines = program.source.split("\n")  # as the parser counts lines
        self.failed = False
        self._reported: set[tuple] = set()
        self.depth = 0  # elements and block uses being expanded, one inside another

    def build(self) -> Graph:
        scope = _Scope("", (), {})
        self.seq(self.network.body, scope, None)
        return Graph(self.network.name, self.nodes, self.network.span, self.uses)

    # -- helpers --
    def text(self, span: Span) -> str:
        line = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else ""
        end = span.end_column - 1 if span.end_line == span.line else len(line)
        return line[span.column - 1 : end].strip()

    def fresh(self, scope: _Scope, base: str) -> str:
        while True:
            scope.counters[base] += 1
            name = f"{scope.prefix}{base}_{scope.counters[base]}"
            if name not in self.names:
                return name

    def claim(self, name: str, span: Span, repeated: bool) -> str:
        if name in self.names:
            first = self.names[name]
            hint = (
                "a repeated layer cannot carry a label; wrap it in a block instead"
                if repeated
                else f"'{name}' was first used at line {first.line}"
            )
            raise CompileError(f"the name '{name}' is used by two layers", span, hint)
        self.names[name] = span
        return name

    def report(self, err: CompileError) -> None:
        """Record an error once (a repeated chain or block repeats its mistakes) and go on checking."""
        self.failed = True
        diagnostic = err.diagnostic
        key = (diagnostic.message, diagnostic.span)
        if key not in self._reported:
            self._reported.add(key)
            self.sink.add(diagnostic)

    def add_node(self, node: Node) -> str:
        if len(self.nodes) >= MAX_NODES:
            raise _Fatal(
                f"the network expands to more than {MAX_NODES} layers", node.span, "check the repetition counts"
            )
        self.nodes.append(node)
        return node.name

    # -- elements --
    def seq(self, seq: ast.Seq, scope: _Scope, current: str | None, repeated: bool = False) -> str | None:
        for item in seq.items:
            try:
                current = self.element(item, scope, current, repeated)
            except _Fatal:
                raise
            except CompileError as err:  # report it, then check the rest of the chain past it
                self.report(err)
                current = BROKEN
        return current

    def element(self, item: ast.Element, scope: _Scope, current: str | None, repeated: bool) -> str | None:
        if self.depth >= MAX_NESTING:
            raise CompileError(
                f"layers nest more than {MAX_NESTING} levels deep here (blocks, groups and "
                "repetitions one inside another)",
                item.span,
                "flatten the structure: fewer blocks that only wrap another block",
            )
        self.depth += 1
        try:
            return self.expand_element(item, scope, current, repeated)
        finally:
            self.depth -= 1

    def expand_element(self, item: ast.Element, scope: _Scope, current: str | None, repeated: bool) -> str | None:
        if isinstance(item, ast.Seq):
            return self.seq(item, scope, current, repeated)
        if isinstance(item, ast.Repeat):
            return self.repeat(item, scope, current, repeated)
        if isinstance(item, ast.Branches):
            return self.branches(item, scope, current, repeated)
        return self.layer(item, scope, current, repeated)

    def repeat(self, item: ast.Repeat, scope: _Scope, current: str | None, repeated: bool) -> str | None:
        count = evaluate(item.count, scope.env)
        if isinstance(count, bool) or not isinstance(count, int):
            raise CompileError(f"a repetition count must be an integer, received {count!r}", item.count.span)
        if count < 1:
            raise CompileError(
                f"a repetition count must be at least 1, received {count}",
                item.count.span,
                "remove the repeated part instead of repeating it 0 times",
            )
        if count > MAX_SIZE:
            raise CompileError(f"a repetition count must be at most {MAX_SIZE:,}, received {count:,}", item.count.span)
        for _ in range(count):
            current = self.element(item.body, scope, current, repeated or count > 1)
        return current

    def require_input(self, current: str | None, span: Span, what: str) -> str:
        if current is None:
            raise CompileError(
                f"{what} has no input: a network starts with input(...)",
                span,
                "add a first layer such as input(1, 28, 28)",
            )
        return current

    def branches(self, item: ast.Branches, scope: _Scope, current: str | None, repeated: bool) -> str:
        op = ops.lookup(item.op)
        if op is None or op.name not in ops.MERGE_OPS:
            hint = did_you_mean(item.op, sorted(ops.MERGE_OPS))
            raise CompileError(
                f"'{item.op}' does not take branches; only add {{ A | B }} and concat {{ A | B }} do",
                item.op_span,
                hint,
            )
        source = self.require_input(current, item.span, op.name)
        if len(item.branches) < 2:
            raise CompileError(
                f"{op.name} needs at least two branches separated by '|'",
                item.span,
                f"for a residual connection write {op.name} {{ ... | identity }}",
            )
        outputs = [self.branch(branch, scope, source, repeated) for branch in item.branches]
        name = self.claim(scope.prefix + item.label, item.span, repeated) if item.label else self.fresh(scope, op.name)
        return self.add_node(Node(name, op.name, {}, outputs, item.span, op.name, context=scope.context))

    def branch(self, branch: ast.Seq, scope: _Scope, source: str, repeated: bool) -> str:
        only = branch.items[0] if len(branch.items) == 1 else None
        if isinstance(only, ast.Layer) and _noop(only.op) and not only.args and not only.label:
            return source  # the empty branch: the input itself
        return self.seq(branch, scope, source, repeated)

    def layer(self, layer: ast.Layer, scope: _Scope, current: str | None, repeated: bool) -> str | None:
        if layer.op in self.blocks:
            return self.instantiate(self.blocks[layer.op], layer, scope, current, repeated)
        op = ops.lookup(layer.op)
        if op is None:
            known = ops.known_names() + list(self.blocks)
            hint = did_you_mean(layer.op, known)
            raise CompileError(
                f"unknown op '{layer.op}'", layer.op_span, hint or "see docs/language.md for the list of ops"
            )
        if op.name in ops.MERGE_OPS:
            raise CompileError(f"{op.name} takes branches: {op.name} {{ A | B }}", layer.span)
        attrs = bind_args(op, layer, scope.env)
        if op.arity == "none":
            if current is not None or scope.context:
                raise CompileError("input(...) must be the first layer of a network", layer.span)
        else:
            current = self.require_input(current, layer.span, op.name)
        steps = op.expand(attrs) if op.expand else [(op.name, attrs, "")]
        base = (
            self.claim(scope.prefix + layer.label, layer.span, repeated) if layer.label else self.fresh(scope, op.name)
        )
        text = self.text(layer.span)
        for index, (step_op, step_attrs, suffix) in enumerate(steps):
            name = base + suffix if index == 0 else self.claim(base + suffix, layer.span, repeated)
            inputs = [current] if current is not None else []
            implicit = None if index == 0 else f"{op.name}'s activation={step_op}"
            current = self.add_node(Node(name, step_op, step_attrs, inputs, layer.span, text, implicit, scope.context))
        return current

    def instantiate(
        self, block: ast.Block, call: ast.Layer, scope: _Scope, current: str | None, repeated: bool
    ) -> str | None:
        if block.name in self.block_stack:
            cycle = " -> ".join(self.block_stack[self.block_stack.index(block.name) :] + [block.name])
            raise CompileError(
                f"block '{block.name}' uses itself ({cycle}); recursion is not allowed",
                call.op_span,
                "a block can use other blocks, but not one that leads back to it",
            )
        self.used_blocks.add(block.name)
        current = self.require_input(current, call.span, block.name)
        env = self.bind_block(block, call, scope.env)
        name = (
            self.claim(scope.prefix + call.label, call.span, repeated) if call.label else self.fresh(scope, block.name)
        )
        self.uses[name] = BlockUse(block.name, {p.name: env[p.name] for p in block.params})
        inner = _Scope(name + ".", scope.context + ((f"in block '{block.name}' used here", call.span),), env)
        self.block_stack.append(block.name)
        try:
            return self.seq(block.body, inner, current, False)
        finally:
            self.block_stack.pop()

    def bind_block(self, block: ast.Block, call: ast.Layer, env: dict[str, Any]) -> dict[str, Any]:
        names = [p.name for p in block.params]
        if len(call.args) > len(names):
            raise CompileError(
                f"block {block.name} takes {len(names)} argument{'s' if len(names) != 1 else ''} "
                f"({', '.join(names) or 'none'}), received {len(call.args)}",
                call.args[len(names)].span,
            )
        bound = {p.name: evaluate(a, env) for p, a in zip(block.params, call.args)}
        for kw in call.kwargs:
            if kw.name not in names:
                hint = did_you_mean(kw.name, names)
                raise CompileError(
                    f"block {block.name} has no parameter '{kw.name}'",
                    kw.span,
                    hint or f"its parameters are {', '.join(names) or 'none'}",
                )
            if kw.name in bound:
                raise CompileError(f"block {block.name} got '{kw.name}' twice", kw.span)
            bound[kw.name] = evaluate(kw.value, env)
        for param in block.params:
            if param.name not in bound:
                if param.default is None:
                    raise CompileError(
                        f"block {block.name} needs '{param.name}'", call.span, f"write {block.name}({', '.join(names)})"
                    )
                bound[param.name] = evaluate(param.default, bound)
        return bound


def check_blocks(program: ast.Program, sink: DiagnosticSink) -> None:
    """Block definitions on their own: unique names, unique parameters, no shadowed ops."""
    seen: dict[str, ast.Block] = {}
    for block in program.blocks:
        if block.name in seen:
            sink.error(
                f"block '{block.name}' is defined twice",
                block.name_span,
                f"the first definition is at line {seen[block.name].span.line}",
            )
        seen[block.name] = block
        if ops.lookup(block.name):
            sink.error(f"block '{block.name}' has the name of an op", block.name_span, "choose another name")
        params = [p.name for p in block.params]
        for p in block.params:
            if params.count(p.name) > 1:
                sink.error(f"block '{block.name}' has two parameters named '{p.name}'", p.span)
                break


def build_partial_graph(
    program: ast.Program, network: ast.Network, sink: DiagnosticSink
) -> tuple[Graph | None, set[str], bool]:
    """The graph, whether it is complete, and the blocks used. After an error in a layer, branch or
    block the rest is still built (its nodes fed by BROKEN), so one run reports every mistake."""
    builder = Builder(program, network, sink)
    try:
        graph = builder.build()
    except CompileError as err:
        builder.report(err)
        return None, builder.used_blocks, False
    if not builder.failed and (not graph.nodes or not graph.nodes[0].opdef.has("input")):
        sink.error(
            f"network '{network.name}' has no input layer",
            network.name_span,
            "start the network with input(C, H, W) or input(N)",
        )
        return None, builder.used_blocks, False
    return graph, builder.used_blocks, not builder.failed
