"""Warnings a careful reviewer would give about a checked graph."""

from __future__ import annotations

from netdsl.diagnostics import DiagnosticSink
from netdsl.ir.graph import Graph, Node
from netdsl.ops.base import fmt_shape


def _is(node: Node, trait: str) -> bool:
    return node.opdef.has(trait)


def lint(graph: Graph, sink: DiagnosticSink) -> None:
    for node in graph:
        consumers = graph.consumers(node.name)
        for check in _CHECKS:
            check(graph, node, consumers, sink)


def lint_explaining(graph: Graph, sink: DiagnosticSink) -> None:
    """On a graph with errors: the warnings that can explain an error, for the nodes that got a shape."""
    for node in graph:
        if node.shape is not None:
            for check in _EXPLAINING:
                check(graph, node, graph.consumers(node.name), sink)


def _plural(n: int, word: str) -> str:
    return word if n == 1 else f"{n} {word}s"


def _subsamples(node: Node) -> bool:
    """A 1x1 window with a stride (ResNet's projection shortcut) skips pixels by design."""
    return all(k == 1 for k in node.attrs["kernel"])


AXIS_WORDS = {1: ("position",), 2: ("row", "column"), 3: ("slice", "row", "column")}


def _times(values: tuple[int, ...]) -> str:
    """`2` when every axis has the same value, else `2x3`."""
    return str(values[0]) if len(set(values)) == 1 else fmt_shape(values)


def _unread(graph: Graph, node: Node, consumers: list[Node], sink: DiagnosticSink) -> None:
    if not _is(node, "windowed") or node.attrs.get("pad") == "same" or _subsamples(node):
        return
    unread = node.attrs["unread"]
    if not any(unread):
        return
    source = graph[node.inputs[0]].shape
    kernel, stride = node.attrs["kernel"], node.attrs["stride"]
    words = AXIS_WORDS[len(unread)]
    dropped = " and ".join(f"the last {_plural(n, word)}" for n, word in zip(unread, words) if n)
    conv = _is(node, "conv")
    what = "convolves" if conv else "pools"
    odd = " an odd size" if not conv and set(stride) == {2} and any(i % 2 for i in source[1:]) else ""
    exact = tuple(i + (s - n % s) % s if n else i for i, s, n in zip(source[1:], stride, unread))
    message = (
        f"{node.name} {what}{odd} {fmt_shape(source[1:])} with {fmt_shape(kernel)} windows at stride "
        f"{_times(stride)}: {dropped} of its input are never read "
        f"(output {fmt_shape(node.shape)})"
    )
    hint = f"an input of {fmt_shape(exact)} would divide exactly" + (
        "; or use pad=same" if conv else "; pad=same or ceil=true keeps every pixel"
    )
    sink.warning(message, node.span, hint)


def _skipping_stride(graph: Graph, node: Node, consumers: list[Node], sink: DiagnosticSink) -> None:
    if not _is(node, "windowed") or _subsamples(node):
        return
    kernel, stride = node.attrs["kernel"], node.attrs["stride"]
    dilation = node.attrs.get("dilation", (1,) * len(kernel))
    if any(s > d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation)):
        sink.warning(
            f"{node.name} has stride {fmt_shape(stride)} larger than its {fmt_shape(kernel)} window: "
            "pixels between the windows are never read",
            node.span,
        )


def _window_past_input(graph: Graph, node: Node, consumers: list[Node], sink: DiagnosticSink) -> None:
    """A window larger than its input sees mostly padding, which also dwarfs the input in memory and time."""
    if not _is(node, "windowed") or "pads" not in node.attrs:
        return
    size = graph[node.inputs[0]].shape[1:]
    kernel, dilation, pads = node.attrs["kernel"], node.attrs.get("dilation", (1, 1)), node.attrs["pads"]
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padding = tuple(pads[i] + pads[i + len(kernel)] for i in range(len(kernel)))
    if any(e > s and p > s for e, s, p in zip(extent, size, padding)):
        sink.warning(
            f"{node.name}'s {fmt_shape(extent)} window is larger than its {fmt_shape(size)} input: "
            f"padding of {fmt_shape(padding)} makes up most of what it reads",
            node.span,
            "a window no larger than the input (a global pool gives one value per channel)",
        )


def _softmax_not_last(graph: Graph, node: Node, consumers: list[Node], sink: DiagnosticSink) -> None:
    if _is(node, "distribution") and consumers:
        sink.warning(
            f"{node.name} applies {node.op} but is not the last layer ({consumers[0].name} follows)",
            node.span,
            "softmax belongs at the output; inside a network it squashes features",
        )


def _channels_last_input(graph: Graph, node: Node, consumers: list[Node], sink: DiagnosticSink) -> None:
    if _is(node, "input") and len(node.shape) == 3 and node.attrs.get("layout") == "chw":
        c, h, w = node.shape
        if w in (1, 3) and c > 4 and h > 4:
            sink.warning(
                f"input({c}, {h}, {w}) reads as {c} channels of {h}x{w}",
                node.span,
                f"for channels-last data write input({c}, {h}, {w}, layout=hwc) or input({w}, {c}, {h})",
            )


