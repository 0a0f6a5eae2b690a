"""Values that differ between the uses of one block, and the expressions that name them.

A block's class (or NumPy function) is rendered once for all its uses: each attribute or shape that is
the same in every use is a constant, one that differs is a `Varying` (one value per use). Written into
the code, a Varying becomes an expression in the block's parameters and its input channels (`c * 4`,
`in_channels`, `(stride, stride)`) that gives every use's value exactly; when none does, rendering
raises NotUniform and the uses are split into classes of their own.

The per-op fragments see Varyings where they see attributes, so a fragment's test must not pick code
that is right for some uses only: comparing a Varying is answered only when every use agrees, except
`!=`, with which fragments leave out an argument that has its default value (the argument is then
written, which is right for every use).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable


class NotUniform(Exception):
    """The uses of a block differ in a way one class cannot follow."""


@dataclass
class Candidate:
    """A name the generated code can use for a value: a block parameter or `in_channels`, one value per use."""

    name: str  # the Python name
    values: tuple


class Fitter:
    """Finds an expression in the candidates for a Varying; remembers which candidates it used."""

    MAX_FACTOR = 16  # the largest factor tried in `c * k` and `c // k`

    def __init__(self, candidates: list[Candidate]):
        self.candidates = candidates
        self.used: set[str] = set()

    def text(self, values: tuple) -> str:
        found = self._exact(values) or self._tuple(values) or self._integer(values)
        if found is None:
            raise NotUniform(f"no expression gives the values {values}")
        return found

    def _use(self, *names: str) -> None:
        self.used.update(names)

    def _exact(self, values: tuple) -> str | None:
        for candidate in self.candidates:
            if _same(candidate.values, values):
                self._use(candidate.name)
                return candidate.name
        return None

    def _tuple(self, values: tuple) -> str | None:
        if not all(isinstance(v, tuple) for v in values) or len({len(v) for v in values}) != 1:
            return None
        parts = [merge(tuple(v[i] for v in values), self) for i in range(len(values[0]))]
        inner = ", ".join(text_of(part) for part in parts)
        return f"({inner},)" if len(parts) == 1 else f"({inner})"

    def _integer(self, values: tuple) -> str | None:
        if not all(_is_int(v) for v in values):
            return None
        ints = [c for c in self.candidates if all(_is_int(v) for v in c.values)]
        for search in (self._scaled, self._offset, self._pair, self._divided):
            found = search(ints, values)
            if found is not None:
                return found
        return None

    def _scaled(self, ints: list[Candidate], values: tuple) -> str | None:
        for c in ints:
            if c.values[0] and values[0] % c.values[0] == 0:
                k = values[0] // c.values[0]
                if 1 < k <= self.MAX_FACTOR and all(v == k * a for v, a in zip(values, c.values)):
                    self._use(c.name)
                    return f"{c.name} * {k}"
        return None

    def _divided(self, ints: list[Candidate], values: tuple) -> str | None:
        """`c // 2`, or `(k - 1) // 2` (the padding that keeps the size for an odd kernel k)."""
        for k in range(2, self.MAX_FACTOR + 1):
            for c in ints:
                for offset, text in ((0, c.name), (-1, f"({c.name} - 1)"), (1, f"({c.name} + 1)")):
                    if all(v == (a + offset) // k for v, a in zip(values, c.values)):
                        self._use(c.name)
                        return f"{text} // {k}"
        return None

    def _pair(self, ints: list[Candidate], values: tuple) -> str | None:
        for sign, combine in (("*", operator.mul), ("+", operator.add)):
            for i, a in enumerate(ints):
                for b in ints[i:]:
                    if all(v == combine(x, y) for v, x, y in zip(values, a.values, b.values)):
                        self._use(a.name, b.name)
                        return f"{a.name} {sign} {b.name}"
        return None

    def _offset(self, ints: list[Candidate], values: tuple) -> str | None:
        for c in ints:
            k = values[0] - c.values[0]
            if k and abs(k) <= 1 << 20 and all(v == a + k for v, a in zip(values, c.values)):
                self._use(c.name)
                return f"{c.name} {'+' if k > 0 else '-'} {abs(k)}"
        return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(type(x) is type(y) and x == y for x, y in zip(a, b))


def merge(values: tuple, fitter: Fitter) -> Any:
    """The value when every use has the same one, else a Varying."""
    first = values[0]
    if all(type(v) is type(first) and v == first for v in values[1:]):
        return first
    return Varying(values, fitter)


def pack(value: tuple) -> Any:
    """A tuple that holds Varyings as one Varying of tuples (so that comparing it compares whole tuples)."""
    varying = [v for v in value if isinstance(v, Varying)]
    if not varying:
        return value
    uses = len(varying[0].values)
    return merge(
        tuple(tuple(v.values[k] if isinstance(v, Varying) else v for v in value) for k in range(uses)),
        varying[0].fitter,
    )


def text_of(value: Any) -> str:
    """A Varying's expression, or a constant's Python literal."""
    from netdsl.codegen.render import py_literal

    return value.text() if isinstance(value, Varying) else py_literal(value)


class Varying:
    """One value per use of a block (see the module docstring)."""

    __slots__ = ("values", "fitter")

    def __init__(self, values: tuple, fitter: Fitter):
        self.values, self.fitter = values, fitter

    def text(self) -> str:
        return self.fitter.text(self.values)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"Varying{self.values!r}"

    __hash__ = None  # type: ignore[assignment,unused-ignore]  # needed without --no-strict-optional

    def _others(self, other: Any) -> tuple:
        if isinstance(other, Varying):
            if len(other.values) != len(self.values):
                raise NotUniform("uses of different blocks meet")
            return other.values
        return (other,) * len(self.values)

    def _uniform(self, test: Callable[[Any, Any], Any], other: Any) -> bool:
        answers = {bool(test(a, b)) for a, b in zip(self.values, self._others(other))}
        if len(answers) > 1:
            raise NotUniform("the uses of a block take different code paths")
        return answers.pop()

    def __eq__(self, other: Any) -> bool:  # type: ignore[override,unused-ignore]
        return self._uniform(operator.eq, other)

    def __ne__(self, other: Any) -> bool:  # type: ignore[override,unused-ignore]
        return any(a != b for a, b in zip(self.values, self._others(other)))

    def __lt__(self, other: Any) -> bool:
        return self._uniform(operator.lt, other)

    def __le__(self, other: Any) -> bool:
        return self._uniform(operator.le, other)

    def __gt__(self, other: Any) -> bool:
        return self._uniform(operator.gt, other)

    def __ge__(self, other: Any) -> bool:
        return self._uniform(operator.ge, other)

    def __bool__(self) -> bool:
        return self._uniform(lambda a, _: a, None)

    def _apply(self, function: Callable[[Any, Any], Any], other: Any, reflected: bool = False) -> Any:
        pairs = zip(self._others(other), self.values) if reflected else zip(self.values, self._others(other))
        return merge(tuple(function(a, b) for a, b in pairs), self.fitter)

    def __add__(self, other: Any) -> Any:
        return self._apply(operator.add, other)

    def __radd__(self, other: Any) -> Any:
        return self._apply(operator.add, other, True)

    def __sub__(self, other: Any) -> Any:
        return self._apply(operator.sub, other)

    def __rsub__(self, other: Any) -> Any:
        return self._apply(operator.sub, other, True)

    def __mul__(self, other: Any) -> Any:
        return self._apply(operator.mul, other)

    def __rmul__(self, other: Any) -> Any:
        return self._apply(operator.mul, other, True)

    def __floordiv__(self, other: Any) -> Any:
        return self._apply(operator.floordiv, other)

    def __mod__(self, other: Any) -> Any:
        return self._apply(operator.mod, other)

    def __neg__(self) -> Any:
        return merge(tuple(-v for v in self.values), self.fitter)

    def __len__(self) -> int:
        lengths = {len(v) for v in self.values}
        if len(lengths) > 1:
            raise NotUniform("the uses of a block have values of different lengths")
        return lengths.pop()

    def __getitem__(self, index: Any) -> Any:
        return merge(tuple(v[index] for v in self.values), self.fitter)

    def __iter__(self):
        return iter([self[i] for i in range(len(self))])
