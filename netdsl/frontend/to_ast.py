"""Parse tree -> AST. Every node keeps the span of the text it came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from lark import Token, Transformer_NonRecursive, Tree, v_args
from lark.exceptions import VisitError

from netdsl.diagnostics import CompileError, Span
from netdsl.frontend import ast
from netdsl.frontend.limits import MAX_INT, MAX_INT_TEXT, MAX_SIZE


def _span(file: str, meta) -> Span:
    return Span(file, meta.line, meta.column, meta.end_line, meta.end_column)


def _token_span(file: str, token: Token) -> Span:
    return Span(file, token.line, token.column, token.end_line, token.end_column)


def _binop(op: str) -> Callable[..., ast.BinOp]:
    """The transformer method of one arithmetic operator."""

    def method(self: Any, meta: Any, children: list[Any]) -> ast.BinOp:
        return ast.BinOp(op, children[0], children[1], self._s(meta))

    return method


@v_args(meta=True)
class _ToAst(Transformer_NonRecursive):
    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def _s(self, meta) -> Span:
        return _span(self.file, meta)

    # ---- expressions ----
    def int(self, meta, children):
        return ast.Num(_integer(str(children[0]), self._s(meta)), self._s(meta))

    def float(self, meta, children):
        return ast.Num(float(children[0]), self._s(meta))

    def size(self, meta, children):
        span = self._s(meta)
        return ast.Size(tuple(_integer(d, span) for d in str(children[0]).split("x")), span)

    def string(self, meta, children):
        return ast.Str(str(children[0])[1:-1], self._s(meta))

    def name(self, meta, children):
        return ast.Name(str(children[0]), self._s(meta))

    def tuple(self, meta, children):
        return ast.TupleExpr(tuple(c for c in children if c is not None), self._s(meta))

    add = _binop("+")
    sub = _binop("-")
    mul = _binop("*")
    div = _binop("/")
    floordiv = _binop("//")
    mod = _binop("%")

    def neg(self, meta, children):
        return ast.Neg(children[0], self._s(meta))

    def unary(self, meta, children):  # unary plus
        return children[0]

    def kwarg(self, meta, children):
        return ast.Kwarg(str(children[0]), children[1], self._s(meta))

    def args(self, meta, children):
        return list(children)

    def call(self, meta, children):
        name, args = children
        positional, keywords = _split_args(args or [])
        return ast.Call(str(name), positional, keywords, self._s(meta))

    # ---- layers ----
    def label(self, meta, children):
        return children[0]

    def layer(self, meta, children):
        label, op, args = children
        positional, keywords = _split_args(args or [])
        return ast.Layer(
            str(op), str(label) if label else None, positional, keywords, self._s(meta), _token_span(self.file, op)
        )

    def branches(self, meta, children):
        label, op, *branches = children
        return ast.Branches(
            str(op), str(label) if label else None, tuple(branches), self._s(meta), _token_span(self.file, op)
        )

    def group(self, meta, children):
        return children[0]

    def repeat(self, meta, children):
        return ast.Repeat(children[0], children[1], self._s(meta))

    def chain(self, meta, children):
        return ast.Seq(tuple(children), self._s(meta))

    def lines(self, meta, children):
        items = tuple(item for chain in children for item in chain.items)
        return ast.Seq(items, self._s(meta))

    # ---- top level ----
    def network(self, meta, children):
        name, body = children
        return ast.Network(str(name), body, self._s(meta), _token_span(self.file, name))

    def param(self, meta, children):
        return ast.Param(str(children[0]), children[1], self._s(meta))

    def params(self, meta, children):
        return tuple(children)

    def block(self, meta, children):
        name, params, body = children
        return ast.Block(str(name), params or (), body, self._s(meta), _token_span(self.file, name))

    def setting(self, meta, children):
        key, value = children
        return ast.Setting(str(key), value, self._s(meta), _token_span(self.file, key))

    def train(self, meta, children):
        network, *settings = children
        return ast.Train(str(network) if network else None, tuple(s for s in settings if s is not None), self._s(meta))

    def start(self, meta, children):
        return [c for c in children if c is not None]


def _integer(digits: str, span: Span) -> int:
    """An integer literal, refused beyond MAX_INT before Python converts it (long digit strings are slow)."""
    if len(digits.lstrip("0")) > len(str(MAX_INT)) or int(digits) > MAX_INT:
        raise CompileError(
            f"the integer {_abbreviated(digits)} is too large (the largest is {MAX_INT_TEXT})",
            span,
            f"sizes and counts are at most {MAX_SIZE:,}",
        )
    return int(digits)


def _abbreviated(digits: str) -> str:
    return digits if len(digits) <= 24 else f"{digits[:10]}...{digits[-10:]} ({len(digits)} digits)"


def _split_args(args: list) -> tuple[tuple, tuple]:
    positional = tuple(a for a in args if not isinstance(a, ast.Kwarg))
    keywords = tuple(a for a in args if isinstance(a, ast.Kwarg))
    seen_keyword = False
    for a in args:
        if isinstance(a, ast.Kwarg):
            seen_keyword = True
        elif seen_keyword:
            raise CompileError(
                "a positional argument cannot follow a keyword argument",
                a.span,
                "put positional arguments first, then key=value arguments",
            )
    return positional, keywords


def to_ast(tree: Tree, file: str, source: str) -> ast.Program:
    """Build the Program; top-level chains form the network named after the file's stem."""
    try:
        statements = _ToAst(file).transform(tree)
    except VisitError as err:
        raise err.orig_exc from None
    program = ast.Program(file=file, source=source)
    bare: list[ast.Seq] = []
    for statement in statements:
        if isinstance(statement, ast.Network):
            program.networks.append(statement)
        elif isinstance(statement, ast.Block):
            program.blocks.append(statement)
        elif isinstance(statement, ast.Train):
            program.trains.append(statement)
        else:
            bare.append(statement)
    if bare:
        program.networks.insert(0, _implicit_network(bare, file))
    return program


def _implicit_network(chains: list[ast.Seq], file: str) -> ast.Network:
    first, last = chains[0].span, chains[-1].span
    span = Span(file, first.line, first.column, last.end_line, last.end_column)
    body = ast.Seq(tuple(item for chain in chains for item in chain.items), span)
    stem = Path(file).stem if file and not file.startswith("<") else "network"
    name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in stem) or "network"
    return ast.Network(name, body, span, first)
