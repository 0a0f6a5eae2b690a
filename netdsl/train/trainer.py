"""The training loop: batches, metrics, progress, checkpoints, history, resume, Ctrl-C, NaN stop."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from netdsl.backends.numpy.executor import Executor
from netdsl.backends.numpy.objective import Objective
from netdsl.backends.numpy.optimizers import Optimizer, make_optimizer
from netdsl.backends.numpy.weights import check_tensors, save_weights
from netdsl.fileio import atomic_write, atomic_write_text
from netdsl.train import layer_stats
from netdsl.train.checkpoint import (
    CHECKPOINT,
    Checkpoint,
    CheckpointError,
    data_fingerprint,
    load_optimizer_state,
    read_checkpoint,
    settings_of,
)
from netdsl.train.config import TrainConfig
from netdsl.train.hooks import RunExtras, TrainingError
from netdsl.train.layer_stats import LayerProbe
from netdsl.train.loss_watch import LossWatch
from netdsl.train.progress import PeriodicLine, progress_line
from netdsl.train.tensorboard import EventLog


def history_columns(metric: str | None) -> tuple[str, ...]:
    """history.csv's columns: the metric (accuracy, mae, rmse) and its validation value beside the losses."""
    named = (metric, f"val_{metric}") if metric else ()
    return ("epoch", "loss", *named[:1], "val_loss", *named[1:], "lr", "seconds")


HISTORY_COLUMNS = history_columns("accuracy")  # a classifier's


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: a checkpoint was saved; the command exits 128 + the signal's number (130, 143)."""

    def __init__(self, message: str, signum: int = signal.SIGINT):
        super().__init__(message)
        self.signum = signum


def program_hash(source: str, network: str) -> str:
    return hashlib.sha256(f"{network}\n{source}".encode()).hexdigest()


def build_optimizer(config: TrainConfig) -> Optimizer:
    """The configured optimizer with the front end's defaults filled in."""
    return make_optimizer(config.optimizer, **config.optimizer_kwargs())


@dataclass
class History:
    """Keras-like: `history.history["val_loss"]` is a list with one value per epoch."""

    rows: list[dict[str, float]] = field(default_factory=list)
    columns: tuple[str, ...] = HISTORY_COLUMNS
    diagnostics: list[dict] = field(default_factory=list)  # per layer and epoch, with diagnostics on

    @property
    def history(self) -> dict[str, list[float]]:
        return {key: [row.get(key, float("nan")) for row in self.rows] for key in self.columns[1:]}

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
        return buffer.getvalue()

    @classmethod
    def from_csv(cls, text: str) -> History:
        """Rows of a history.csv; ValueError for a cell that is not a number."""
        reader = csv.DictReader(io.StringIO(text))
        rows = [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items() if v is not None} for row in reader]
        return cls(rows, tuple(reader.fieldnames or HISTORY_COLUMNS))


@dataclass
class Progress:
    """Where training stands inside an epoch: enough to continue it exactly."""

    epoch: int = 0  # completed epochs
    step: int = 0  # completed steps of the current epoch
    perm: np.ndarray | None = None
    loss_sum: float = 0.0
    correct_sum: float = 0.0
    seen: int = 0
    seconds: float = 0.0


class _SigintFlag:
    """Turns Ctrl-C (and SIGTERM, when there is a run directory to save to) into a flag checked between steps,
    so a step is never cut in half."""

    def __init__(self, terminate: bool = False) -> None:
        self.signals = (signal.SIGINT, signal.SIGTERM) if terminate else (signal.SIGINT,)
        self.raised = False
        self.signum = signal.SIGINT
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _SigintFlag:
        for signum in self.signals:
            try:
                self._previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def _handle(self, signum, frame) -> None:
        self.raised, self.signum = True, signum

    def __exit__(self, *exc) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


