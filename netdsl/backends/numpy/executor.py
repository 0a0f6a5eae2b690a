"""Runs a checked graph on NumPy: forward, backward, parameters. NHWC inside, ONNX layouts outside."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from netdsl.backends.numpy import kernels as K
from netdsl.backends.numpy.init import init_batchnorm, init_weight
from netdsl.ir.graph import Graph, Node
from netdsl.memory import require_memory

Array = np.ndarray


@dataclass
class Ctx:
    """What a forward step needs besides the inputs: the parameters, the mode and the RNG."""

    params: dict[str, Array]
    buffers: dict[str, Array]
    training: bool
    rng: np.random.Generator | None


# ---- one forward/backward adapter per op: forward(node, xs, ctx) -> (y, cache);
# ---- backward(node, dy, cache) -> (list of dx per input, {param: grad})


def _p(ctx: Ctx, node: Node, name: str) -> Array | None:
    return ctx.params.get(f"{node.name}.{name}")


def _conv_fwd(node: Node, xs: list[Array], ctx: Ctx):
    a = node.attrs
    return K.conv2d_forward(xs[0], _p(ctx, node, "weight"), _p(ctx, node, "bias"), a["stride"], a["pads"],
                            a["dilation"], a["groups"], keep_cols=ctx.training)


def _weighted_bwd(kernel_bwd: Callable):
    """Backward of a layer with a weight and an optional bias (conv, fc)."""
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        dx, dw, db = kernel_bwd(dy, cache, need_dx=need_dx)
        return [dx], {"weight": dw} | ({"bias": db} if db is not None else {})

    return backward


def _fc_fwd(node: Node, xs: list[Array], ctx: Ctx):
    return K.fc_forward(xs[0], _p(ctx, node, "weight"), _p(ctx, node, "bias"))


def _bn_fwd(node: Node, xs: list[Array], ctx: Ctx):
    mean_key, var_key = f"{node.name}.running_mean", f"{node.name}.running_var"
    y, cache, mean, var = K.batchnorm_forward(
        xs[0], _p(ctx, node, "weight"), _p(ctx, node, "bias"), ctx.buffers[mean_key], ctx.buffers[var_key],
        node.attrs["eps"], node.attrs["momentum"], ctx.training)
    if ctx.training:
        ctx.buffers[mean_key], ctx.buffers[var_key] = mean, var
    return y, cache


def _bn_bwd(node: Node, dy: Array, cache, need_dx: bool):
    dx, dgamma, dbeta = K.batchnorm_backward(dy, cache)
    return [dx], {"weight": dgamma, "bias": dbeta}


def _window(kernel_fwd: Callable):
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        a = node.attrs
        return kernel_fwd(xs[0], a["kernel"], a["stride"], a["pads"])

    return forward


def _unary(kernel_fwd: Callable, *attr_names: str):
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return kernel_fwd(xs[0], *(node.attrs[n] for n in attr_names))

    return forward


def _unary_bwd(kernel_bwd: Callable):
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        return [kernel_bwd(dy, cache)], {}

    return backward


def _many_fwd(kernel_fwd: Callable):
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return kernel_fwd(*xs)

    return forward


def _many_bwd(kernel_bwd: Callable):
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        return list(kernel_bwd(dy, cache)), {}

    return backward


def _identity_fwd(node: Node, xs: list[Array], ctx: Ctx):
    return xs[0], None


def _identity_bwd(node: Node, dy: Array, cache, need_dx: bool):
    return [dy], {}


def _dropout_fwd(node: Node, xs: list[Array], ctx: Ctx):
    return K.dropout_forward(xs[0], node.attrs["rate"], ctx.rng, ctx.training)


OPS: dict[str, tuple[Callable, Callable]] = {
    "conv": (_conv_fwd, _weighted_bwd(K.conv2d_backward)),
    "fc": (_fc_fwd, _weighted_bwd(K.fc_backward)),
    "batchnorm": (_bn_fwd, _bn_bwd),
    "maxpool": (_window(K.maxpool2d_forward), _unary_bwd(K.maxpool2d_backward)),
    "avgpool": (_window(K.avgpool2d_forward), _unary_bwd(K.avgpool2d_backward)),
    "globalavgpool": (_unary(K.global_avgpool_forward), _unary_bwd(K.global_avgpool_backward)),
    "globalmaxpool": (_unary(K.global_maxpool_forward), _unary_bwd(K.global_maxpool_backward)),
    "flatten": (_unary(K.flatten_forward), _unary_bwd(K.flatten_backward)),
    "relu": (_unary(K.relu_forward), _unary_bwd(K.relu_backward)),
    "sigmoid": (_unary(K.sigmoid_forward), _unary_bwd(K.sigmoid_backward)),
    "tanh": (_unary(K.tanh_forward), _unary_bwd(K.tanh_backward)),
    "swish": (_unary(K.swish_forward), _unary_bwd(K.swish_backward)),
    "leakyrelu": (_unary(K.leakyrelu_forward, "alpha"), _unary_bwd(K.leakyrelu_backward)),
    "softmax": (_unary(K.softmax_forward), _unary_bwd(K.softmax_backward)),
    "identity": (_identity_fwd, _identity_bwd),
    "dropout": (_dropout_fwd, _unary_bwd(K.dropout_backward)),
    "lrn": (_unary(K.lrn_forward, "size", "alpha", "beta", "k"), _unary_bwd(K.lrn_backward)),
    "add": (_many_fwd(K.add_forward), _many_bwd(K.add_backward)),
    "concat": (_many_fwd(K.concat_forward), _many_bwd(K.concat_backward)),
}

_RELU_LIKE = {"relu", "leakyrelu", "swish"}
_OUTPUT_SIDE = {"softmax", "sigmoid", "identity", "dropout", "flatten"}
HEAD_SCALE = 0.1  # the logits layer starts small so that the first predictions are near uniform
_TRANSPARENT = {"batchnorm", "dropout", "identity", "maxpool", "avgpool"}


def to_internal(x: Array) -> Array:
    """NCHW -> NHWC (images); vectors unchanged."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if x.ndim == 4 else x


