"""Per-layer diagnostics while training: weight and gradient norms, update sizes, dead ReLUs, activations.

The statistics are sampled on a fixed subset of each epoch's steps (SAMPLED_STEPS, spread evenly over the
epoch, never more than one step in MIN_STRIDE), so that they cost a few percent of an epoch; the other
steps run exactly as without diagnostics. The thresholds that turn a number into a warning are stated here
and in docs/training.md.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

import numpy as np

DIAGNOSTICS = "diagnostics.csv"
SAMPLED_STEPS = 8  # steps of each epoch whose statistics are gathered, at most
MIN_STRIDE = 16  # and at most one step in this many: a short epoch is sampled on fewer steps
COLUMNS = ("epoch", "layer", "op", "weight_norm", "grad_norm", "update_ratio", "dead_fraction", "mean", "std")

DEAD_SHARE = 0.5  # a rectifier layer with at least this share of never-positive units: "dead ReLUs"
VANISHING = 1e-5  # gradient norm / weight norm below this: the layer barely learns ("vanishing")
EXPLODING = 10.0  # gradient norm / weight norm above this: one step could swamp the weights ("exploding")
UPDATE_TOO_LARGE = 0.5  # update norm / weight norm per step above this: the learning rate is too high
ACTIVATION_TOO_LARGE = 1e3  # |mean| or std of an activation above this: activations explode
WARNINGS_SHOWN = 3  # offenders named on the terminal line of an epoch


@dataclass
class _Sums:
    """What one layer has gathered over the sampled steps of the current epoch."""

    steps: int = 0
    weight_sq: float = 0.0
    grad_norm: float = 0.0
    update_ratio: float = 0.0
    total: float = 0.0
    total_sq: float = 0.0
    count: int = 0
    alive: np.ndarray | None = None


@dataclass
class LayerProbe:
    """Gathers the statistics of the sampled steps and turns them into one row per layer per epoch."""

    param_layers: dict[str, tuple[str, list[str]]]  # layer -> (op, parameter keys)
    activation_layers: dict[str, tuple[str, bool]]  # layer -> (op, whether it is a rectifier)
    sums: dict[str, _Sums] = field(default_factory=dict)
    keep_grads: bool = False  # TensorBoard's histograms: hold the last sampled step's gradients
    last_grads: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def of(cls, graph) -> LayerProbe:
        params = {n.name: (n.op, [f"{n.name}.{k}" for k in n.params]) for n in graph if n.params}
        activations = {
            n.name: (n.op, n.opdef.has("rectifier"))
            for n in graph
            if n.opdef.has("activation") and not n.opdef.has("noop")
        }
        return cls(params, activations)

    @staticmethod
    def sampled(step: int, steps: int) -> bool:
        """Whether step (0-based) of an epoch of `steps` is one of the (at most) SAMPLED_STEPS spread over it."""
        stride = max(MIN_STRIDE, steps // SAMPLED_STEPS)
        return step % stride == 0 and step // stride < SAMPLED_STEPS

    def _sums(self, layer: str) -> _Sums:
        return self.sums.setdefault(layer, _Sums())

    def snapshot(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The parameters before an optimizer step (the update is measured against them)."""
        return {key: params[key].copy() for _, keys in self.param_layers.values() for key in keys}

    def observe(
        self,
        outputs: dict[str, np.ndarray],
        grads: dict[str, np.ndarray],
        before: dict[str, np.ndarray],
        params: dict[str, np.ndarray],
    ) -> None:
        """One sampled step: the layers' outputs of its forward pass, its gradients, the weights around it."""
        for layer, (_, keys) in self.param_layers.items():
            sums = self._sums(layer)
            weight_sq = _squares(before[k] for k in keys)
            grad_sq = _squares(grads[k] for k in keys if k in grads)
            update_sq = _squares((params[k] - before[k]) for k in keys)
            sums.steps += 1
            sums.weight_sq = weight_sq
            sums.grad_norm += math.sqrt(grad_sq)
            sums.update_ratio += math.sqrt(update_sq) / max(math.sqrt(weight_sq), 1e-12)
        for layer, (_, rectifier) in self.activation_layers.items():
            if layer in outputs:
                self._observe_activation(self._sums(layer), outputs[layer], rectifier)
        if self.keep_grads:
            self.last_grads = grads

    @staticmethod
    def _observe_activation(sums: _Sums, values: np.ndarray, rectifier: bool) -> None:
        """Sums for the mean and std; for a rectifier, which units (channels: the backend's last axis) fired."""
        flat = values.reshape(-1, values.shape[-1]) if values.ndim > 1 else values.reshape(-1, 1)
        sums.total += float(flat.sum(dtype=np.float64))
        sums.total_sq += _square_sum(flat)
        sums.count += flat.size
        if rectifier:
            fired = np.asarray((flat > 0).any(axis=0))
            sums.alive = fired if sums.alive is None else sums.alive | fired

    def end_epoch(self, epoch: int) -> list[dict]:
        """The epoch's rows (COLUMNS), in the network's order; the sums start again."""
        rows = []
        layers = list(dict.fromkeys([*self.param_layers, *self.activation_layers]))
        for layer in layers:
            sums = self.sums.get(layer)
            if sums is None or (sums.steps == 0 and sums.count == 0):
                continue
            op = (self.param_layers.get(layer) or self.activation_layers[layer])[0]
            rows.append({"epoch": epoch, "layer": layer, "op": op, **_layer_numbers(sums)})
        self.sums = {}
        return rows