class Trainer:
    """Trains an executor on arrays; with `out_dir`, writes weights, history and checkpoints."""

    def __init__(
        self,
        executor: Executor,
        config: TrainConfig,
        *,
        out_dir: str | Path | None = None,
        program: str = "",
        verbose: int = 1,
    ):
        self.executor = executor
        self.config = config
        self.objective = Objective(executor.graph, config.loss, config.metric)
        self.optimizer = build_optimizer(config)
        self.rng = np.random.default_rng(config.seed + 1)
        self.out_dir = Path(out_dir) if out_dir else None
        self.program = program
        self.program_hash = program_hash(program, executor.graph.name)
        self.verbose = verbose
        self.history = History(columns=history_columns(config.metric))
        self.progress = Progress()
        self.data: dict | None = None  # the fingerprint of the data trained on (a resume checks it)
        self.loss_watch = LossWatch()
        self.extras = RunExtras(config, executor)  # lr schedule, augmentation, early stopping
        self.log_dir = self.out_dir  # where `log = tensorboard` writes its event files
        self.probe: LayerProbe | None = None
        self.events: EventLog | None = None
        self.set_diagnostics(config.diagnostics)

    def set_diagnostics(self, on: bool) -> None:
        """Gather per-layer statistics each epoch (also when TensorBoard needs them), or stop gathering them."""
        from dataclasses import replace

        self.config = replace(self.config, diagnostics=on)
        wanted = on or self.config.log == "tensorboard"
        self.probe = (self.probe or LayerProbe.of(self.executor.graph)) if wanted else None
        if self.probe is not None:
            self.probe.keep_grads = self.config.log == "tensorboard"

    # ---- one step ----
    def step(self, xb: np.ndarray, yb: np.ndarray) -> tuple[float, float]:
        out = self.executor.forward(xb, training=True, rng=self.rng, stop_before=self.objective.stop_before)
        loss, dout = self.objective(out, yb)
        if not np.isfinite(loss):
            return loss, 0.0
        grads = self.executor.backward(dout, start=self.objective.start)
        self.optimizer.step(self.executor.params, grads)
        return loss, self.objective.metric_term(out, yb)

    def _probed_step(self, xb: np.ndarray, yb: np.ndarray) -> tuple[float, float]:
        """`step`, with the layers' outputs, the gradients and the weights before and after shown to the probe."""
        outputs: dict[str, np.ndarray] = {}
        out = self.executor.forward(
            xb, training=True, rng=self.rng, stop_before=self.objective.stop_before, record=outputs
        )
        loss, dout = self.objective(out, yb)
        if not np.isfinite(loss):
            return loss, 0.0
        grads = self.executor.backward(dout, start=self.objective.start)
        before = self.probe.snapshot(self.executor.params)
        self.optimizer.step(self.executor.params, grads)
        self.probe.observe(outputs, grads, before, self.executor.params)
        return loss, self.objective.accuracy(out, yb)

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> tuple[float, float]:
        """Mean loss and the metric (accuracy, mae or rmse; nan with none) at inference (running batchnorm
        statistics, no dropout)."""
        loss_sum = correct = 0.0
        for i in range(0, len(x), batch_size):
            xb, yb = x[i : i + batch_size], y[i : i + batch_size]
            out = self.executor.forward(xb, training=False, stop_before=self.objective.stop_before)
            loss, _ = self.objective(out, yb)
            loss_sum += loss * len(xb)
            correct += self.objective.metric_term(out, yb) * len(xb)
        n = max(len(x), 1)
        return loss_sum / n, self.objective.finish_metric(correct / n)

    # ---- the loop ----
    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
    ) -> History:
        epochs = epochs or self.config.epochs
        batch = batch_size or self.config.batch
        steps = -(-len(x) // batch)
        if self.out_dir:
            self._check_data(data_fingerprint(x, y, validation))
        self.extras.start(
            self.progress.epoch == 0 and self.progress.step == 0,
            x.shape[1:],
            validation is not None and len(validation[0]) > 0,
        )
        probe = self.probe
        # a diverging net overflows on its way to NaN: the NaN check below says so, not NumPy's RuntimeWarnings
        with (
            _SigintFlag(terminate=self.out_dir is not None) as sigint,
            self._bar(epochs, len(x)) as bar,
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
            self._event_log(),
        ):
            while self.progress.epoch < epochs and not self.extras.stopped:
                p = self.progress
                if p.step == 0:
                    p.perm = self.rng.permutation(len(x))
                    p.loss_sum = p.correct_sum = p.seconds = 0.0
                    p.seen = 0
                bar.start_epoch(p.epoch + 1, p.seen)
                started = time.perf_counter()
                while p.step < steps:
                    index = p.perm[p.step * batch : (p.step + 1) * batch]
                    self.optimizer.lr = self.extras.lr(p.epoch, epochs, self.optimizer.t)
                    if probe is not None and probe.sampled(p.step, steps):
                        loss, acc = self._probed_step(self.extras.augmented(x[index]), y[index])
                    else:
                        loss, acc = self.step(self.extras.augmented(x[index]), y[index])
                    self._watch(loss, p)
                    if not np.isfinite(loss):
                        raise TrainingError(
                            f"the loss became {loss} at epoch {p.epoch + 1}, step {p.step + 1}; "
                            f"try a lower learning rate (now {self.config.lr:g}), e.g. --lr {self.config.lr / 10:g}"
                        )
                    p.step += 1
                    p.loss_sum += loss * len(index)
                    p.correct_sum += acc * len(index)
                    p.seen += len(index)
                    bar.advance(
                        p.seen,
                        p.loss_sum / p.seen,
                        self.objective.finish_metric(p.correct_sum / p.seen),
                        p.seconds + time.perf_counter() - started,
                    )
                    if sigint.raised:
                        p.seconds += time.perf_counter() - started
                        self.save_checkpoint()
                        raise Interrupted(self._where(), sigint.signum)
                p.seconds += time.perf_counter() - started
                self._end_epoch(validation, bar)
        restored = self.extras.finish(self.out_dir)
        if restored and self.verbose > 0:
            print(restored, flush=True)
        return self.history

    def _watch(self, loss: float, p: Progress) -> None:
        warning = self.loss_watch.check(loss, p.epoch + 1, p.step + 1, self.config.lr)
        if warning:
            print(f"netdsl: warning: {warning}", file=sys.stderr, flush=True)

    def _end_epoch(self, validation, bar) -> None:
        p = self.progress
        metric = self.config.metric
        row = {
            "epoch": p.epoch + 1,
            "loss": p.loss_sum / max(p.seen, 1),
            "val_loss": float("nan"),
            "lr": self.optimizer.lr,
            "seconds": p.seconds,
        }
        if metric:
            row[metric] = self.objective.finish_metric(p.correct_sum / max(p.seen, 1))
            row[f"val_{metric}"] = float("nan")
        if validation is not None and len(validation[0]):
            row["val_loss"], value = self.evaluate(*validation)
            if metric:
                row[f"val_{metric}"] = value
        self.history.rows.append(row)
        p.epoch, p.step, p.perm = p.epoch + 1, 0, None
        diagnosed = self._end_epoch_diagnostics(row) if self.probe is not None else []
        bar.end_epoch(row, p.seen)  # a notebook's curves are redrawn here, with this epoch's diagnostics
        line = layer_stats.warning_line(diagnosed)
        if line and self.verbose > 0:
            print(f"epoch {row['epoch']} diagnostics: {line}", flush=True)
        self.extras.end_epoch(row, self.out_dir)
        if self.out_dir:
            save_weights(self.out_dir / "weights.npz", self.executor.state_dict())
            self.save_checkpoint()  # also writes history.csv
            from netdsl.draw.run_dir import write_epoch_files  # settings.json, curves.png (kept out of the imports)

            write_epoch_files(self)

    def _end_epoch_diagnostics(self, row: dict) -> list[dict]:
        """The epoch's per-layer rows: kept in the history and written to diagnostics.csv (returned, to be
        warned about), and with the epoch's events for TensorBoard."""
        rows = self.probe.end_epoch(int(row["epoch"]))
        if self.events is not None:
            self.events.epoch(row, rows, self.executor.params, self.probe.last_grads)
        if not self.config.diagnostics:
            return []
        self.history.diagnostics.extend(rows)
        if self.out_dir:
            atomic_write_text(self.out_dir / layer_stats.DIAGNOSTICS, layer_stats.to_csv(self.history.diagnostics))
        return rows

    @contextlib.contextmanager
    def _event_log(self):
        """With `log = tensorboard`, the run's event file is open while training."""
        if self.config.log != "tensorboard":
            yield
            return
        from netdsl.train.tensorboard import TensorBoardMissing

        if self.log_dir is None:
            raise TrainingError(
                "log = tensorboard writes event files into a run directory; give one "
                "(netdsl train --out DIR, or fit(..., log_dir=DIR))"
            )
        try:
            events = EventLog(Path(self.log_dir))
        except TensorBoardMissing as err:
            raise TrainingError(str(err)) from None
        self.events = events
        try:
            yield
        finally:
            events.close()
            self.events = None

    def _check_data(self, fingerprint: dict) -> None:
        """A resumed run goes on with the data it was trained on (a checkpoint before settings: its epoch order)."""
        perm = self.progress.perm
        if perm is not None and len(perm) != fingerprint["train"]:
            raise TrainingError(
                f"{self.out_dir / CHECKPOINT}: the epoch it stopped in orders {len(perm)} samples, "
                f"the data have {fingerprint['train']}; resume with the run's data and --val-split"
            )
        if self.data is not None and self.data != fingerprint:
            raise TrainingError(
                f"{self.out_dir / CHECKPOINT}: the run was trained on other data ({self.data['train']} "
                f"training samples, {self.data['val']} for validation, another checksum) than now "
                f"({fingerprint['train']} and {fingerprint['val']}); resume with the same data"
            )
        self.data = fingerprint

    def _where(self) -> str:
        where = f"{self.out_dir / CHECKPOINT}" if self.out_dir else "memory"
        return f"interrupted at epoch {self.progress.epoch + 1}, step {self.progress.step}; checkpoint in {where}"

    def _bar(self, epochs: int, samples: int):
        from netdsl.train.notebook import NotebookBar, in_notebook

        if self.verbose > 0 and in_notebook():
            return NotebookBar(epochs, samples, self)
        return _ProgressBar(epochs, samples, self.verbose, self.config.metric)

    # ---- checkpoints ----
    def save_checkpoint(self) -> None:
        if not self.out_dir:
            return
        p = self.progress
        meta = {
            "epoch": p.epoch,
            "step": p.step,
            "loss_sum": p.loss_sum,
            "correct_sum": p.correct_sum,
            "seen": p.seen,
            "seconds": p.seconds,
            "rng_state": self.rng.bit_generator.state,
            "program_hash": self.program_hash,
            "settings": settings_of(self.config),
            "data": self.data,
            "history": self.history.rows,  # history.csv can be rebuilt from here after a crash
            **self.extras.state_dict(),
        }
        arrays = {f"param/{k}": v for k, v in self.executor.state_dict().items()}
        arrays |= {f"optim/{k}": np.asarray(v) for k, v in self.optimizer.state_dict().items()}
        arrays["meta"] = np.array(json.dumps(meta))
        if p.perm is not None and p.step:
            arrays["perm"] = p.perm
        atomic_write(self.out_dir / CHECKPOINT, lambda handle: np.savez(handle, **arrays))  # type: ignore[arg-type]  # numpy's stub
        atomic_write_text(self.out_dir / "history.csv", self.history.to_csv())

    def resume(self, source: str | Path | Checkpoint) -> None:
        """Continue from a checkpoint (or its directory) of the same program: weights, optimizer, RNG, position."""
        checkpoint = source if isinstance(source, Checkpoint) else read_checkpoint(source)
        path, meta = checkpoint.path, checkpoint.meta
        if meta["program_hash"] != self.program_hash:
            raise TrainingError(
                f"{path} was written for another program (or network); "
                "train from scratch or resume with the program it was made with"
            )
        check_tensors(checkpoint.params, self.executor.graph, str(path))
        self.executor.load_state_dict(checkpoint.params)
        load_optimizer_state(self.optimizer, checkpoint.optimizer_state, self.executor.params, path)
        self.rng.bit_generator.state = meta["rng_state"]
        self.extras.load_state_dict(meta, path.parent)
        self.progress = Progress(
            meta["epoch"],
            meta["step"],
            checkpoint.arrays.get("perm"),
            meta["loss_sum"],
            meta["correct_sum"],
            meta["seen"],
            meta["seconds"],
        )
        self.data = meta.get("data")
        self.history = (
            _history_rows(meta["history"], path, self.history.columns)
            if "history" in meta
            else _history_file(path.parent / "history.csv")
        )
        self.history.rows = self.history.rows[: meta["epoch"]]
        self.history.diagnostics = _diagnostics_file(path.parent / layer_stats.DIAGNOSTICS, meta["epoch"])
        if self.out_dir and "history" in meta:  # a crash after the checkpoint's rename may have lost the csv row
            _restore(self.out_dir / "history.csv", self.history.to_csv())


def _restore(path: Path, text: str) -> None:
    """Write `text` to `path` unless it already holds it."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write_text(path, text)


def _history_rows(rows: list[dict], path: Path, columns: tuple[str, ...]) -> History:
    """The history a checkpoint holds, each row with every column."""
    for row in rows:
        if set(row) != set(columns):
            raise CheckpointError(f"{path}: a history row has columns {sorted(row)}, expected {list(columns)}")
    return History([dict(row) for row in rows], columns)


def _diagnostics_file(path: Path, epochs: int) -> list[dict]:
    """The rows of a run's diagnostics.csv up to the checkpoint's epoch ([] when there is none)."""
    if not path.is_file():
        return []
    try:
        rows = layer_stats.from_csv(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not a netdsl diagnostics file ({err})") from None
    return [row for row in rows if row["epoch"] <= epochs]


def _history_file(path: Path) -> History:
    """history.csv of a checkpoint written before checkpoints held the history."""
    if not path.is_file():
        return History()
    try:
        return History.from_csv(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not a netdsl history ({err})") from None


class _ProgressBar:
    """A rich progress bar per epoch on a terminal; one line per epoch otherwise."""

    def __init__(self, epochs: int, samples: int, verbose: int, metric: str | None = "accuracy"):
        self.epochs, self.samples, self.verbose, self.metric = epochs, samples, verbose, metric
        self.live = verbose > 0 and sys.stdout.isatty()
        self._progress: Any = None  # a rich Progress, imported only for a live terminal
        self._task = None
        self._epoch = 0
        self._periodic = PeriodicLine() if verbose > 0 and not self.live else None

    def __enter__(self) -> _ProgressBar:
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"),
                TimeElapsedColumn(),
                transient=True,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start_epoch(self, epoch: int, seen: int) -> None:
        self._epoch = epoch
        if self._progress is not None:
            self._task = self._progress.add_task(
                "", total=self.samples, completed=seen, epoch=epoch, epochs=self.epochs, stats=""
            )

    def advance(self, seen: int, loss: float, accuracy: float, seconds: float) -> None:
        if self._periodic is not None and seen < self.samples and self._periodic.due():
            print(
                progress_line(self._epoch, self.epochs, seen, self.samples, loss, accuracy, seconds, self.metric),
                flush=True,
            )
        if self._progress is not None:
            rate = seen / max(seconds, 1e-9)
            shown = f"  {self.metric} {accuracy:.4f}" if self.metric else ""
            self._progress.update(self._task, completed=seen, stats=f"{rate:,.0f} samples/s  loss {loss:.4f}{shown}")

    def end_epoch(self, row: dict, seen: int) -> None:
        if self._progress is not None:
            self._progress.remove_task(self._task)
        if self.verbose > 0:
            rate = seen / max(row["seconds"], 1e-9)
            metric = f"  {self.metric} {row[self.metric]:.4f}" if self.metric else ""
            val = (
                ""
                if np.isnan(row["val_loss"])
                else f"  val_loss {row['val_loss']:.4f}"
                + (f"  val_{self.metric} {row[f'val_{self.metric}']:.4f}" if self.metric else "")
            )
            print(
                f"epoch {row['epoch']}/{self.epochs}  loss {row['loss']:.4f}{metric}"
                f"{val}  {row['seconds']:.1f}s  {rate:,.0f} samples/s",
                flush=True,
            )
