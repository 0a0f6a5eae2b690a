"""`netdsl.load` / `netdsl.loads` and the Model they return."""

from __future__ import annotations

from pathlib import Path

from netdsl.compiler import CheckedNetwork, Compilation, compile_source
from netdsl.diagnostics import Diagnostic, NetdslError
from netdsl.frontend.train_spec import TrainConfig
from netdsl.ir.graph import Graph, Node
from netdsl.ir.passes import Totals


class Model:
    """A checked network: its graph, shapes and totals; training and export build on it."""

    def __init__(self, network: CheckedNetwork, compilation: Compilation):
        self._network = network
        self.compilation = compilation
        self.graph: Graph = network.graph
        self.name: str = network.name
        self.train_config: TrainConfig = network.train
        self._backend = None

    @property
    def layers(self) -> list[Node]:
        return list(self.graph.nodes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.graph.input.shape

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.graph.output.shape

    @property
    def totals(self) -> Totals:
        return self._network.totals

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.compilation.all_diagnostics if d.severity == "warning"]

    @property
    def source(self) -> str:
        return self.compilation.source

    def summary(self) -> str:
        """The `netdsl check` table as plain text."""
        from netdsl.report import summary_text

        return summary_text(self._network)

    def __repr__(self) -> str:
        return f"<netdsl.Model {self.name}: {len(self.graph)} layers, {self.totals.trainable:,} params>"


def _select(compilation: Compilation, network: str | None) -> CheckedNetwork:
    if not compilation.ok:
        raise NetdslError(compilation.all_diagnostics, compilation.sources)
    if network is None:
        return compilation.networks[0]
    for checked in compilation.networks:
        if checked.name == network:
            return checked
    names = ", ".join(n.name for n in compilation.networks)
    raise NetdslError([Diagnostic("error", f"{compilation.file} has no network '{network}' (it has {names})")])


def loads(text: str, network: str | None = None, file: str = "<string>") -> Model:
    """Compile program text; the first network unless `network` names another."""
    compilation = compile_source(text, file)
    return Model(_select(compilation, network), compilation)


def load(path: str | Path, network: str | None = None) -> Model:
    """Compile a .net file; a bad program raises NetdslError carrying the diagnostics."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise NetdslError([Diagnostic("error", f"{path}: cannot read: {reason}")]) from None
    return loads(text, network, str(path))
