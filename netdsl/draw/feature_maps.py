"""`netdsl show`: what a layer sees and makes for one input.

For a conv layer, seed 002's figure 18-34, one row each: the kernels, the kernels blurred, the conv
result, the result after the activation, and after the pooling that follows; a row the network has
no layer for is left out with a note. For any other layer, a grid of its feature maps (or its values).
With a shift, the maps of the shifted input sit beside the originals (seed 004's pooling demo).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

import numpy as np

from netdsl.backends.numpy.intermediates import layer_output
from netdsl.ir.graph import Graph, Node

MAX_MAPS = 16  # columns of a conv figure
MAX_GRID = 64  # maps of a grid
BLUR_SCALE = 8  # a kernel pixel becomes 8x8 before blurring


@dataclass
class Row:
    """One row of the figure: a title and its images (C x H x W) for the input and the shifted input."""

    title: str
    maps: np.ndarray
    shifted: np.ndarray | None = None
    layer: str | None = None  # the layer whose output it shows (None for the kernel rows)


@dataclass
class Figure:
    title: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    columns: int = MAX_MAPS  # images per line of a row
    limit: int = MAX_MAPS  # images per row at most
    differences: list[str] = field(default_factory=list)  # one line per layer with a shifted input


def _has(node: Node, trait: str) -> bool:
    return node.opdef.has(trait)


def _next(graph: Graph, node: Node) -> Node | None:
    consumers = graph.consumers(node.name)
    return consumers[0] if len(consumers) == 1 else None


def following(graph: Graph, start: Node, trait: str, passing: tuple[str, ...]) -> Node | None:
    """The first layer with `trait` after `start`, along single consumers, over layers with a `passing` trait."""
    node = _next(graph, start)
    while node is not None:
        if _has(node, trait):
            return node
        if not any(_has(node, t) for t in passing):
            return None
        node = _next(graph, node)
    return None


def shift_image(x: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """x (N, C, H, W) moved right by dx and down by dy pixels; what comes in is zero."""
    out = np.zeros_like(x)
    h, w = x.shape[-2:]
    src_y, dst_y = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    src_x, dst_x = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., dst_y, dst_x] = x[..., src_y, src_x]
    return out


def blurred(kernels: np.ndarray) -> np.ndarray:
    """Each kernel enlarged BLUR_SCALE times and smoothed by a Gaussian: its pattern without the blocks."""
    big = kernels.repeat(BLUR_SCALE, axis=-2).repeat(BLUR_SCALE, axis=-1)
    sigma = BLUR_SCALE * 0.6
    radius = int(3 * sigma)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    for axis in (-2, -1):
        pad = [(0, 0)] * big.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(big, pad, mode="edge")
        big = np.apply_along_axis(lambda line: np.convolve(line, taps, mode="valid"), axis, padded)
    return big


def kernel_images(weight: np.ndarray) -> tuple[np.ndarray, str]:
    """The (F, kh, kw) images of a conv weight (F, C, kh, kw): the only input channel, or the channel mean."""
    if weight.shape[1] == 1:
        return weight[:, 0], "kernels"
    return weight.mean(axis=1), f"kernels (mean over {weight.shape[1]} input channels)"


def _outputs(executor, x: np.ndarray, shifted: np.ndarray | None, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    original = layer_output(executor, x, name)[0]
    moved = layer_output(executor, shifted, name)[0] if shifted is not None else None
    return original, moved


def conv_figure(executor, node: Node, x: np.ndarray, shifted: np.ndarray | None) -> Figure:
    """Figure 18-34 for the conv layer `node`."""
    graph = executor.graph
    kernels, kernel_title = kernel_images(executor.params[f"{node.name}.weight"])
    rows = [Row(kernel_title, kernels), Row("kernels blurred", blurred(kernels))]
    rows.append(Row(f"conv result ({node.name})", *_outputs(executor, x, shifted, node.name), node.name))
    notes = []
    activation = following(graph, node, "activation", ("normalization",))
    if activation is not None:
        rows.append(
            Row(
                f"after {activation.op} ({activation.name})",
                *_outputs(executor, x, shifted, activation.name),
                activation.name,
            )
        )
    else:
        notes.append(f"no activation follows {node.name}: that row is left out")
    pool = following(graph, activation or node, "pool", ("normalization", "activation", "regularization"))
    if pool is not None and len(pool.shape) == 3 and pool.shape[1:] != (1, 1):
        rows.append(Row(f"after {pool.op} ({pool.name})", *_outputs(executor, x, shifted, pool.name), pool.name))
    else:
        notes.append(f"no pooling follows {(activation or node).name}: that row is left out")
    count = kernels.shape[0]
    if count > MAX_MAPS:
        notes.append(f"the first {MAX_MAPS} of {count} filters are shown")
    return Figure(f"{graph.name}: {node.name}, {node.op}({count} filters)", rows, notes, min(count, MAX_MAPS))


def grid_figure(executor, node: Node, x: np.ndarray, shifted: np.ndarray | None) -> Figure:
    """The feature maps of any layer (or its values, for a vector)."""
    maps, moved = _outputs(executor, x, shifted, node.name)
    notes = []
    if maps.ndim == 3 and maps.shape[0] > MAX_GRID:
        notes.append(f"the first {MAX_GRID} of {maps.shape[0]} maps are shown")
    count = min(len(maps), MAX_GRID) if maps.ndim == 3 else 1
    columns = max(1, int(np.ceil(np.sqrt(count))))
    row = Row(f"{node.name} output", maps, moved, node.name)
    return Figure(f"{executor.graph.name}: {node.name}, {node.op}", [row], notes, columns, MAX_GRID)


def build_figure(executor, node: Node, x: np.ndarray, shift: tuple[int, int] | None) -> Figure:
    """The figure for `node` and one input sample x (1, C, H, W); with `shift`, the shifted input's maps too."""
    shifted = shift_image(x, *shift) if shift and x.ndim == 4 else None
    conv = _has(node, "conv") and f"{node.name}.weight" in executor.params
    figure = conv_figure(executor, node, x, shifted) if conv else grid_figure(executor, node, x, shifted)
    if shifted is not None:
        figure.differences = [difference_line(row) for row in figure.rows if row.shifted is not None]
    return figure


