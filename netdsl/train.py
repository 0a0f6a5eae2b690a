"""The training loop: batches, metrics, progress, checkpoints, history, resume, Ctrl-C, NaN stop."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netdsl.backends.numpy.executor import Executor
from netdsl.backends.numpy.objective import Objective
from netdsl.backends.numpy.optimizers import Optimizer, make_optimizer
from netdsl.backends.numpy.weights import WeightsError, check_tensors, read_npz, save_weights
from netdsl.fileio import atomic_write, atomic_write_text
from netdsl.frontend.train_spec import TrainConfig

HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")
CHECKPOINT = "checkpoint.npz"


class TrainingError(Exception):
    """Training cannot go on (a NaN loss, a checkpoint of another program); one message for the user."""


class Interrupted(Exception):
    """Ctrl-C: a checkpoint was saved; the command exits 130."""


def program_hash(source: str, network: str) -> str:
    return hashlib.sha256(f"{network}\n{source}".encode()).hexdigest()


def build_optimizer(config: TrainConfig) -> Optimizer:
    """The configured optimizer with the front end's defaults filled in."""
    return make_optimizer(config.optimizer, **config.optimizer_kwargs())


@dataclass
class History:
    """Keras-like: `history.history["val_loss"]` is a list with one value per epoch."""

    rows: list[dict[str, float]] = field(default_factory=list)

    @property
    def history(self) -> dict[str, list[float]]:
        return {key: [row[key] for row in self.rows] for key in HISTORY_COLUMNS[1:]}

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
        return buffer.getvalue()

    @classmethod
    def from_csv(cls, text: str) -> History:
        rows = [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()}
                for row in csv.DictReader(io.StringIO(text))]
        return cls(rows)


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
    """Turns Ctrl-C into a flag checked between steps, so a step is never cut in half."""

    def __init__(self) -> None:
        self.raised = False
        self._previous = None

    def __enter__(self) -> _SigintFlag:
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    def _handle(self, signum, frame) -> None:
        self.raised = True

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class Trainer:
    """Trains an executor on arrays; with `out_dir`, writes weights, history and checkpoints."""

    def __init__(self, executor: Executor, config: TrainConfig, *, out_dir: str | Path | None = None,
                 program: str = "", verbose: int = 1):
        self.executor = executor
        self.config = config
        self.objective = Objective(executor.graph, config.loss)
        self.optimizer = build_optimizer(config)
        self.rng = np.random.default_rng(config.seed + 1)
        self.out_dir = Path(out_dir) if out_dir else None
        self.program = program
        self.program_hash = program_hash(program, executor.graph.name)
        self.verbose = verbose
        self.history = History()
        self.progress = Progress()

    # ---- one step ----
    def step(self, xb: np.ndarray, yb: np.ndarray) -> tuple[float, float]:
        out = self.executor.forward(xb, training=True, rng=self.rng, stop_before=self.objective.stop_before)
        loss, dout = self.objective(out, yb)
        if not np.isfinite(loss):
            return loss, 0.0
        grads = self.executor.backward(dout, start=self.objective.start)
        self.optimizer.step(self.executor.params, grads)
        return loss, self.objective.accuracy(out, yb)

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> tuple[float, float]:
        """Mean loss and accuracy at inference (running batchnorm statistics, no dropout)."""
        loss_sum = correct = 0.0
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            out = self.executor.forward(xb, training=False, stop_before=self.objective.stop_before)
            loss, _ = self.objective(out, yb)
            loss_sum += loss * len(xb)
            correct += self.objective.accuracy(out, yb) * len(xb)
        n = max(len(x), 1)
        return loss_sum / n, correct / n

    # ---- the loop ----
    def fit(self, x: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None = None,
            epochs: int | None = None, batch_size: int | None = None) -> History:
        epochs = epochs or self.config.epochs
        batch = batch_size or self.config.batch
        steps = -(-len(x) // batch)
        with _SigintFlag() as sigint, self._bar(epochs, len(x)) as bar:
            while self.progress.epoch < epochs:
                p = self.progress
                if p.step == 0:
                    p.perm = self.rng.permutation(len(x))
                    p.loss_sum = p.correct_sum = p.seconds = 0.0
                    p.seen = 0
                bar.start_epoch(p.epoch + 1, p.seen)
                started = time.perf_counter()
                while p.step < steps:
                    index = p.perm[p.step * batch:(p.step + 1) * batch]
                    loss, acc = self.step(x[index], y[index])
                    if not np.isfinite(loss):
                        raise TrainingError(
                            f"the loss became {loss} at epoch {p.epoch + 1}, step {p.step + 1}; "
                            f"try a lower learning rate (now {self.config.lr:g}), e.g. --lr {self.config.lr / 10:g}")
                    p.step += 1
                    p.loss_sum += loss * len(index)
                    p.correct_sum += acc * len(index)
                    p.seen += len(index)
                    bar.advance(p.seen, p.loss_sum / p.seen, p.correct_sum / p.seen,
                                p.seconds + time.perf_counter() - started)
                    if sigint.raised:
                        p.seconds += time.perf_counter() - started
                        self.save_checkpoint()
                        raise Interrupted(self._where())
                p.seconds += time.perf_counter() - started
                self._end_epoch(validation, bar)
        return self.history

    def _end_epoch(self, validation, bar) -> None:
        p = self.progress
        row = {"epoch": p.epoch + 1, "loss": p.loss_sum / max(p.seen, 1),
               "accuracy": p.correct_sum / max(p.seen, 1), "val_loss": float("nan"),
               "val_accuracy": float("nan"), "seconds": p.seconds}
        if validation is not None and len(validation[0]):
            row["val_loss"], row["val_accuracy"] = self.evaluate(*validation)
        self.history.rows.append(row)
        p.epoch, p.step, p.perm = p.epoch + 1, 0, None
        bar.end_epoch(row, p.seen)
        if self.out_dir:
            save_weights(self.out_dir / "weights.npz", self.executor.state_dict())
            self.save_checkpoint()  # also writes history.csv
            from netdsl.draw.run_dir import write_epoch_files  # settings.json, curves.png (kept out of the imports)
            write_epoch_files(self)

    def _where(self) -> str:
        where = f"{self.out_dir / CHECKPOINT}" if self.out_dir else "memory"
        return f"interrupted at epoch {self.progress.epoch + 1}, step {self.progress.step}; checkpoint in {where}"

    def _bar(self, epochs: int, samples: int):
        return _ProgressBar(epochs, samples, self.verbose)

    # ---- checkpoints ----
    def save_checkpoint(self) -> None:
        if not self.out_dir:
            return
        p = self.progress
        meta = {"epoch": p.epoch, "step": p.step, "loss_sum": p.loss_sum, "correct_sum": p.correct_sum,
                "seen": p.seen, "seconds": p.seconds, "rng_state": self.rng.bit_generator.state,
                "program_hash": self.program_hash}
        arrays = {f"param/{k}": v for k, v in self.executor.state_dict().items()}
        arrays |= {f"optim/{k}": np.asarray(v) for k, v in self.optimizer.state_dict().items()}
        arrays["meta"] = np.array(json.dumps(meta))
        if p.perm is not None and p.step:
            arrays["perm"] = p.perm
        atomic_write(self.out_dir / CHECKPOINT, lambda handle: np.savez(handle, **arrays))
        atomic_write_text(self.out_dir / "history.csv", self.history.to_csv())

    def resume(self, directory: str | Path) -> None:
        """Continue from a checkpoint of the same program: weights, optimizer, RNG, position."""
        directory = Path(directory)
        path = directory / CHECKPOINT
        if not path.is_file():
            raise TrainingError(f"{directory}: no {CHECKPOINT} to resume from")
        try:
            arrays = read_npz(path)
            meta = json.loads(str(arrays["meta"]))
        except (WeightsError, KeyError, json.JSONDecodeError) as err:
            raise TrainingError(f"{path}: not a netdsl checkpoint ({err})") from None
        if meta.get("program_hash") != self.program_hash:
            raise TrainingError(f"{path} was written for another program (or network); "
                                "train from scratch or resume with the program it was made with")
        state = {k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")}
        check_tensors(state, self.executor.graph, str(path))
        self.executor.load_state_dict(state)
        self.optimizer.load_state_dict({k[len("optim/"):]: v for k, v in arrays.items() if k.startswith("optim/")})
        self.rng.bit_generator.state = meta["rng_state"]
        self.progress = Progress(meta["epoch"], meta["step"], arrays.get("perm"), meta["loss_sum"],
                                 meta["correct_sum"], meta["seen"], meta["seconds"])
        history = directory / "history.csv"
        self.history = History.from_csv(history.read_text()) if history.is_file() else History()
        self.history.rows = self.history.rows[:meta["epoch"]]


class _ProgressBar:
    """A rich progress bar per epoch on a terminal; one line per epoch otherwise."""

    def __init__(self, epochs: int, samples: int, verbose: int):
        self.epochs, self.samples, self.verbose = epochs, samples, verbose
        self.live = verbose > 0 and sys.stdout.isatty()
        self._progress = None
        self._task = None

    def __enter__(self) -> _ProgressBar:
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"), BarColumn(),
                                      MofNCompleteColumn(), TextColumn("{task.fields[stats]}"), TimeElapsedColumn(),
                                      transient=True)
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start_epoch(self, epoch: int, seen: int) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task("", total=self.samples, completed=seen, epoch=epoch,
                                                 epochs=self.epochs, stats="")

    def advance(self, seen: int, loss: float, accuracy: float, seconds: float) -> None:
        if self._progress is not None:
            rate = seen / max(seconds, 1e-9)
            self._progress.update(self._task, completed=seen,
                                  stats=f"{rate:,.0f} samples/s  loss {loss:.4f}  accuracy {accuracy:.4f}")

    def end_epoch(self, row: dict, seen: int) -> None:
        if self._progress is not None:
            self._progress.remove_task(self._task)
        if self.verbose > 0:
            rate = seen / max(row["seconds"], 1e-9)
            val = "" if np.isnan(row["val_loss"]) else \
                f"  val_loss {row['val_loss']:.4f}  val_accuracy {row['val_accuracy']:.4f}"
            print(f"epoch {row['epoch']}/{self.epochs}  loss {row['loss']:.4f}  accuracy {row['accuracy']:.4f}"
                  f"{val}  {row['seconds']:.1f}s  {rate:,.0f} samples/s", flush=True)
