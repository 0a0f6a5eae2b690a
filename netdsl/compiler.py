"""The front-end pipeline: source -> parse tree -> AST -> IR graph -> passes -> checked networks."""

from __future__ import annotations

from dataclasses import dataclass, field

from netdsl.diagnostics import CompileError, Diagnostic, DiagnosticSink, Span, did_you_mean
from netdsl.frontend import ast
from netdsl.frontend.expand import build_partial_graph, check_blocks
from netdsl.frontend.limits import MAX_SOURCE_BYTES, source_too_large
from netdsl.frontend.parser import parse
from netdsl.frontend.to_ast import to_ast
from netdsl.frontend.train_spec import TrainConfig, check_target, train_config
from netdsl.ir.graph import Graph
from netdsl.ir.lint import lint, lint_explaining
from netdsl.ir.passes import Totals, infer_shapes, totals


@dataclass
class CheckedNetwork:
    """One network's checked graph (None when it has errors), its totals and train settings."""

    name: str
    graph: Graph | None
    totals: Totals | None
    train: TrainConfig
    diagnostics: list[Diagnostic] = field(default_factory=list)
    partial: Graph | None = None  # with errors: the graph as far as it was built, shaped up to the errors (editors)

    @property
    def ok(self) -> bool:
        return self.graph is not None and not any(d.severity == "error" for d in self.diagnostics)


@dataclass
class Compilation:
    file: str
    source: str
    networks: list[CheckedNetwork]
    diagnostics: list[Diagnostic]  # file-level: syntax errors, block definitions, unused blocks

    @property
    def all_diagnostics(self) -> list[Diagnostic]:
        return self.diagnostics + [d for n in self.networks for d in n.diagnostics]

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.all_diagnostics)

    @property
    def sources(self) -> dict[str, str]:
        return {self.file: self.source}


def compile_source(source: str, file: str = "<string>") -> Compilation:
    """Run the whole front end; every diagnostic is collected, nothing is raised."""
    sink = DiagnosticSink()
    if source_too_large(source):
        return Compilation(
            file,
            source,
            [],
            [
                Diagnostic(
                    "error",
                    f"the program is larger than {MAX_SOURCE_BYTES // 2**20} MiB, the most a .net file may be",
                    Span(file, 1, 1, 1, 2),
                )
            ],
        )
    try:
        program = to_ast(parse(source, file), file, source)
    except CompileError as err:
        return Compilation(file, source, [], [err.diagnostic])
    if not program.networks:
        sink.error(
            "the file defines no network",
            Span(file, 1, 1, 1, 2),
            "add a network { ... } or a chain such as input(1, 28, 28) - fc(10)",
        )
    check_blocks(program, sink)
    trains = _train_sections(program, sink)
    networks = []
    used_blocks: set[str] = set()
    names_seen: set[str] = set()
    for network in program.networks:
        if network.name in names_seen:
            sink.error(f"network '{network.name}' is defined twice", network.name_span)
        names_seen.add(network.name)
        checked, used = _check_network(program, network, trains.get(network.name, trains.get(None)))
        networks.append(checked)
        used_blocks |= used
    for block in program.blocks:
        if block.name not in used_blocks and not sink.has_errors:
            sink.warning(f"block '{block.name}' is never used", block.name_span)
    return Compilation(file, source, networks, sink.items)


def _check_network(
    program: ast.Program, network: ast.Network, config: TrainConfig | None
) -> tuple[CheckedNetwork, set[str]]:
    sink = DiagnosticSink()
    graph, used, complete = build_partial_graph(program, network, sink)
    partial = None
    prefixes = _instance_prefixes(graph)
    diagnostics = sink.items
    if graph is not None and infer_shapes(graph, sink) and complete:
        lint(graph, sink)
    elif graph is not None:  # shape what can be shaped; warnings that explain the errors come first
        explanations = DiagnosticSink()
        lint_explaining(graph, explanations)
        diagnostics = explanations.items + sink.items
        partial, graph = graph, None
    config = config or TrainConfig()
    if graph is not None:
        check_target(config, graph.input.shape, graph.output.shape, sink)
        diagnostics = sink.items
    diagnostics = group_block_warnings(diagnostics, prefixes, program.blocks)
    return CheckedNetwork(network.name, graph, totals(graph) if graph else None, config, diagnostics, partial), used


def _instance_prefixes(graph: Graph | None) -> list[str]:
    """The block instances' name prefixes ('basic_1.', 'stage_2.basic_1.'), longest first."""
    if graph is None:
        return []
    prefixes = {node.name.rsplit(".", 1)[0] + "." for node in graph if "." in node.name}
    return sorted(prefixes, key=len, reverse=True)


def group_block_warnings(
    diagnostics: list[Diagnostic], prefixes: list[str], blocks: tuple[ast.Block, ...] | list[ast.Block]
) -> list[Diagnostic]:
    """One warning for a line of a block that warns the same way in every use ("in 4 uses of block `basic`")."""

    def unprefixed(text: str) -> tuple[str, set[str]]:
        found = set()
        for prefix in prefixes:
            if prefix in text:
                found.add(prefix)
                text = text.replace(prefix, "")
        return text, found

    groups: dict[tuple[object, ...], list[Diagnostic]] = {}
    shared: dict[tuple[object, ...], tuple[str, str | None]] = {}  # the group's message and hint, instance-free
    for diagnostic in diagnostics:
        message, in_message = unprefixed(diagnostic.message)
        hint, in_hint = unprefixed(diagnostic.hint or "")
        one_instance = diagnostic.severity == "warning" and len(in_message | in_hint) <= 1
        key: tuple[object, ...] = (diagnostic.span, message, hint) if one_instance else (id(diagnostic),)
        groups.setdefault(key, []).append(diagnostic)
        shared[key] = (message, hint or None)
    result = []
    for key, members in groups.items():
        block = _block_at(members[0].span, blocks)
        if len(members) == 1 or block is None:
            result += members
            continue
        message, hint = shared[key]
        result.append(
            Diagnostic(
                "warning",
                f"{message} (in {len(members)} uses of block `{block}`)",
                members[0].span,
                hint,
                members[0].notes,
            )
        )
    return result


def _block_at(span: Span | None, blocks: tuple[ast.Block, ...] | list[ast.Block]) -> str | None:
    """The name of the block whose definition holds the span."""
    for block in blocks:
        if span is not None and span.file == block.span.file and block.span.line <= span.line <= block.span.end_line:
            return block.name
    return None


def _train_sections(program: ast.Program, sink: DiagnosticSink) -> dict[str | None, TrainConfig]:
    names = {n.name for n in program.networks}
    sections: dict[str | None, TrainConfig] = {}
    for section in program.trains:
        if section.network is not None and section.network not in names:
            sink.error(
                f"train section for unknown network '{section.network}'",
                section.span,
                did_you_mean(section.network, sorted(names)),
            )
            continue
        if section.network in sections:
            sink.error("a second train section for the same network", section.span)
            continue
        sections[section.network] = train_config(section, sink)
    return sections
