"""Repeated structure as `block` definitions: each merge at the top level with the activations after it is a
unit; units that are the same but for their whole numbers become one block whose parameters are the numbers
that differ, and consecutive equal uses become `name(args) * N` (a ResNet-50 is a few blocks).

The weights of a program with blocks are keyed by the compiler's own layer names, paired in order with the
layers that hold them (netdsl.importer.blocked_weights)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from netdsl.importer.layers import Layer
from netdsl.importer.structure import Item, Merge

_WHOLE = re.compile(r"(?<![\w.\-])\d+(?![\w.])")  # whole numbers, not parts of floats, sizes or names
MIN_USES = 2


@dataclass
class Unit:
    items: list[Item]
    text: list[str]  # the unit's lines without labels

    @property
    def form(self) -> str:
        return _WHOLE.sub("#", "\n".join(self.text))

    @property
    def numbers(self) -> list[str]:
        return _WHOLE.findall("\n".join(self.text))


def flat_layers(items: list[Item]) -> list[Layer]:
    """Every layer in the order the compiler makes them: a merge's branches, in order, before the merge."""
    layers: list[Layer] = []
    for item in items:
        if isinstance(item, Merge):
            for branch in item.branches:
                layers += flat_layers(branch)
            layers.append(item.layer)
        else:
            layers.append(item)
    return layers


def units(items: list[Item], render) -> list[Unit | Item]:
    """The top-level chain as units (a merge and the weightless activations after it) and other items."""
    result: list[Unit | Item] = []
    for item in items:
        last = result[-1] if result else None
        trails = isinstance(last, Unit) and isinstance(item, Layer) and not item.weights and item.op.has("activation")
        if isinstance(item, Merge):
            result.append(Unit([item], []))
        elif trails and isinstance(last, Unit):
            last.items.append(item)
        else:
            result.append(item)
    for entry in result:
        if isinstance(entry, Unit):
            entry.text = render(entry.items)
    return result


def _parameters(group: list[Unit]) -> list[int]:
    """Positions of the numbers that differ between the units of a group."""
    columns = list(zip(*(unit.numbers for unit in group)))
    return [i for i, column in enumerate(columns) if len(set(column)) > 1]


def _body(unit: Unit, varying: list[int]) -> str:
    names = {index: f"p{k + 1}" for k, index in enumerate(varying)}
    counter = iter(range(len(unit.numbers)))
    return _WHOLE.sub(lambda m: names.get(next(counter), m.group(0)), "\n".join(unit.text))


def block_program(entries: list[Unit | Item], render) -> tuple[list[str], list[str]] | None:
    """(block definitions, network body lines), or None when no unit repeats."""
    groups: dict[str, list[Unit]] = {}
    for entry in entries:
        if isinstance(entry, Unit):
            groups.setdefault(entry.form, []).append(entry)
    repeated = {form: group for form, group in groups.items() if len(group) >= MIN_USES}
    if not repeated:
        return None
    definitions, calls = [], {}
    for index, group in enumerate(repeated.values()):
        name = f"unit{chr(ord('a') + index)}" if index < 26 else f"unit{index}"
        varying = _parameters(group)
        params = ", ".join(f"p{k + 1}" for k in range(len(varying)))
        definitions += [
            f"block {name}({params}) {{",
            *("    " + line for line in _body(group[0], varying).split("\n")),
            "}",
            "",
        ]
        for unit in group:
            calls[id(unit)] = f"{name}({', '.join(unit.numbers[i] for i in varying)})"
    return definitions, _body_lines(entries, calls, render)


def _body_lines(entries: list[Unit | Item], calls: dict[int, str], render) -> list[str]:
    lines: list[str] = []
    pending: list[Item] = []
    previous, count = None, 0

    def flush_call() -> None:
        nonlocal previous, count
        if previous is not None:
            lines.append(previous if count == 1 else f"{previous} * {count}")
        previous, count = None, 0

    for entry in entries:
        call = calls.get(id(entry))
        if call is None:
            flush_call()
            pending += entry.items if isinstance(entry, Unit) else [entry]
            continue
        if pending:
            lines += render(pending)
            pending = []
        if call == previous:
            count += 1
        else:
            flush_call()
            previous, count = call, 1
    flush_call()
    if pending:
        lines += render(pending)
    return lines
