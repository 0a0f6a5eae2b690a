"""Hover: a layer's op, arguments and figures (those of `check --json`), a block use's expansion,
a train setting's documentation."""

from __future__ import annotations

from lsprotocol import types

from netdsl.frontend import ast
from netdsl.lsp import catalog
from netdsl.lsp.analysis import Analysis, Occurrence, Placed
from netdsl.ops.base import fmt_shape
from netdsl.table import layer_json, op_text, rf_text

MAX_ROWS = 12
DETAILED = 3  # a layer that makes at most this many nodes (output = fc + softmax) is shown in full


def hover(analysis: Analysis, position: types.Position, markdown: bool = True) -> types.Hover | None:
    """The hover at a position: markdown, or plain text for a client that does not render markdown."""
    line, column = analysis.positions.location(position)
    for occurrence in analysis.at(line, column):
        text = _describe(analysis, occurrence)
        if text:
            content = (
                types.MarkupContent(types.MarkupKind.Markdown, text)
                if markdown
                else types.MarkupContent(types.MarkupKind.PlainText, plain_text(text))
            )
            return types.Hover(content, analysis.positions.range(occurrence.span))
    return None


def renders_markdown(capabilities: types.ClientCapabilities | None) -> bool:
    """Whether the client announced markdown for hovers (a client that says nothing gets markdown, the default)."""
    hover_caps = capabilities and capabilities.text_document and capabilities.text_document.hover
    formats = hover_caps.content_format if hover_caps else None
    return not formats or types.MarkupKind.Markdown in formats


def plain_text(markdown: str) -> str:
    """The hover's markdown as a plain-text client shows it: tables aligned in columns, no markup characters."""
    lines: list[str] = []
    table: list[list[str]] = []
    right: list[bool] = []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if set(line) <= set("|-: "):  # the separator row says which columns align right
                right = [cell.endswith(":") for cell in cells]
            else:
                table.append([_unmarked(cell) for cell in cells])
            continue
        if table:
            lines += _aligned(table, right)
            table, right = [], []
        if not line.startswith("```"):
            lines.append(_unmarked(line))
    return "\n".join(lines).rstrip("\n")


def _unmarked(text: str) -> str:
    return text.replace("**", "").replace("`", "")