def difference_line(row: Row) -> str:
    """`maxpool_1: largest difference per map: 0 0.031 ...` between the input's and the shifted input's maps."""
    original, moved = row.maps, row.shifted
    if original.ndim == 1:
        return f"{row.layer}: largest difference {float(np.max(np.abs(original - moved))):.4g}"
    per_map = np.abs(original - moved).reshape(len(original), -1).max(axis=1)
    return f"{row.layer}: largest difference per map: " + " ".join(f"{v:.3g}" for v in per_map)


# ---- drawing ----


def _images(maps: np.ndarray | None, limit: int) -> list[np.ndarray]:
    if maps is None:
        return []
    return [maps[None, :]] if maps.ndim == 1 else list(maps[:limit])


def _row_label(title: str) -> str:
    return title.replace(" (", "\n(")


def _text_inches(fig, lines: list[str], size: float) -> float:
    """The width in inches of the widest line at `size` points, as the figure's renderer draws it."""
    from matplotlib.font_manager import FontProperties

    renderer, font = fig.canvas.get_renderer(), FontProperties(size=size)
    return (
        max((renderer.get_text_width_height_descent(line, font, ismath=False)[0] for line in lines), default=0.0)
        / fig.dpi
    )


def save_figure(figure: Figure, handle: IO[bytes], fmt: str = "png") -> None:
    """Rows of grey images (each scaled to its own range); the shifted input's to the right of the originals."""
    from netdsl.draw.raster import pyplot

    plt = pyplot()
    rows = [(row, _images(row.maps, figure.limit), _images(row.shifted, figure.limit)) for row in figure.rows]
    columns = figure.columns
    shifted = any(moved for _, _, moved in rows)
    total = columns * (2 if shifted else 1) + (1 if shifted else 0)
    lines = [-(-len(images) // columns) for _, images, _ in rows]
    cell = 1.05 if total <= 17 else 0.75
    fig = plt.figure(dpi=100)
    labels = [line for row in figure.rows for line in _row_label(row.title).splitlines()]
    left = max(1.7, _text_inches(fig, labels, 8) + 0.3)  # the row labels, measured with the renderer's font
    width, height = left + 0.2 + cell * total, 0.8 + 0.3 * (len(figure.notes) + 1) + cell * 1.1 * sum(lines)
    fig.set_size_inches(width, height)
    spec = fig.add_gridspec(
        sum(lines),
        total,
        left=left / width,
        right=0.99,
        wspace=0.08,
        hspace=0.3,
        top=1 - 0.55 / height,
        bottom=(0.2 + 0.3 * len(figure.notes)) / height,
    )
    first_line = 0
    for (row, images, moved), count in zip(rows, lines):
        for offset, group in ((0, images), (columns + 1, moved)):
            for i, image in enumerate(group):
                ax = fig.add_subplot(spec[first_line + i // columns, offset + i % columns])
                ax.imshow(image, cmap="gray", interpolation="nearest", aspect="equal" if image.shape[0] > 1 else "auto")
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0 and offset == 0:
                    ax.set_ylabel(_row_label(row.title), rotation=0, ha="right", va="center", fontsize=8)
                if i == 0 and offset:
                    ax.set_title("shifted input", fontsize=8, loc="left")
        first_line += count
    fig.suptitle(figure.title, fontsize=10)
    for i, note in enumerate(figure.notes):
        fig.text(
            0.01, (0.12 + 0.3 * (len(figure.notes) - 1 - i)) / height, f"note: {note}", fontsize=8, color="#7a4b00"
        )
    fig.savefig(handle, format=fmt, metadata={"Software": "netdsl"} if fmt == "png" else None)
    plt.close(fig)
