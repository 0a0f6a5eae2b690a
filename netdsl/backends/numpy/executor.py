"""Runs a checked graph on NumPy: forward, backward, parameters. NHWC inside, ONNX layouts outside."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from netdsl.backends.numpy.init import init_tensor
from netdsl.backends.numpy.registry import Ctx, Kernel, kernels
from netdsl.ir.decompose import expand
from netdsl.ir.graph import Graph, Node
from netdsl.ir.init import HEAD_SCALE, head_layer, init_plan, init_scheme
from netdsl.memory import check_batch_memory, require_memory
from netdsl.ops.base import OpDef

Array = np.ndarray
__all__ = ["HEAD_SCALE", "Ctx", "Executor", "head_layer", "init_scheme", "runnable", "to_external", "to_internal"]


def runnable(graph: Graph, decompose: tuple[OpDef, ...] = ()) -> Graph:
    """The graph with every op that has no NumPy kernel (or is listed in `decompose`) replaced by its
    decomposition."""
    available = kernels()
    avoided = {op.name for op in decompose}
    return expand(graph, lambda op: op.name in available and op.name not in avoided)


def to_internal(x: Array) -> Array:
    """NCHW -> NHWC (images; likewise sequences and volumes, channels last); vectors unchanged."""
    return np.ascontiguousarray(np.moveaxis(x, 1, -1)) if x.ndim >= 3 else x


def to_external(y: Array) -> Array:
    """NHWC -> NCHW (images; likewise sequences and volumes, channels first); vectors unchanged."""
    return np.ascontiguousarray(np.moveaxis(y, -1, 1)) if y.ndim >= 3 else y


class Executor:
    """Forward and backward over a checked graph; parameters keyed `<layer>.<param>`."""

    def __init__(self, graph: Graph, dtype: Any = np.float32, decompose: tuple[OpDef, ...] = ()):
        """`decompose` lists ops to run through their decomposition even where a kernel exists (tests)."""
        self.graph = graph
        self.dtype = np.dtype(dtype)
        values = sum(n.param_count + n.buffer_count for n in graph)
        require_memory(values * self.dtype.itemsize, f"the weights of network {graph.name}")
        self.params: dict[str, Array] = {}
        self.buffers: dict[str, Array] = {}
        self._caches: dict[str, Any] = {}
        self._run = runnable(graph, decompose)
        self._input = self._run.input.name
        # each layer's kernel, looked up once here rather than at every step
        self._steps: list[tuple[Node, Kernel]] = [
            (node, kernels()[node.op]) for node in self._run if not node.opdef.has("input")
        ]
        self._consumers = {n.name: [c.name for c in self._run.consumers(n.name)] for n in self._run}
        self._needs_dx = self._needs_input_gradient()
        self._fits: set[tuple[int, bool]] = set()  # (batch, training) already estimated to fit

    # -- parameters --
    def init_params(self, seed: int = 0) -> None:
        """Seeded initialization as netdsl.ir.init plans it: He/Glorot weights (the logits layer scaled by
        HEAD_SCALE), zero biases, batchnorm weight 1 and bias 0, running statistics 0 and 1."""
        rng = np.random.default_rng(seed)
        self.params, self.buffers = {}, {}
        for tensor in init_plan(self.graph):
            value = init_tensor(tensor.shape, tensor.how, tensor.scale, rng, self.dtype)
            (self.buffers if tensor.buffer else self.params)[tensor.key] = value

    def state_dict(self) -> dict[str, Array]:
        return {**self.params, **self.buffers}

    def load_state_dict(self, tensors: dict[str, Array]) -> None:
        """Take every parameter and buffer (names and shapes already checked by the caller)."""
        trainable = {f"{n.name}.{k}" for n in self.graph for k in n.params}
        self.params = {k: np.array(v, dtype=self.dtype) for k, v in tensors.items() if k in trainable}
        self.buffers = {k: np.array(v, dtype=self.dtype) for k, v in tensors.items() if k not in trainable}

    # -- running --
    def forward(
        self,
        x: Array,
        training: bool = False,
        rng: np.random.Generator | None = None,
        stop_before: str | None = None,
        record: dict[str, Array] | None = None,
    ) -> Array:
        """Output for NCHW (or vector) input; `stop_before` returns the input of that node instead.
        In training, `record` receives every layer's output (the backend's layout: NHWC images)."""
        self._require_memory(len(x), training)
        ctx = Ctx(self.params, self.buffers, training, rng)
        values: dict[str, Array] = {}
        self._caches = {}
        remaining = {name: len(consumers) for name, consumers in self._consumers.items()}
        last = self._run.output.name
        values[self._input] = to_internal(np.asarray(x, dtype=self.dtype))
        if stop_before == self._input:
            last = self._input
        for node, kernel in self._steps:
            if node.name == stop_before:
                last = node.inputs[0]
                break
            values[node.name], self._caches[node.name] = kernel.forward(node, [values[i] for i in node.inputs], ctx)
            if not training:
                self._release(node, values, remaining)
        if record is not None:
            record.update(values)
        return to_external(values[last])

    def _require_memory(self, batch: int, training: bool) -> None:
        """Refuse, naming the layer, a batch whose padded and im2col buffers would not fit (before allocating)."""
        if (batch, training) not in self._fits:
            check_batch_memory(self.graph, batch, self.dtype.itemsize, training)
            self._fits.add((batch, training))

    def _release(self, node: Node, values: dict[str, Array], remaining: dict[str, int]) -> None:
        """At inference, drop inputs nobody else needs (memory for big nets)."""
        self._caches.pop(node.name, None)
        for name in node.inputs:
            remaining[name] -= 1
            if remaining[name] == 0:
                values.pop(name, None)

    def backward(self, dout: Array, start: str | None = None) -> dict[str, Array]:
        """Gradients of every parameter, from the gradient at the output (or at `start`'s output)."""
        grads: dict[str, Array] = {}
        pending: dict[str, Array] = {start or self._run.output.name: to_internal(dout)}
        for node, kernel in reversed(self._steps):
            dy = pending.pop(node.name, None)
            if dy is None:
                continue
            dxs, param_grads = kernel.backward(node, dy, self._caches[node.name], self._needs_dx[node.name])
            for key, grad in param_grads.items():
                grads[f"{node.name}.{key}"] = grad
            for name, dx in zip(node.inputs, dxs):
                if dx is not None:
                    pending[name] = pending[name] + dx if name in pending else dx
        self._caches = {}
        return grads

    def _needs_input_gradient(self) -> dict[str, bool]:
        """A node needs dx unless everything upstream of it is the input (no parameters above)."""
        needs: dict[str, bool] = {}
        for node in self._run:
            needs[node.name] = any(i != self._input and (needs[i] or bool(self._run[i].params)) for i in node.inputs)
        return needs

    def input_gradient(
        self, x: Array, dout: Array | Callable[[Array], Array], layer: str | None = None
    ) -> tuple[Array, Array]:
        """(d(sum(dout * A)) / dx, A) where A is the output of `layer` (default: the network's output) at inference.

        `dout` is an array of A's shape or a function of A that returns one (an objective's gradient, as
        feature visualization needs). Parameters are left as they are; nothing is kept between calls.
        """
        last = layer or self._run.output.name
        if last not in self._consumers:
            raise KeyError(f"network {self.graph.name} has no layer {last!r}")
        ctx = Ctx(self.params, self.buffers, False, None)
        values: dict[str, Array] = {self._input: to_internal(np.asarray(x, dtype=self.dtype))}
        caches: dict[str, Any] = {}
        for node, kernel in self._steps:
            if last == self._input:
                break
            values[node.name], caches[node.name] = kernel.forward(node, [values[i] for i in node.inputs], ctx)
            if node.name == last:
                break
        activation = to_external(values[last])
        grad_out = dout(activation) if callable(dout) else dout
        pending: dict[str, Array] = {last: to_internal(np.asarray(grad_out, dtype=self.dtype))}
        for node, kernel in reversed(self._steps):
            dy = pending.pop(node.name, None)
            if dy is None:
                continue
            dxs, _ = kernel.backward(node, dy, caches[node.name], True)
            for name, dx in zip(node.inputs, dxs):
                if dx is not None:
                    pending[name] = pending[name] + dx if name in pending else dx
        if self._input not in pending:  # nothing differentiable reaches the input (token ids)
            raise ValueError(f"network {self.graph.name}'s output has no gradient with respect to its input")
        return to_external(pending[self._input]), activation

    def layer_shapes(self, x: Array) -> dict[str, tuple[int, ...]]:
        """Each layer's output shape (C x H x W, batch dropped) on a real forward pass at inference."""
        self._require_memory(len(x), False)
        ctx = Ctx(self.params, self.buffers, False, None)
        values: dict[str, Array] = {self._input: to_internal(np.asarray(x, dtype=self.dtype))}
        for node, kernel in self._steps:
            values[node.name], _ = kernel.forward(node, [values[i] for i in node.inputs], ctx)
        return {node.name: tuple(to_external(values[node.name]).shape[1:]) for node in self.graph}

    def predict(self, x: Array, batch_size: int = 256) -> Array:
        """Inference outputs for NCHW (or vector) input, in batches."""
        x = np.asarray(x)
        outputs = [self.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.concatenate(outputs) if outputs else np.zeros((0,) + self.graph.output.shape, self.dtype)