def _aligned(rows: list[list[str]], right: list[bool]) -> list[str]:
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(max(map(len, rows)))]
    return [
        "  ".join(
            cell.rjust(width) if i < len(right) and right[i] else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]


def _describe(analysis: Analysis, occurrence: Occurrence) -> str | None:
    kind = occurrence.kind
    if kind in ("layer", "branches"):
        return layer_text(analysis.by_span.get(occurrence.span, []), occurrence)
    if kind == "block_use":
        return block_use_text(analysis.by_call.get(occurrence.span, []), occurrence)
    if kind == "setting":
        return setting_text(occurrence.node)
    if kind in ("param", "param_use"):
        return param_text(occurrence)
    if kind == "block":
        return f"```netdsl\n{block_header(occurrence.node)}\n```"
    return None


def _arguments(node) -> str:
    """Every declared argument of the node's op with its value after defaults and coercion."""
    info = catalog.find_op(node.op)
    names = [a.name for a in info.args] if info else []
    if "shape" in node.attrs and info and info.variadic:
        names = ["shape", *names]
    shown = [f"{name}={catalog.value_text(node.attrs[name])}" for name in names if name in node.attrs]
    return ", ".join(shown) or "none"


def _layer_rows(nodes: list[Placed]) -> list[str]:
    rows = ["| layer | op | output | params | MACs | RF size /stride |", "|---|---|---|--:|--:|---|"]
    for placed in nodes[:MAX_ROWS]:
        figures = layer_json(placed.node)
        rows.append(
            f"| `{figures['name']}` | `{figures['display']}` | {fmt_shape(placed.node.shape)} | "
            f"{figures['params']:,} | {figures['macs']:,} | {rf_text(placed.node)} |"
        )
    if len(nodes) > MAX_ROWS:
        rows.append(f"| … {len(nodes) - MAX_ROWS} more | | | | | |")
    return rows


def layer_text(nodes: list[Placed], occurrence: Occurrence) -> str | None:
    """One layer: the op with all its arguments and its figures; a layer inside a block: one row per use."""
    if not nodes:
        info = catalog.find_op(occurrence.name)
        return f"`{info.signature()}`\n\n(no figures: the network has errors)" if info else None
    if len(nodes) <= DETAILED and len({p.calls for p in nodes}) == 1:
        return "\n\n".join(_one_layer(p) for p in nodes)
    where = f" in block `{occurrence.owner.name}`" if occurrence.owner else ""
    head = f"`{occurrence.name}`{where}: {len(nodes)} layers"
    return "\n".join([head, "", f"arguments (first use): {_arguments(nodes[0].node)}", "", *_layer_rows(nodes)])


def _one_layer(placed: Placed) -> str:
    node = placed.node
    figures = layer_json(node)
    lines = [
        f"**{node.name}**: `{op_text(node)}`",
        "",
        f"- arguments: {_arguments(node)}",
        f"- output: {fmt_shape(node.shape)}",
        f"- params: {figures['params']:,}",
    ]
    if figures["non_trainable"]:
        lines.append(f"- non-trainable: {figures['non_trainable']:,}")
    lines.append(f"- MACs: {figures['macs']:,}")
    if node.receptive_field is not None:
        lines.append(f"- receptive field: {rf_text(node)}")
    if node.implicit:
        lines.append(f"- implicit: {node.implicit}")
    return "\n".join(lines)


def block_use_text(nodes: list[Placed], occurrence: Occurrence) -> str | None:
    """What a block use expands to: its layers, params and MACs (per use when inside another block)."""
    block: ast.Layer = occurrence.node
    if not nodes:
        return f"block `{block.op}` (no figures: the network has errors)"
    uses: dict[tuple, list[Placed]] = {}
    depth = nodes[0].calls.index(occurrence.span)
    for placed in nodes:  # a node inside a use is named '<use>.<...>': the use is its first depth+1 parts
        use = ".".join(placed.node.name.split(".")[: depth + 1])
        uses.setdefault((placed.network.name, use), []).append(placed)
    first = next(iter(uses.values()))
    params = sum(p.node.param_count for p in first)
    macs = sum(p.node.macs for p in first)
    head = (
        f"**block `{block.op}`** → {len(first)} layers, {params:,} params, {macs:,} MACs, "
        f"output {fmt_shape(first[-1].node.shape)}"
    )
    if len(uses) > 1:
        head += f" (first of {len(uses)} uses)"
    return "\n".join([head, "", *_layer_rows(first)])


def setting_text(setting: ast.Setting) -> str:
    key = setting.key
    doc = catalog.SETTING_DOCS.get(key)
    default = catalog.train_defaults().get(key)
    if doc is None and default is None:
        return f"`{key}`: not a train setting; settings are {', '.join(catalog.train_defaults())}"
    lines = [f"**{key}** (train setting)", "", doc or ""]
    if default is not None:
        lines += ["", f"default: `{default}`"]
    if key == "optimizer":
        lines += [
            "",
            *(
                f"- `{name}({', '.join(f'{k}={v}' for k, v in args.items())})`: {catalog.optimizer_doc(name)}"
                for name, args in catalog.optimizers().items()
            ),
        ]
    values = catalog.value_docs(key)
    if values:
        lines += ["", *values]
    return "\n".join(lines)


def param_text(occurrence: Occurrence) -> str:
    block = occurrence.owner
    param = next((p for p in block.params if p.name == occurrence.name), None)
    default = "" if param is None or param.default is None else f", default `{expr_text(param.default)}`"
    return f"parameter `{occurrence.name}` of block `{block.name}`{default}\n\n```netdsl\n{block_header(block)}\n```"


def block_header(block: ast.Block) -> str:
    return f"block {block.name}({', '.join(_param_text(p) for p in block.params)})"


def _param_text(param: ast.Param) -> str:
    return param.name if param.default is None else f"{param.name}={expr_text(param.default)}"


def expr_text(expr: ast.Expr) -> str:
    """An argument expression written back as source."""
    if isinstance(expr, ast.Num):
        return str(expr.value)
    if isinstance(expr, ast.Size):
        return "x".join(str(d) for d in expr.dims)
    if isinstance(expr, ast.Str):
        return f'"{expr.value}"'
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.TupleExpr):
        return "(" + ", ".join(expr_text(item) for item in expr.items) + ")"
    if isinstance(expr, ast.BinOp):
        return f"{expr_text(expr.left)} {expr.op} {expr_text(expr.right)}"
    if isinstance(expr, ast.Neg):
        return f"-{expr_text(expr.operand)}"
    args = [expr_text(a) for a in expr.args] + [f"{k.name}={expr_text(k.value)}" for k in expr.kwargs]
    return f"{expr.name}({', '.join(args)})"
