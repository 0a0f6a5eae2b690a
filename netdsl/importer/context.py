"""The matcher's state: the layers made so far, which layer makes each tensor, aliases for nodes that
compute nothing, each tensor's layout (channels-last between a pair of Transposes) and shape."""

from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np

from netdsl.importer.layers import Layer
from netdsl.importer.reading import Prepared
from netdsl.ops.base import OpDef

NHWC = "nhwc"

Handler = Callable[["Context", Any], None]
HANDLERS: dict[str, Handler] = {}


def handles(*op_types: str) -> Callable[[Handler], Handler]:
    """Register a function as the importer of these ONNX op types."""

    def register(function: Handler) -> Handler:
        for op_type in op_types:
            HANDLERS[op_type] = function
        return function

    return register


def attributes(node: Any) -> dict[str, Any]:
    """An ONNX node's attributes as Python values."""
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


_GENERIC = re.compile(r"([A-Za-z]{0,2}_?\d+)?|onnx::.*")
_PARAM_SUFFIX = re.compile(r"([._/](w|weight|weights|kernel|W|scale|s|gamma|weight_per_channel))?(_\d+)?$")


def node_name(node: Any, constants: dict) -> str:
    """A readable name for a node: its weight's without the suffix (PyTorch's layer1.0.conv1.weight is
    layer1.0.conv1, Caffe2's conv1_w_0 is conv1), else its own, else its output's."""
    weight = node.input[1] if len(node.input) > 1 and node.input[1] in constants else ""
    if weight and not _GENERIC.fullmatch(weight):
        return _PARAM_SUFFIX.sub("", weight) or weight
    if not _GENERIC.fullmatch(node.name):
        return node.name
    return node.output[0]


class Context:
    """Everything one import has built; handlers add layers through it."""

    def __init__(self, prepared: Prepared):
        self.prepared = prepared
        self.layers: list[Layer] = []
        self.producer: dict[str, Layer] = {}
        self.alias: dict[str, str] = {}
        self.layout: dict[str, str] = {}
        self.uses: dict[str, int] = {prepared.output_name: 1}
        for node in prepared.nodes:
            for name in node.input:
                self.uses[name] = self.uses.get(name, 0) + 1
        self.opset = next((o.version for o in prepared.model.opset_import if o.domain in ("", "ai.onnx")), 1)

    # ---- tensors ----

    def resolve(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def constant(self, name: str) -> np.ndarray | None:
        return self.prepared.constants.get(name) if name else None

    def is_constant(self, name: str) -> bool:
        return bool(name) and name in self.prepared.constants

    def data_inputs(self, node: Any) -> list[str]:
        return [name for name in node.input if name and name not in self.prepared.constants]

    def channels_last(self, name: str) -> bool:
        return self.layout.get(name) == NHWC

    def shape(self, name: str) -> tuple[int, ...] | None:
        """The per-sample shape in netdsl's terms (C x H x W), also for a channels-last tensor."""
        full = self.prepared.shapes.get(name)
        if full is None:
            return None
        sample = tuple(full[1:])
        if self.channels_last(name) and len(sample) == 3:
            return (sample[2], sample[0], sample[1])
        return sample

    def sole(self, name: str) -> Layer | None:
        """The layer that makes a tensor which nothing else reads (a pattern may then absorb it)."""
        if self.uses.get(name, 0) != 1:
            return None
        return self.producer.get(self.resolve(name))

    # ---- building ----

    def add(self, layer: Layer, like: str | None = None) -> Layer:
        """Append a layer; its output takes the layout of `like` (its data input)."""
        self.layers.append(layer)
        self.producer[layer.output] = layer
        image = len(self.prepared.shapes.get(layer.output, (0,) * 4)) == 4  # a vector has no layout
        if like is not None and self.channels_last(like) and image:
            self.layout[layer.output] = NHWC
        return layer

    def make(self, op: OpDef | None, node: Any, inputs: list[str], like: str | None = None, **fields: Any) -> Layer:
        """A layer for a node, reading the node's first output; inputs are resolved through aliases. Its layout
        is that of `like`, by default its first input as the node names it."""
        name = node_name(node, self.prepared.constants)
        layer = Layer(op, [self.resolve(i) for i in inputs], node.output[0], name, node.op_type, **fields)
        return self.add(layer, like or (inputs[0] if inputs else None))

    def pending(
        self, node: Any, inputs: list[str], const: Any = None, note: str = "", tag: str = "", like: str | None = None
    ) -> Layer:
        """A node that only a larger pattern can use; left unconsumed it is reported as unsupported."""
        return self.make(None, node, inputs, like=like, const=const, note=note, tag=tag)

    def replace(self, old: Layer, new_output: str) -> None:
        """Move a layer's output to a later tensor (a pattern grew to include the nodes after it)."""
        self.producer.pop(old.output, None)
        self.alias.pop(new_output, None)
        if self.channels_last(old.output):
            self.layout[new_output] = NHWC
        old.output = new_output
        self.producer[new_output] = old

    def drop(self, layer: Layer) -> None:
        """Remove a layer that a pattern absorbed."""
        self.layers.remove(layer)
        if self.producer.get(layer.output) is layer:
            del self.producer[layer.output]

    def same_as(self, node: Any, source: str, layout: str | None = None) -> None:
        """The node computes nothing: its output is its input (optionally seen in another layout)."""
        output = node.output[0]
        self.alias[output] = self.resolve(source)
        chosen = layout if layout is not None else self.layout.get(source)
        if chosen == NHWC:
            self.layout[output] = NHWC