def _bias_before_batchnorm(graph: Graph, node: Node, consumers: list[Node], sink: DiagnosticSink) -> None:
    if (
        (_is(node, "conv") or _is(node, "dense"))
        and "bias" in node.params
        and len(consumers) == 1
        and _is(consumers[0], "centering")
    ):
        sink.warning(
            f"{node.name}'s bias is cancelled by {consumers[0].name}, which subtracts the mean",
            node.span,
            "write bias=false to save the parameters",
        )


def _repeated_activation(graph: Graph, node: Node, consumers: list[Node], sink: DiagnosticSink) -> None:
    if _is(node, "activation") and _is(node, "elementwise") and not _is(node, "noop") and len(node.inputs) == 1:
        source = graph[node.inputs[0]]
        if source.op == node.op and not node.implicit:
            sink.warning(
                f"{node.name} repeats the {node.op} of {source.name}",
                node.span,
                f"{node.op} twice in a row does nothing more than once",
            )


def _linear_after_linear(graph: Graph, node: Node, consumers: list[Node], sink: DiagnosticSink) -> None:
    if not _is(node, "dense") or len(consumers) != 1:
        return
    following = consumers[0]
    if _is(following, "regularization"):
        later = graph.consumers(following.name)
        following = later[0] if len(later) == 1 else following
    if _is(following, "dense"):
        sink.warning(
            f"{node.name} and {following.name} have no activation between them, so together they are one linear map",
            following.span,
            "add an activation such as relu between them",
        )


def _linear(node: Node) -> bool:
    """A layer that adds no nonlinearity between two convs (dropout, batchnorm, identity): transparent, no pool."""
    return _is(node, "transparent") and not _is(node, "pool")


def _next_conv_without_activation(graph: Graph, node: Node) -> Node | None:
    """The conv that node's single-consumer path reaches through linear layers only."""
    consumers = graph.consumers(node.name)
    while len(consumers) == 1:
        following = consumers[0]
        if _is(following, "conv"):
            return following
        if not _linear(following):
            return None
        consumers = graph.consumers(following.name)
    return None


def _conv_after_conv(graph: Graph, node: Node, consumers: list[Node], sink: DiagnosticSink) -> None:
    """conv - conv with no activation between: one linear map. Left alone: a grouped first conv (with a 1x1
    conv after it, a depthwise-separable factorization) and a linear bottleneck, where the first conv has
    fewer channels than both its input and the second conv's output (MobileNetV2's projection)."""
    if not _is(node, "conv") or node.attrs.get("groups", 1) != 1:
        return
    following = _next_conv_without_activation(graph, node)
    if following is not None and not _bottleneck(graph[node.inputs[0]].shape[0], node.shape[0], following.shape[0]):
        sink.warning(
            f"{node.name} and {following.name} are convolutions with no activation between them, "
            "so together they are one linear map",
            following.span,
            f"add an activation such as relu after {node.name} (or activation=relu on it)",
        )


def _bottleneck(channels_in: int, middle: int, channels_out: int) -> bool:
    """A low-rank factorization: the narrow middle is the point, not a wasted layer."""
    return middle < channels_in and middle < channels_out


def _noop(graph: Graph, node: Node, consumers: list[Node], sink: DiagnosticSink) -> None:
    if _is(node, "regularization") and node.attrs.get("rate") == 0:
        sink.warning(f"{node.name} has rate 0 and does nothing", node.span)
    if _is(node, "reshape") and not node.implicit and len(graph[node.inputs[0]].shape) == 1:
        sink.warning(f"{node.name} flattens a vector and does nothing", node.span)


def _ids_outside_the_table(graph: Graph, node: Node, consumers: list[Node], sink: DiagnosticSink) -> None:
    """A lookup (embedding) after an input that is not token ids, or whose ids can pass the table's rows."""
    if not _is(node, "lookup"):
        return
    source = graph[node.inputs[0]]
    tokens, rows = source.attrs.get("tokens"), node.attrs["vocabulary"]
    if not _is(source, "input"):
        sink.warning(
            f"{node.name} reads {source.name}'s values as token ids",
            node.span,
            f"an embedding belongs right after input(L, tokens={rows})",
        )
    elif tokens is None:
        sink.warning(
            f"{node.name} reads {source.name}'s values as token ids, but {source.name} does not say they are",
            source.span,
            f"write input({source.shape[0]}, tokens={rows}): data are then checked to hold integer ids below {rows}",
        )
    elif tokens > rows:
        sink.warning(
            f"{source.name} takes ids below {tokens}, but {node.name}'s table has {rows} rows: ids "
            f"{rows}..{tokens - 1} have no row",
            node.span,
            f"write embedding({tokens}, ...)",
        )


_CHECKS = (
    _unread,
    _skipping_stride,
    _window_past_input,
    _softmax_not_last,
    _channels_last_input,
    _bias_before_batchnorm,
    _repeated_activation,
    _linear_after_linear,
    _conv_after_conv,
    _noop,
    _ids_outside_the_table,
)
# checks that read only a node and its inputs: on a graph with errors they can say why a shape ran out
_EXPLAINING = (_channels_last_input, _unread, _skipping_stride, _window_past_input)
