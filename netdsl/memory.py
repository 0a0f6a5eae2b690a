"""Memory estimates made before allocating: a network or a file too big for this machine is one line."""

from __future__ import annotations

import math
import os

from netdsl.ir.graph import Graph, Node
from netdsl.ops.base import Shape


class NotEnoughMemory(MemoryError):
    """An allocation that was estimated first and would not fit; the message is the one line to show."""


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable on Linux, else the free pages; 2**62 if unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**62


def size_text(n: int) -> str:
    """`3.2 GiB`, `12.0 MiB`, `800 bytes`; huge sizes as powers of ten of GiB."""
    if n >= 2**30 * 10**6:
        return f"{n // 2**30:.3g} GiB"
    if n < 2**20:
        return f"{n:,} bytes"
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def require_memory(nbytes: int, what: str) -> None:
    """Raise NotEnoughMemory, naming what needs it, when nbytes exceed the memory available now."""
    have = available_memory()
    if nbytes > have:
        raise NotEnoughMemory(
            f"{what} would take {size_text(nbytes)} of memory, more than the {size_text(have)} available"
        )


def layer_scratch(node: Node, source: Shape) -> tuple[int, str]:
    """Elements per sample a windowed layer's kernels allocate besides its output, and what they are: its
    input copied with the padding around it, and for a learned window (im2col) a column per output pixel."""
    kernel, pads = node.attrs.get("kernel"), node.attrs.get("pads")
    if (
        kernel is None
        or pads is None
        or node.shape is None
        or len(source) != len(kernel) + 1
        or len(pads) != 2 * len(kernel)
    ):
        return 0, ""
    rank = len(kernel)
    padded = (source[0],) + tuple(size + pads[i] + pads[i + rank] for i, size in enumerate(source[1:]))
    elements = math.prod(padded)
    what = f"its input padded to {'x'.join(map(str, padded))}"
    if "weight" in node.params:
        columns = math.prod(node.shape[1:]) * math.prod(kernel) * source[0]
        elements += columns
        what += f" and {columns:,} im2col values"
    return elements, what


def _per_sample(graph: Graph, training: bool) -> tuple[int, int, str, Node | None]:
    """Elements per sample a pass holds at its peak: with `training`, every layer's output (kept for
    backward) and as much again for the gradients and caches, plus the largest layer's buffers (padded
    input, im2col columns, twice for backward); for inference the largest layer alone. Also that
    largest layer, what its buffers are, and their element count."""
    sizes = {node.name: math.prod(node.shape) for node in graph if node.shape is not None}
    largest, largest_what, largest_node = 0, "", None
    for node in graph:
        source = graph[node.inputs[0]].shape if node.inputs else None
        scratch, what = layer_scratch(node, source) if source is not None else (0, "")
        scratch *= 2 if training else 1  # backward allocates a gradient of the same buffers
        held = sum(sizes.get(name, 0) for name in node.inputs) + sizes.get(node.name, 0)
        if scratch + held > largest:
            largest, largest_what, largest_node = scratch + held, what, node
    per_sample = 2 * sum(sizes.values()) + largest if training else largest
    return per_sample, largest, largest_what, largest_node


def training_step_bytes(graph: Graph, batch: int, state_slots: int = 2, itemsize: int = 4) -> int:
    """The memory one training step adds to the weights: their gradients and the optimizer's state
    (`state_slots` arrays per parameter: 2 for Adam, 1 for momentum, 0 for plain SGD) and `batch`
    samples' activations, gradients and buffers. Within 25% of the measured peak on the seed nets
    (bench/train_throughput.py --memory)."""
    params = sum(node.param_count for node in graph)
    return ((1 + state_slots) * params + batch * _per_sample(graph, training=True)[0]) * itemsize


def check_batch_memory(graph: Graph, batch: int, itemsize: int, training: bool) -> None:
    """Raise NotEnoughMemory, naming the layer that needs most, when a forward (and backward) pass over
    `batch` samples would not fit: kept activations plus the largest layer's padded and im2col buffers."""
    per_sample, _, largest_what, largest_node = _per_sample(graph, training)
    need, have = per_sample * batch * itemsize, available_memory()
    if need <= have or largest_node is None:
        return
    where = f"{largest_node.name} ({largest_node.text}, line {largest_node.span.line})"
    detail = f": {largest_what}" if largest_what else ""
    raise NotEnoughMemory(
        f"a batch of {batch} would take {size_text(need)} of memory, more than the "
        f"{size_text(have)} available; most of it for {where}{detail}"
    )
