"""`netdsl.load` / `netdsl.loads` and the Model they return."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from netdsl.backends.onnx.export import DEFAULT_OPSET
from netdsl.compiler import CheckedNetwork, Compilation, compile_source
from netdsl.diagnostics import Diagnostic, NetdslError
from netdsl.frontend.train_spec import TrainConfig
from netdsl.ir.graph import Graph, Node
from netdsl.ir.passes import Totals

if TYPE_CHECKING:
    from netdsl.backends.numpy.executor import Executor
    from netdsl.train.trainer import Trainer


class Model:
    """A checked network: its graph, shapes and totals; training and export build on it."""

    def __init__(self, network: CheckedNetwork, compilation: Compilation):
        self._network = network
        self.compilation = compilation
        self.graph: Graph = network.graph
        self.name: str = network.name
        self.train_config: TrainConfig = data_relative_to(network.train, compilation.file)
        self._backend: Executor | None = None
        self._fit_trainer: Trainer | None = None

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

    # ---- the NumPy backend (imported on first use: `check` never loads numpy) ----
    @property
    def executor(self):
        """The NumPy executor holding this model's weights, seeded from the train section."""
        if self._backend is None:
            from netdsl.backends.numpy.executor import Executor

            self._backend = Executor(self.graph)
            self._backend.init_params(self.train_config.seed)
        return self._backend

    @property
    def input_layout(self) -> str:
        """The layout the program declared for its input: "chw" or "hwc" (samples H x W x C)."""
        return self.graph.input.attrs.get("layout", "chw")

    @property
    def tokens(self) -> int | None:
        """The vocabulary of an `input(L, tokens=V)` network (its inputs are token ids below V), else None."""
        return self.graph.input.attrs.get("tokens")

    def _inputs(self, x, what: str = "x", fit: bool = False, verbose: int = 0):
        """x as a float32 N x C x H x W (or N x features) batch; layout=hwc networks take N x H x W x C.
        With `fit`, samples of another shape are shaped as `netdsl train` shapes a data set (bilinear
        resize, channels, flattening), with its notices when verbose."""
        import numpy as np

        from netdsl.data.channels_last import channels_last, to_channels_first

        if self.tokens is not None:
            from netdsl.data.tokens import check_token_ids

            x = check_token_ids(x, self.tokens, what)
        x = to_channels_first(np.asarray(x, dtype=np.float32), self.input_shape, self.input_layout)
        if fit and tuple(x.shape[1:]) != tuple(self.input_shape):
            from netdsl.data import DataError, fit_to_input

            try:
                x, notices = fit_to_input(x, tuple(self.input_shape), what)
            except DataError as err:
                raise ValueError(str(err)) from None
            for notice in notices if verbose > 0 else ():
                print(notice)
        if tuple(x.shape[1:]) != tuple(self.input_shape):
            declared = channels_last(self.input_shape) if self.input_layout == "hwc" else self.input_shape
            wanted = ", ".join(map(str, declared))
            raise ValueError(f"{what} has shape {x.shape}; network {self.name} wants (n, {wanted})")
        return x

    def _trainer(self, verbose: int = 1):
        from netdsl.train.trainer import Trainer

        if self._fit_trainer is None:
            self._fit_trainer = Trainer(self.executor, self.train_config, program=self.source, verbose=verbose)
        self._fit_trainer.verbose = verbose
        return self._fit_trainer

    def fit(
        self,
        x,
        y=None,
        epochs: int | None = None,
        batch_size: int | None = None,
        validation_data=None,
        verbose: int = 1,
        diagnostics: bool | None = None,
        log_dir=None,
    ):
        """Train with the program's loss and optimizer; returns a History (`.history["loss"]`).
        With `target = input` (an autoencoder) y may be left out: x is the target.
        `diagnostics=True` gathers per-layer statistics (`history.diagnostics`, warnings after each epoch);
        `log_dir` writes TensorBoard event files there."""
        from netdsl.train.trainer import Progress

        if y is None and not self.train_config.reproduces_input:
            raise ValueError("fit needs targets y (the train section's target is labels)")
        x = self._inputs(x, fit=True, verbose=verbose)  # shaped as `netdsl train` shapes a data set
        trainer = self._trainer(verbose)
        trainer.progress = Progress()
        trainer.log_dir = log_dir
        trainer.config = trainer.config.override(log="tensorboard" if log_dir is not None else self.train_config.log)
        trainer.set_diagnostics(self.train_config.diagnostics if diagnostics is None else diagnostics)
        validation = None
        if validation_data is not None:
            validation = (
                self._inputs(validation_data[0], "validation x", fit=True, verbose=verbose),
                validation_data[1],
            )
        return trainer.fit(x, x if y is None else y, validation, epochs=epochs, batch_size=batch_size)

    def evaluate(self, x, y, batch_size: int = 256) -> tuple[float, float]:
        """(loss, the metric: accuracy, or mae/rmse for `target = values`) at inference; x is shaped to the
        input as `fit` shapes it."""
        return self._trainer(0).evaluate(self._inputs(x, fit=True), y, batch_size)

    def predict(self, x, batch_size: int = 256):
        """Outputs for a batch of inputs (NCHW, NHWC for a layout=hwc input, or vectors), at inference."""
        return self.executor.predict(self._inputs(x), batch_size)

    def input_gradient(self, x, dout=None, layer: str | None = None):
        """The gradient of sum(dout * A) with respect to the input batch x, where A is the output of `layer`
        (default: the network's output) at inference; `dout` is an array like A, a function of A that returns
        one, or None for all ones (the gradient of A's sum). Returns (gradient, A), both NCHW."""
        import numpy as np

        if self.tokens is not None:
            raise ValueError(f"network {self.name} takes token ids: it has no gradient with respect to its input")
        if layer is not None and layer not in self.graph:
            names = ", ".join(n.name for n in self.graph)
            raise ValueError(f"network {self.name} has no layer {layer!r} (it has {names})")
        return self.executor.input_gradient(self._inputs(x), np.ones_like if dout is None else dout, layer)

    def save_weights(self, path) -> None:
        from netdsl.backends.numpy.weights import save_weights

        save_weights(path, self.executor.state_dict())

    def load_weights(self, path) -> None:
        """Load an .npz; every name and shape is checked, all mismatches are listed at once."""
        from netdsl.backends.numpy.executor import Executor
        from netdsl.backends.numpy.weights import load_weights

        tensors = load_weights(path, self.graph)
        if self._backend is None:  # every tensor comes from the file: no seeded weights to draw first
            self._backend = Executor(self.graph)
        self._backend.load_state_dict(tensors)

    def export_onnx(self, path, opset: int = DEFAULT_OPSET, input_layout: str = "nchw"):
        """Write this model, with its current weights, as an ONNX file; input_layout="nhwc" for N x H x W x C feeds."""
        from netdsl.backends.onnx.export import export_onnx, split_metadata

        config = self.train_config
        return export_onnx(
            self.graph,
            self.executor.state_dict(),
            path,
            opset=opset,
            metadata=split_metadata(config.data, config.seed, config.val_split),
            input_layout=input_layout,
        )

    def summary(self) -> str:
        """The `netdsl check` table as plain text."""
        from netdsl.table import summary_text

        return summary_text(self._network)

    def _repr_html_(self) -> str:
        """The check table and the diagram, for notebooks."""
        from netdsl.draw.notebook import model_html

        return model_html(self)

    def _repr_svg_(self) -> str:
        """The diagram, for notebooks and other SVG-showing front ends."""
        from netdsl.draw.notebook import model_svg

        return model_svg(self)

    def __repr__(self) -> str:
        return f"<netdsl.Model {self.name}: {len(self.graph)} layers, {self.totals.trainable:,} params>"


