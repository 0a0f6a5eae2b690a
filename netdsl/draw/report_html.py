"""`netdsl report`: one self-contained HTML page about a training run.

The check table, the diagram, the curves, the final metrics, the confusion matrix on the validation
split and the validation images the network got most confidently wrong. Every image is inline (a
data: URI) and the page fetches nothing, runs no script and needs no network.
"""

from __future__ import annotations

import base64
import io
import math
from html import escape
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np

from netdsl.draw.run_dir import Run, read_run

WRONG_SHOWN = 12
THUMB_PX = 84

PAGE_PX = 1100  # the page's width (body max-width below): a 1200 px window shows it whole

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222;
padding:0 1em} img.curves{max-width:100%;height:auto}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em} td,th{padding:2px 8px;border:1px solid #ddd;text-align:left}
td.num,th.num{text-align:right} pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:.85em}
.diagram{max-height:900px;overflow:auto;border:1px solid #ddd} .muted{color:#777}
.confusion td{text-align:right;min-width:2.2em} .wrong{display:flex;flex-wrap:wrap;gap:12px}
.wrong figure{margin:0;text-align:center;font-size:.8em} .wrong img{image-rendering:pixelated;border:1px solid #ccc}
.heat td{text-align:right;min-width:2.6em}
tr.warned td{background:#fde2e1} ul.warnings{color:#b3261e}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px} dt{font-weight:600}
"""


class ReportError(Exception):
    """The run cannot be reported; one line for the user."""


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _img(data: bytes, mime: str, alt: str, **attrs: str) -> str:
    extra = "".join(f' {k}="{escape(v)}"' for k, v in attrs.items())
    return f'<img src="{data_uri(data, mime)}" alt="{escape(alt)}"{extra}>'


def _model(run: Run):
    """The run's network, compiled from the program text its settings.json holds."""
    import netdsl
    from netdsl.diagnostics import NetdslError

    program, network = run.settings.get("program"), run.settings.get("network")
    if not isinstance(program, str) or not program:
        raise ReportError(
            f"{run.directory}: its settings.json holds no program (a run of an older netdsl); "
            "train it again to report on it"
        )
    try:
        model = netdsl.loads(program, network, f"{run.directory}/settings.json")
    except NetdslError as err:
        raise ReportError(f"{run.directory}: its program no longer compiles: {err.diagnostics[0].message}") from None
    weights = run.directory / "weights.npz"
    from netdsl.backends.numpy.weights import WeightsError

    try:
        model.load_weights(weights)
    except WeightsError as err:
        raise ReportError(str(err).splitlines()[0]) from None
    return model


def _validation(run: Run, model, data_dir, progress):
    """The validation split the run was trained with (same data, seed and share)."""
    from netdsl.data import DataError, load_dataset

    settings = run.settings
    try:
        data = load_dataset(
            str(settings.get("data", "digits")),
            tuple(model.input_shape),
            data_dir=data_dir,
            val_split=float(settings.get("val_split", 0.1)),
            seed=int(settings.get("seed", 0)),
            progress=progress,
        )
    except DataError as err:
        raise ReportError(str(err)) from None
    return data


# ---- sections ----


def check_section(model) -> str:
    from netdsl.table import headers_for, table_rows, totals_lines

    graph = model.graph
    headers = headers_for(graph)
    head = "".join(f"<th{' class=num' if i in (3, 4) else ''}>{escape(h)}</th>" for i, h in enumerate(headers))
    rows = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in (3, 4) else ''}>{escape(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in table_rows(graph)
    )
    totals = "\n".join(totals_lines(SimpleNamespace(totals=model.totals)))  # type: ignore[arg-type]  # reads .totals
    return f"<h2>Network</h2><table><tr>{head}</tr>{rows}</table><pre>{escape(totals)}</pre>"


def diagram_section(model) -> str:
    from netdsl.draw.layout import layout
    from netdsl.draw.svg import to_svg

    diagram = layout(model.graph)
    svg = to_svg(diagram).encode("utf-8")
    image = _img(
        svg, "image/svg+xml", f"diagram of {model.name}", width=f"{diagram.width:.0f}", height=f"{diagram.height:.0f}"
    )
    return f'<h2>Diagram</h2><div class="diagram">{image}</div>'


def curves_section(run: Run) -> str:
    from netdsl.draw.curves import save_curves

    buffer = io.BytesIO()
    save_curves([run], buffer, "png", max_width=PAGE_PX / 100)
    return "<h2>Training curves</h2>" + _img(
        buffer.getvalue(), "image/png", f"loss and {_metric(run) or 'lr'} per epoch", **{"class": "curves"}
    )


def _metric(run: Run) -> str | None:
    """The metric the run recorded beside the loss: accuracy, mae or rmse; None for metrics = none."""
    metrics = run.settings.get("metrics", ["accuracy"])
    return str(metrics[0]) if isinstance(metrics, list) and metrics else None


DIAGNOSTIC_HEADERS = (
    ("layer", "layer"),
    ("op", "op"),
    ("weight_norm", "weight norm"),
    ("grad_norm", "gradient norm"),
    ("update_ratio", "update / weight"),
    ("dead_fraction", "dead units"),
    ("mean", "activation mean"),
    ("std", "activation std"),
)


def diagnostics_section(run: Run) -> str:
    """The last epoch's per-layer numbers (warnings marked) and a heat map of layers x epochs."""
    from netdsl.train.layer_stats import problems

    if not run.diagnostics:
        return ""
    last = max(row["epoch"] for row in run.diagnostics)
    rows = [row for row in run.diagnostics if row["epoch"] == last]
    warned: dict[str, list[str]] = {}
    for _, text in problems(rows):
        warned.setdefault(text.split(":")[0], []).append(text)
    head = "".join(
        f"<th{'' if i < 2 else ' class=num'}>{escape(h)}</th>" for i, (_, h) in enumerate(DIAGNOSTIC_HEADERS)
    )
    body = []
    for row in rows:
        cells = "".join(
            f"<td>{escape(str(row[k]))}</td>" if i < 2 else f"<td class=num>{_number(row[k], k)}</td>"
            for i, (k, _) in enumerate(DIAGNOSTIC_HEADERS)
        )
        note = "; ".join(warned.get(row["layer"], []))
        body.append(f'<tr class=warned title="{escape(note)}">{cells}</tr>' if note else f"<tr>{cells}</tr>")
    notes = "".join(f"<li>{escape(text)}</li>" for texts in warned.values() for text in texts)
    warnings = f"<ul class=warnings>{notes}</ul>" if notes else "<p>No layer crosses a warning threshold.</p>"
    return (
        f"<h2>Diagnostics (epoch {last})</h2>{warnings}<table class=diagnostics><tr>{head}</tr>{''.join(body)}"
        f"</table>{heat_map(run)}"
    )


def _number(value: float, key: str) -> str:
    if not math.isfinite(value):
        return ""
    return f"{value:.0%}" if key == "dead_fraction" else f"{value:.3g}"


def heat_map(run: Run) -> str:
    """Layers x epochs: log10 of gradient norm / weight norm for layers with weights, the share of dead units
    for rectifiers (red: at or past the warning thresholds)."""
    from netdsl.train.layer_stats import DEAD_SHARE, VANISHING

    epochs = sorted({row["epoch"] for row in run.diagnostics})
    cells: dict[str, dict[int, str]] = {}
    for row in run.diagnostics:
        cell = _heat_cell(row, VANISHING, DEAD_SHARE)
        if cell:
            cells.setdefault(row["layer"], {})[row["epoch"]] = cell
    if not cells:
        return ""
    head = "<tr><th>layer \\ epoch</th>" + "".join(f"<th>{e}</th>" for e in epochs) + "</tr>"
    body = "".join(
        f"<tr><th>{escape(layer)}</th>" + "".join(row.get(e, "<td></td>") for e in epochs) + "</tr>"
        for layer, row in cells.items()
    )
    return (
        "<h3>Layers by epoch</h3><p class=muted>Layers with weights: log<sub>10</sub> of gradient norm / "
        "weight norm (blue: learning; red: below the vanishing threshold). Rectifiers: the share of dead units "
        f"(red from {DEAD_SHARE:.0%}).</p><table class=heat>{head}{body}</table>"
    )


def _heat_cell(row: dict, vanishing: float, dead_share: float) -> str:
    weight, grad, dead = (
        row.get("weight_norm", math.nan),
        row.get("grad_norm", math.nan),
        row.get("dead_fraction", math.nan),
    )
    if math.isfinite(weight) and math.isfinite(grad) and weight > 0:
        ratio = grad / weight
        level = math.log10(ratio) if ratio > 0 else -math.inf
        # red past the threshold, blue shading with the ratio's size above it
        bad = level < math.log10(vanishing)
        strength = 0.85 if bad else min(0.85, max(0.1, (level + 5) / 5 * 0.85))
        colour = f"rgba(214,39,40,{strength:.2f})" if bad else f"rgba(31,119,180,{strength:.2f})"
        text = "-inf" if level == -math.inf else f"{level:.1f}"
        return f'<td style="background:{colour}" title="gradient/weight {ratio:.2g}">{text}</td>'
    if math.isfinite(dead):
        bad = dead >= dead_share
        colour = f"rgba(214,39,40,{0.3 + 0.55 * dead:.2f})" if bad else f"rgba(44,160,44,{0.15 + 0.5 * dead:.2f})"
        return f'<td style="background:{colour}" title="dead units">{dead:.0%}</td>'
    return ""


def metrics_section(run: Run, val_accuracy: float | None, samples: int) -> str:
    last = run.rows[-1]
    settings = run.settings

    def number(key: str) -> str:
        value = last.get(key, math.nan)
        return "-" if not math.isfinite(value) else f"{value:.4f}"

    seconds = sum(row.get("seconds", 0.0) for row in run.rows)
    metric = _metric(run)
    items = [
        ("epochs", f"{len(run.rows)}"),
        ("optimizer", f"{settings.get('optimizer', '?')} lr {settings.get('lr', '?')}"),
        ("data", str(settings.get("data", "?"))),
        ("loss (training)", number("loss")),
        *([(f"{metric} (training)", number(metric))] if metric else []),
        ("loss (validation)", number("val_loss")),
        *([(f"{metric} (validation)", number(f"val_{metric}"))] if metric else []),
        ("training time", f"{seconds:.1f} s"),
    ]
    if val_accuracy is not None:
        items.append(("accuracy of weights.npz on the validation split", f"{val_accuracy:.4f} ({samples} samples)"))
    body = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
    return f"<h2>Final metrics</h2><dl>{body}</dl>"


def confusion_section(truth: np.ndarray, predicted: np.ndarray, classes: int, names: list[str]) -> str:
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    peak = max(int(matrix.max()), 1)
    head = "<tr><th>true \\ predicted</th>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"
    rows = []
    for i, name in enumerate(names):
        cells = []
        for j in range(classes):
            count = int(matrix[i, j])
            shade = 0.85 * count / peak
            colour = f"rgba(31,119,180,{shade:.2f})" if i == j else f"rgba(214,39,40,{shade:.2f})"
            cells.append(f'<td style="background:{colour}">{count if count else ""}</td>')
        rows.append(f"<tr><th>{escape(name)}</th>{''.join(cells)}</tr>")
    return "<h2>Confusion matrix (validation split)</h2><table class=confusion>" + head + "".join(rows) + "</table>"


def thumbnail(sample: np.ndarray) -> bytes | None:
    """A small PNG of one sample (1 or 3 x H x W, values scaled to 0..255); None for vectors."""
    from PIL import Image

    if sample.ndim != 3 or sample.shape[0] not in (1, 3):
        return None
    image = sample[0] if sample.shape[0] == 1 else sample.transpose(1, 2, 0)
    low, high = float(image.min()), float(image.max())
    pixels = ((image - low) / (high - low) * 255 if high > low else np.zeros_like(image)).astype(np.uint8)
    scale = max(1, THUMB_PX // max(pixels.shape[:2]))
    picture = Image.fromarray(pixels).resize((pixels.shape[1] * scale, pixels.shape[0] * scale), Image.NEAREST)  # type: ignore[attr-defined]  # Image.Resampling needs Pillow 9.1
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def wrong_section(x: np.ndarray, truth: np.ndarray, probabilities: np.ndarray, names: list[str]) -> str:
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != truth)
    if not len(wrong):
        return "<h2>Most confidently wrong</h2><p>Every validation sample is classified correctly.</p>"
    confidence = probabilities[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:WRONG_SHOWN]
    figures = []
    for index in order:
        png = thumbnail(x[index])
        caption = (
            f"#{index}: true {names[truth[index]]}, predicted {names[predicted[index]]} "
            f"({probabilities[index, predicted[index]]:.2f})"
        )
        image = _img(png, "image/png", caption) if png else ""
        figures.append(f"<figure>{image}<figcaption>{escape(caption)}</figcaption></figure>")
    return (
        f"<h2>Most confidently wrong ({len(wrong)} of {len(truth)} validation samples wrong)</h2>"
        f"<div class=wrong>{''.join(figures)}</div>"
    )


def _class_labels(run: Run, classes: int) -> list[str]:
    """How the matrix and the captions name each class: '1 Trouser' with the run's class names (its train
    section's, the built-in set's or its .npz's), else the index alone."""
    from netdsl.data import DataError
    from netdsl.data.classes import class_names, label

    given = run.settings.get("classes")
    try:
        names = class_names(tuple(given) if isinstance(given, list) else given, str(run.settings.get("data", "")))
    except DataError:  # a names file the report cannot find from here: the indices say what there is
        names = None
    return [label(index, names) for index in range(classes)]


def _probabilities(model, x: np.ndarray) -> np.ndarray:
    """The network's outputs as class probabilities (a softmax over scores that are not probabilities yet)."""
    outputs = model.predict(x).reshape(len(x), -1)
    if np.all(outputs >= 0) and np.allclose(outputs.sum(axis=1), 1, atol=1e-3):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def build_report(run_dir: str | Path, data_dir=None, progress: Callable[[str], None] | None = None) -> str:
    """The whole page as text."""
    run = read_run(run_dir)
    model = _model(run)
    parts = [check_section(model), diagram_section(model), curves_section(run), diagnostics_section(run)]
    evaluation = ""
    val_accuracy, samples = None, 0
    classifier = run.settings.get("target", "labels") == "labels"
    if classifier and len(model.output_shape) == 1 and model.output_shape[0] > 1:
        data = _validation(run, model, data_dir, progress)
        if len(data.x_val):
            probabilities = _probabilities(model, data.x_val)
            classes = max(model.output_shape[0], int(data.num_classes))
            names = _class_labels(run, classes)
            predicted = probabilities.argmax(axis=1)
            val_accuracy, samples = float(np.mean(predicted == data.y_val)), len(data.y_val)
            evaluation = confusion_section(data.y_val, predicted, classes, names) + wrong_section(
                data.x_val, data.y_val, probabilities, names
            )
        else:
            evaluation = "<h2>Confusion matrix</h2><p class=muted>The run held out no validation split.</p>"
    parts.insert(4, metrics_section(run, val_accuracy, samples))
    parts.append(evaluation)
    title = f"netdsl run {run.directory}: network {model.name}"
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(model.name)}</h1><p class=muted>{escape(str(run.directory))}</p>"
        + "".join(parts)
        + "</body></html>\n"
    )
