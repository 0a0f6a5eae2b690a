"""The nested layers as program text: readable labels from the ONNX node names on every layer that has
weights (so the weights file's keys are `<label>.<param>`), one line per conv, fc or merge and the layers that
follow it, branches inside braces."""

from __future__ import annotations

import re

import numpy as np

from netdsl.importer.layers import Layer
from netdsl.importer.structure import Item, Merge
from netdsl.ops import lookup
from netdsl.ops.activation import IDENTITY
from netdsl.ops.core import INPUT

KEYWORDS = {"network", "block", "train", "true", "false"}
_AUTO_NAME = re.compile(r"^([A-Za-z]+)_\d+$")


def identifier(text: str, fallback: str = "net") -> str:
    """A name the language accepts, made from any text."""
    name = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", text)).strip("_")
    if not name:
        return fallback
    return f"n_{name}" if name[0].isdigit() else name


def _components(node_name: str, op_type: str) -> list[str]:
    """The parts of a node name worth keeping: no op-type suffix, no part that the next one repeats
    (PyTorch's `/layer1/layer1.0/conv1/Conv`)."""
    parts = [p for p in re.split(r"[/:]", node_name) if p]
    if len(parts) > 1 and parts[-1].split("_")[0] == op_type:
        parts = parts[:-1]
    return [p for i, p in enumerate(parts) if i + 1 == len(parts) or not parts[i + 1].startswith(p)]


class Labeller:
    """Unique labels that cannot clash with keywords, op names or the names of unlabelled layers."""

    def __init__(self, layers: list[Layer]):
        named = [layer for layer in layers if layer.weights]
        split = {id(layer): _components(layer.node, layer.onnx_op) for layer in named}
        firsts = {parts[0] for parts in split.values() if len(parts) > 1}
        common = len(firsts) == 1 and all(len(parts) > 1 for parts in split.values())
        self.wanted = {key: parts[1:] if common else parts for key, parts in split.items()}
        self.taken: set[str] = set()

    def label(self, layer: Layer) -> str:
        name = identifier("_".join(self.wanted.get(id(layer)) or [layer.op.name]), layer.op.name)
        auto = _AUTO_NAME.match(name)
        clash = auto is not None and lookup(auto.group(1)) not in (None, layer.op)  # another op's automatic name
        if name.lower() in KEYWORDS or lookup(name) is not None or clash:
            name = f"{layer.op.name}_{name}" if not name.startswith(layer.op.name) else f"l_{name}"
        unique, k = name, 2
        while unique in self.taken:
            unique, k = f"{name}_{k}", k + 1
        self.taken.add(unique)
        return unique


def _starts_line(item: Item) -> bool:
    return isinstance(item, Merge) or bool(item.weights) and not item.op.has("normalization")


def layer_text(layer: Layer, labeller: Labeller | None, weights: dict[str, np.ndarray]) -> str:
    if not layer.weights or labeller is None:
        return layer.text()
    label = labeller.label(layer)
    weights.update({f"{label}.{key}": value for key, value in layer.weights.items()})
    return f"{label}: {layer.text()}"


def chain_lines(items: list[Item], labeller: Labeller | None, weights: dict[str, np.ndarray]) -> list[str]:
    """A chain as lines; a merge's branches indented inside its braces."""
    lines: list[str] = []
    current: list[str] = []
    for item in items:
        if _starts_line(item) and current:
            lines.append(" - ".join(current))
            current = []
        if isinstance(item, Merge):
            lines += merge_lines(item, labeller, weights)
            continue
        current.append(layer_text(item, labeller, weights))
    if current:
        lines.append(" - ".join(current))
    return lines


def merge_lines(merge: Merge, labeller: Labeller | None, weights: dict[str, np.ndarray]) -> list[str]:
    lines = [f"{merge.layer.op.name} {{"]
    for index, branch in enumerate(merge.branches):
        body = chain_lines(branch, labeller, weights) or [IDENTITY.name]
        lead = "    " if index == 0 else "  | "
        lines += [lead + body[0]] + ["    " + line for line in body[1:]]
    return lines + ["}"]


def program_text(
    name: str, header: list[str], input_shape: tuple[int, ...], items: list[Item], labeller: Labeller
) -> tuple[str, dict[str, np.ndarray]]:
    """The whole program and the weights keyed by its layer names."""
    weights: dict[str, np.ndarray] = {}
    body = chain_lines(items, labeller, weights)
    return _program(name, header, input_shape, [], body), weights


def _program(name: str, header: list[str], input_shape: tuple[int, ...], blocks: list[str], body: list[str]) -> str:
    lines = [f"# {line}" for line in header] + blocks
    first = f"{INPUT.name}({', '.join(map(str, input_shape))})"
    lines += [f"network {name} {{", *("    " + line for line in [first, *body]), "}"]
    return "\n".join(lines) + "\n"


def blocked_text(
    name: str, header: list[str], input_shape: tuple[int, ...], items: list[Item], labeller: Labeller
) -> str | None:
    """The program with repeated units as blocks (netdsl.importer.blocks), or None when nothing repeats."""
    from netdsl.importer.blocks import block_program, units

    def unlabelled(chain: list[Item]) -> list[str]:
        return chain_lines(chain, None, {})

    def labelled(chain: list[Item]) -> list[str]:
        return chain_lines(chain, labeller, {})

    found = block_program(units(items, unlabelled), labelled)
    if found is None:
        return None
    definitions, body = found
    return _program(name, header, input_shape, definitions, body)