def data_relative_to(config: TrainConfig, program_file: str) -> TrainConfig:
    """The train section with a relative data file path taken from the .net file's folder, not the current
    directory (`data = "blobs.csv"` in mine/net.net is mine/blobs.csv); built-in names and absolute paths stay."""
    from dataclasses import replace

    from netdsl.data import FILE_SUFFIXES

    folder = Path(program_file).parent
    path = Path(config.data)
    if not config.data.lower().endswith(FILE_SUFFIXES) or path.is_absolute() or program_file.startswith("<"):
        return config
    return replace(config, data=str(folder / path))


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
    """Compile a .net file, or import an .onnx one with its weights; a bad program raises NetdslError carrying
    the diagnostics."""
    from netdsl.frontend.limits import SourceFileError, read_source

    path = Path(path)
    if path.suffix.lower() == ".onnx":
        return _load_onnx(path)
    try:
        text = read_source(path)  # regular files of at most 1 MiB: a FIFO or /dev/zero is refused
    except SourceFileError as err:
        raise NetdslError([Diagnostic("error", str(err))]) from None
    except OSError as err:
        raise NetdslError([Diagnostic("error", f"{path}: cannot read: {err.strerror or err}")]) from None
    return loads(text, network, str(path))


def _load_onnx(path: Path) -> Model:
    """An ONNX model imported (netdsl.importer) as a Model holding the model's own weights."""
    from netdsl.backends.numpy.executor import Executor
    from netdsl.importer import OnnxImportError, import_onnx

    try:
        text, weights = import_onnx(path)
    except OnnxImportError as err:  # one error per line (per unsupported op type); the supported ops as a hint
        *errors, last = str(err).splitlines()
        hint = last if errors and last.startswith("netdsl imports") else None
        lines = errors if hint else [*errors, last]
        raise NetdslError([Diagnostic("error", f"{path}: {line}", hint=hint) for line in lines]) from None
    model = loads(text, file=str(path))
    model._backend = Executor(model.graph)
    model._backend.load_state_dict(weights)
    return model