def to_external(y: Array) -> Array:
    """NHWC -> NCHW (images); vectors unchanged."""
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2)) if y.ndim == 4 else y


def init_scheme(graph: Graph, node: Node) -> str:
    """He for a layer whose output reaches a relu-like activation, Glorot otherwise."""
    current = node
    while True:
        consumers = graph.consumers(current.name)
        if len(consumers) != 1:
            return "glorot_uniform"
        current = consumers[0]
        if current.op in _RELU_LIKE:
            return "he_normal"
        if current.op not in _TRANSPARENT:
            return "glorot_uniform"


def head_layer(graph: Graph) -> str | None:
    """The last layer with weights when only activations and reshapes follow it (the logits layer)."""
    for node in reversed(graph.nodes):
        if "weight" in node.params and node.op in ("conv", "fc"):
            return node.name
        if node.op not in _OUTPUT_SIDE:
            return None
    return None


class Executor:
    """Forward and backward over a checked graph; parameters keyed `<layer>.<param>`."""

    def __init__(self, graph: Graph, dtype: Any = np.float32):
        self.graph = graph
        self.dtype = np.dtype(dtype)
        values = sum(n.param_count + n.buffer_count for n in graph)
        require_memory(values * self.dtype.itemsize, f"the weights of network {graph.name}")
        self.params: dict[str, Array] = {}
        self.buffers: dict[str, Array] = {}
        self._caches: dict[str, Any] = {}
        self._consumers = {n.name: [c.name for c in graph.consumers(n.name)] for n in graph}
        self._needs_dx = self._needs_input_gradient()

    # -- parameters --
    def init_params(self, seed: int = 0) -> None:
        """Seeded initialization: He/Glorot weights (the logits layer scaled by 0.1), zero biases,
        batchnorm weight 1 and bias 0, running statistics 0 and 1."""
        rng = np.random.default_rng(seed)
        self.params, self.buffers = {}, {}
        head = head_layer(self.graph)
        for node in self.graph:
            if node.op == "batchnorm":
                tensors = init_batchnorm(node.shape[0], self.dtype)
                for key in ("weight", "bias"):
                    self.params[f"{node.name}.{key}"] = tensors[key]
                for key in ("running_mean", "running_var"):
                    self.buffers[f"{node.name}.{key}"] = tensors[key]
                continue
            for key, shape in node.params.items():
                value = init_weight(shape, rng, init_scheme(self.graph, node), self.dtype) if key == "weight" \
                    else np.zeros(shape, self.dtype)
                if key == "weight" and node.name == head:
                    value *= HEAD_SCALE
                self.params[f"{node.name}.{key}"] = value

    def state_dict(self) -> dict[str, Array]:
        return {**self.params, **self.buffers}

    def load_state_dict(self, tensors: dict[str, Array]) -> None:
        """Take every parameter and buffer (names and shapes already checked by the caller)."""
        trainable = {f"{n.name}.{k}" for n in self.graph for k in n.params}
        self.params = {k: np.array(v, dtype=self.dtype) for k, v in tensors.items() if k in trainable}
        self.buffers = {k: np.array(v, dtype=self.dtype) for k, v in tensors.items() if k not in trainable}

    # -- running --
    def forward(self, x: Array, training: bool = False, rng: np.random.Generator | None = None,
                stop_before: str | None = None) -> Array:
        """Output for NCHW (or vector) input; `stop_before` returns the input of that node instead."""
        ctx = Ctx(self.params, self.buffers, training, rng)
        values: dict[str, Array] = {}
        self._caches = {}
        remaining = {name: len(consumers) for name, consumers in self._consumers.items()}
        last = self.graph.output.name
        for node in self.graph:
            if node.name == stop_before:
                last = node.inputs[0]
                break
            if node.op == "input":
                values[node.name] = to_internal(np.asarray(x, dtype=self.dtype))
                continue
            forward, _ = OPS[node.op]
            values[node.name], self._caches[node.name] = forward(node, [values[i] for i in node.inputs], ctx)
            if not training:
                self._release(node, values, remaining)
        return to_external(values[last])

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
        pending: dict[str, Array] = {start or self.graph.output.name: to_internal(dout)}
        for node in reversed(self.graph.nodes):
            dy = pending.pop(node.name, None)
            if dy is None or node.op == "input":
                continue
            _, backward = OPS[node.op]
            dxs, param_grads = backward(node, dy, self._caches[node.name], self._needs_dx[node.name])
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
        for node in self.graph:
            needs[node.name] = any(
                self.graph[i].op != "input" and (needs[i] or bool(self.graph[i].params)) for i in node.inputs)
        return needs

    def layer_shapes(self, x: Array) -> dict[str, tuple[int, ...]]:
        """Each layer's output shape (C x H x W, batch dropped) on a real forward pass at inference."""
        ctx = Ctx(self.params, self.buffers, False, None)
        values: dict[str, Array] = {}
        shapes: dict[str, tuple[int, ...]] = {}
        for node in self.graph:
            if node.op == "input":
                values[node.name] = to_internal(np.asarray(x, dtype=self.dtype))
            else:
                values[node.name], _ = OPS[node.op][0](node, [values[i] for i in node.inputs], ctx)
            shapes[node.name] = tuple(to_external(values[node.name]).shape[1:])
        return shapes

    def predict(self, x: Array, batch_size: int = 256) -> Array:
        """Inference outputs for NCHW (or vector) input, in batches."""
        x = np.asarray(x)
        outputs = [self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.concatenate(outputs) if outputs else np.zeros((0,) + self.graph.output.shape, self.dtype)
