"""Weights files: `.npz`, keys `<layer>.<param>` in ONNX layouts, checked against the program."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from netdsl import npyfile
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
    return atomic_write(path, lambda handle: np.savez(handle, **ordered))  # type: ignore[arg-type]  # numpy's stub


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of an .npz (numbers or text), headers checked first, without pickles; one-line errors."""
    path = Path(path)
    _check_weights_file(path)
    try:
        headers = npyfile.npz_headers(path, kinds=npyfile.NUMERIC_KINDS + "U")
        npyfile.check_fits_memory(path, sum(h.nbytes for h in headers.values()), "its arrays")
        return npyfile.read_npz(path, list(headers))
    except npyfile.ArrayFileError as err:
        raise WeightsError(str(err)) from None


def _check_weights_file(path: Path) -> None:
    """A regular file that starts like an .npz (a zip archive); one line naming what it is otherwise."""
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file" if not path.exists() else f"{path}: not a regular file")
    try:
        kind = npyfile.file_kind(path)
    except npyfile.ArrayFileError as err:
        raise WeightsError(str(err)) from None
    if kind == "npy":
        raise WeightsError(
            f"{path}: a single .npy array, not an .npz weights file (weights are saved as "
            "numpy.savez(path, **{'<layer>.<param>': array, ...}))"
        )
    if kind != "npz":
        reason = "empty file" if kind == "empty" else "not a zip archive"
        raise WeightsError(f"{path}: not a readable .npz weights file ({reason})")


def read_weights(path: str | Path, graph: Graph) -> dict[str, np.ndarray]:
    """The weights of an .npz for this graph: names, shapes and dtypes checked from the headers before any
    array is loaded, so a file can ask for no more memory than the network needs; values must be finite."""
    path = Path(path)
    _check_weights_file(path)
    try:
        _refuse_checkpoint(path, npyfile.npz_headers(path, kinds=npyfile.NUMERIC_KINDS + "U"))
        headers = npyfile.npz_headers(path)
    except npyfile.ArrayFileError as err:
        raise WeightsError(str(err)) from None
    check_tensors(headers, graph, str(path))
    try:
        tensors = npyfile.read_npz(path, list(headers))
    except npyfile.ArrayFileError as err:
        raise WeightsError(str(err)) from None
    check_finite(tensors, str(path))
    return tensors


def check_finite(tensors: dict[str, np.ndarray], source: str) -> None:
    """Refuse NaN or infinite weights, naming each tensor that holds them."""
    bad = []
    for key in sorted(tensors):
        count = int(np.size(tensors[key]) - np.count_nonzero(np.isfinite(tensors[key])))
        if count:
            bad.append(f"{key} ({count:,} of {np.size(tensors[key]):,} values)")
    if bad:
        raise WeightsError(
            f"{source}: NaN or infinite weights in {', '.join(bad)}; "
            "the run that wrote them diverged (try a lower learning rate)"
        )


def _refuse_checkpoint(path: Path, headers: dict) -> None:
    """A run's checkpoint.npz (weights with the optimizer's state, for --resume) names the weights.npz beside it."""
    if "meta" in headers and any(key.startswith("param/") for key in headers):
        weights = path.with_name("weights.npz")
        instead = f"use {weights}" if weights.is_file() else "use the weights.npz its run wrote"
        raise WeightsError(
            f"{path}: a training checkpoint (for `netdsl train --resume`), not a weights file: {instead}"
        )


MAX_LISTED = 8  # mismatches listed one per line; the rest are counted


def check_tensors(tensors: Mapping[str, np.ndarray | npyfile.ArrayHeader], graph: Graph, source: str) -> None:
    """Every expected name with its shape, nothing else; the mismatches listed at once (at most MAX_LISTED),
    and a file that holds none of the network's tensors summarized with the network it seems to be for."""
    expected = expected_tensors(graph)
    matching = [key for key, shape in expected.items() if key in tensors and tuple(tensors[key].shape) == shape]
    if not matching and tensors:
        raise WeightsError(_foreign(tensors, graph, source))
    problems = []
    for key, shape in expected.items():
        if key not in tensors:
            problems.append(f"missing {key} {list(shape)}")
        elif tuple(tensors[key].shape) != shape:
            problems.append(f"{key} has shape {list(tensors[key].shape)}, the program needs {list(shape)}")
        elif not np.issubdtype(tensors[key].dtype, np.floating):
            problems.append(f"{key} has dtype {tensors[key].dtype}, expected a float type")
    problems += [
        f"unexpected {key} (no such layer parameter in network {graph.name})"
        for key in sorted(set(tensors) - set(expected))
    ]
    if problems:
        listed = problems[:MAX_LISTED] + (
            [f"... and {len(problems) - MAX_LISTED} more"] if len(problems) > MAX_LISTED else []
        )
        listing = "\n".join(f"  {p}" for p in listed)
        raise WeightsError(
            f"{source} does not match network {graph.name} ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}):\n{listing}"
        )


def load_weights(path: str | Path, graph: Graph) -> dict[str, np.ndarray]:
    return read_weights(path, graph)


def _foreign(tensors: Mapping[str, np.ndarray | npyfile.ArrayHeader], graph: Graph, source: str) -> str:
    """A few lines about weights made for another network: what they hold and whose they seem to be."""
    layers = list(dict.fromkeys(key.rsplit(".", 1)[0] for key in sorted(tensors)))
    shown = ", ".join(layers[:6]) + (f", ... ({len(layers)} layers)" if len(layers) > 6 else "")
    values = sum(int(np.prod(getattr(t, "shape", ()))) for t in tensors.values())
    expected = list(expected_tensors(graph))
    wanted = ", ".join(expected[:3]) + (", ..." if len(expected) > 3 else "")
    lines = [
        f"{source} does not match network {graph.name}: all {len(expected)} of its tensors are missing "
        f"({wanted}); these are the weights of another network",
        f"  it has {len(tensors)} tensor{'s' if len(tensors) != 1 else ''} ({values:,} values) for layers {shown}",
    ]
    owner = _run_network(Path(source))
    if owner:
        lines.append(
            f"  it seems to belong to network {owner} (the settings.json beside it says so): "
            f"use that program, or train {graph.name} to get its weights"
        )
    return "\n".join(lines)


def _run_network(path: Path) -> str | None:
    """The network named by the settings.json a training run wrote beside its weights, if any."""
    settings = path.with_name("settings.json")
    try:
        network = json.loads(settings.read_text(encoding="utf-8")).get("network") if settings.is_file() else None
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    return network if isinstance(network, str) and network.isprintable() and len(network) < 200 else None