def _squares(arrays) -> float:
    """The sum of squares of some arrays."""
    return sum(_square_sum(a) for a in arrays)


def _square_sum(values: np.ndarray) -> float:
    """The sum of squares: one BLAS dot, again in float64 when float32 overflows (an exploding net)."""
    flat = values.reshape(-1)
    total = float(np.dot(flat, flat))
    return total if math.isfinite(total) else float(np.dot(flat.astype(np.float64), flat.astype(np.float64)))


def _layer_numbers(sums: _Sums) -> dict[str, float]:
    nan = math.nan
    numbers = dict.fromkeys(COLUMNS[3:], nan)
    if sums.steps:
        numbers["weight_norm"] = math.sqrt(sums.weight_sq)
        numbers["grad_norm"] = sums.grad_norm / sums.steps
        numbers["update_ratio"] = sums.update_ratio / sums.steps
    if sums.count:
        mean = sums.total / sums.count
        numbers["mean"] = mean
        numbers["std"] = math.sqrt(max(sums.total_sq / sums.count - mean * mean, 0.0))
    if sums.alive is not None:
        numbers["dead_fraction"] = 1.0 - float(sums.alive.mean())
    return numbers


# ---- what the numbers mean ----


def problems(rows: list[dict]) -> list[tuple[float, str]]:
    """(severity, text) of each threshold a layer crosses in these rows, worst first: a too-high learning rate
    and exploding values (causes) before dead units, dead units before the vanishing gradients they cause."""
    found = []
    for row in rows:
        found += _row_problems(row)
    return sorted(found, key=lambda item: -item[0])


def _row_problems(row: dict) -> list[tuple[float, str]]:
    layer, found = row["layer"], []
    update = row.get("update_ratio", math.nan)
    if _finite(update) and update > UPDATE_TOO_LARGE:
        found.append(
            (
                5 + min(update, 1),
                f"{layer}: each step changes its weights by {update:.0%}, the learning rate is too high",
            )
        )
    mean, std = row.get("mean", math.nan), row.get("std", math.nan)
    if _finite(mean, std) and max(abs(mean), std) > ACTIVATION_TOO_LARGE:
        found.append((4, f"{layer}: activations explode (mean {mean:.3g}, std {std:.3g})"))
    dead = row.get("dead_fraction", math.nan)
    if _finite(dead) and dead >= DEAD_SHARE:
        found.append((3 + dead, f"{layer}: {dead:.0%} dead ReLUs"))
    weight, grad = row.get("weight_norm", math.nan), row.get("grad_norm", math.nan)
    if _finite(weight, grad) and weight > 0:
        ratio = grad / weight
        if ratio > EXPLODING:
            found.append((4, f"{layer}: gradient {ratio:.0e} times its weights, exploding"))
        elif ratio == 0:
            found.append((2, f"{layer}: no gradient reaches it"))
        elif ratio < VANISHING:  # the smaller, the worse, within the band of vanishing layers
            found.append(
                (
                    2 + min(math.log10(VANISHING / ratio), 10) / 10,
                    f"{layer}: gradient {ratio:.0e} of its weights, vanishing",
                )
            )
    return found


def _finite(*values) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def warning_line(rows: list[dict]) -> str | None:
    """`conv_3: 71% dead ReLUs; fc_1: gradient 1e-07 of its weights, vanishing`: the worst offenders, or None."""
    found = problems(rows)
    if not found:
        return None
    shown = "; ".join(text for _, text in found[:WARNINGS_SHOWN])
    more = len(found) - WARNINGS_SHOWN
    return shown + (f"; {more} more in {DIAGNOSTICS}" if more > 0 else "")


# ---- the file ----


def to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items() if k in COLUMNS})
    return buffer.getvalue()


def from_csv(text: str) -> list[dict]:
    """Rows of a diagnostics.csv; ValueError for a row that is not one."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        if not row.get("layer") or row.get("epoch") in (None, ""):
            raise ValueError("a row without an epoch or a layer")
        parsed: dict = {"epoch": int(row["epoch"]), "layer": row["layer"], "op": row.get("op") or ""}
        parsed |= {k: float(row[k]) if row.get(k) not in (None, "") else math.nan for k in COLUMNS[3:]}
        rows.append(parsed)
    return rows
