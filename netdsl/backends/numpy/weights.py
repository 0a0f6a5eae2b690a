"""Weights files: `.npz`, keys `<layer>.<param>` in ONNX layouts, checked against the program."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from netdsl.fileio import atomic_write
from netdsl.ir.graph import Graph


class WeightsError(Exception):
    """A weights file that cannot be used; the message names the file and every problem."""


def expected_tensors(graph: Graph) -> dict[str, tuple[int, ...]]:
    """Every tensor a weights file for this graph holds, with its shape."""
    shapes: dict[str, tuple[int, ...]] = {}
    for node in graph:
        shapes |= {f"{node.name}.{k}": s for k, s in node.params.items()}
        shapes |= {f"{node.name}.{k}": s for k, s in node.buffers.items()}
    return shapes


def save_weights(path: str | Path, tensors: dict[str, np.ndarray]) -> Path:
    """Write an .npz atomically (sorted keys: the same weights give the same file)."""
    ordered = {k: np.asarray(tensors[k]) for k in sorted(tensors)}
    return atomic_write(path, lambda handle: np.savez(handle, **ordered))


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of an .npz, without pickles; one-line errors for missing or corrupt files."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise WeightsError(f"{path}: not a readable .npz weights file ({err})") from None


def check_tensors(tensors: dict[str, np.ndarray], graph: Graph, source: str) -> None:
    """Every expected name with its shape, nothing else; all mismatches listed at once."""
    expected = expected_tensors(graph)
    problems = []
    for key, shape in expected.items():
        if key not in tensors:
            problems.append(f"missing {key} {list(shape)}")
        elif tuple(tensors[key].shape) != shape:
            problems.append(f"{key} has shape {list(tensors[key].shape)}, the program needs {list(shape)}")
        elif not np.issubdtype(tensors[key].dtype, np.floating):
            problems.append(f"{key} has dtype {tensors[key].dtype}, expected a float type")
    problems += [f"unexpected {key} (no such layer parameter in network {graph.name})"
                 for key in sorted(set(tensors) - set(expected))]
    if problems:
        listing = "\n".join(f"  {p}" for p in problems)
        raise WeightsError(f"{source} does not match network {graph.name} ({len(problems)} problem"
                           f"{'s' if len(problems) != 1 else ''}):\n{listing}")


def load_weights(path: str | Path, graph: Graph) -> dict[str, np.ndarray]:
    tensors = read_npz(path)
    check_tensors(tensors, graph, str(path))
    return tensors
