"""Run exported .onnx models with onnxruntime: provider choice, input checks, batching.

    session = Session("lenet5.onnx", provider="auto")   # CUDA only when it really loads, else CPU
    probs = session.run(x)                              # x: float32 (n, C, H, W) or one sample (C, H, W)

Problems a user can cause (a missing or corrupt model, an input of the wrong shape or dtype, CUDA
asked for but unavailable) raise SessionError with a one-line message; onnxruntime's own noise on
stderr while a session is created is swallowed. onnxruntime is imported on first use.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from netdsl.data.inputs import show_shape

PROVIDERS = ("auto", "cpu", "cuda")
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


class SessionError(Exception):
    """A model, input or provider problem; the message is the one line to show the user."""


def _ort() -> Any:
    """onnxruntime, with its default logger limited to errors."""
    import onnxruntime

    onnxruntime.set_default_logger_severity(3)
    return onnxruntime


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Redirect file descriptor 2 (where onnxruntime's C++ logger writes); yields a list that receives the text."""
    text: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield text
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text.append(sink.read().decode("utf-8", "replace"))


def _short(err: BaseException) -> str:
    """onnxruntime's exception text without its '[ONNXRuntimeError] : 7 : CODE :' prefix, one line."""
    text = re.sub(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*", "", str(err).strip())
    if "Protobuf parsing failed" in text or "protobuf parsing failed" in text:
        return "cannot parse it (a truncated or corrupt file, or not an .onnx model)"
    text = re.sub(r"^Load model from .* failed:\s*", "", text)
    line = text.splitlines()[0] if text else type(err).__name__
    return line if len(line) <= 200 else line[:197] + "..."


def cuda_failure_reason(log: str) -> str:
    """Why the CUDA provider did not load, in a few words, from onnxruntime's stderr."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log)
    missing = re.search(r"([\w.+-]+\.so[\w.]*): cannot open shared object file", plain)
    needs = re.search(r"Require (cuDNN \d+(?:\.[\d*]+)* and CUDA \d+(?:\.[\d*]+)*)", plain)
    if missing:
        return f"{missing.group(1)} not found" + (f"; onnxruntime-gpu needs {needs.group(1)}" if needs else "")
    for pattern in (
        r"(no CUDA-capable device is detected)",
        r"(CUDA driver version is insufficient[^\n.]*)",
        r"CUDA failure \d+: ([^;\n]+)",
    ):
        found = re.search(pattern, plain)
        if found:
            return found.group(1).strip()
    return "the CUDA provider did not load" + (f" (it needs {needs.group(1)})" if needs else "")


def _source(model: str | os.PathLike[str] | bytes) -> tuple[str | bytes, str]:
    """What onnxruntime opens (a path or bytes) and the name to use in messages; missing files raise."""
    if isinstance(model, (bytes, bytearray)):
        return bytes(model), "model"
    path = Path(model)
    if not path.exists():
        raise SessionError(f"{path}: no such file")
    if path.is_dir():
        raise SessionError(f"{path}: is a directory, not an .onnx file")
    if path.stat().st_size == 0:
        raise SessionError(f"{path}: empty file, not an ONNX model")
    return str(path), str(path)


class _LoadError(SessionError):
    """onnxruntime refused to create a session; `detail` is its reason, shortened."""

    def __init__(self, name: str, detail: str):
        super().__init__(f"{name}: not a valid ONNX model: {detail}")
        self.detail = detail


def _create(source: str | bytes, name: str, providers: list[str], threads: int | None = None) -> tuple[Any, str]:
    """An InferenceSession (at most `threads` intra-op threads when given) and what onnxruntime wrote to
    stderr meanwhile; an unloadable model raises."""
    ort = _ort()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads is not None:
        options.intra_op_num_threads = threads
    with captured_stderr() as log:
        try:
            session = ort.InferenceSession(source, sess_options=options, providers=providers)
        except Exception as err:  # onnxruntime raises its own classes (InvalidProtobuf, Fail, InvalidGraph, ...)
            error = err
        else:
            error = None
    if error is not None:
        raise _LoadError(name, _short(error)) from None
    return session, "".join(log)


def _try_cuda(source: str | bytes, name: str, threads: int | None = None) -> tuple[Any, str]:
    """A session that runs on CUDA, or (None or a CPU session, why CUDA is not used)."""
    if CUDA not in _ort().get_available_providers():
        return None, "this onnxruntime build has no CUDA provider (install onnxruntime-gpu)"
    try:
        session, log = _create(source, name, [CUDA, CPU], threads)
    except _LoadError as err:  # a CUDA failure that raised instead of falling back, or a bad model
        session = _create(source, name, [CPU], threads)[0]  # raises again if the model itself is bad
        return session, err.detail
    if session.get_providers()[0] == CUDA:
        return session, ""
    return session, cuda_failure_reason(log)


def open_session(
    model: str | os.PathLike[str] | bytes, provider: str = "auto", threads: int | None = None
) -> tuple[Any, str | None]:
    """An InferenceSession on the asked provider (at most `threads` intra-op threads when given), and why
    `auto` runs on the CPU when it does (None otherwise); `cuda` that cannot load raises, saying why."""
    if provider not in PROVIDERS:
        raise SessionError(f"unknown provider '{provider}': use one of {', '.join(PROVIDERS)}")
    source, name = _source(model)
    if provider == "cpu":
        return _create(source, name, [CPU], threads)[0], None
    session, reason = _try_cuda(source, name, threads)
    if not reason:
        return session, None
    if provider == "cuda":
        raise SessionError(f"the CUDA provider cannot load: {reason}")
    if session is None:
        session = _create(source, name, [CPU], threads)[0]
    return session, reason


def _dim(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


class Session:
    """An onnxruntime session on a one-input model, with input checks and batching.

    `input_shape` and `output_shape` are per sample (batch dimension left out; None where the
    model leaves a dimension open); `providers` lists the providers the session really uses, and
    `fallback_reason` why `auto` runs on the CPU (None when it runs where it was asked to).
    """

    def __init__(self, model: str | os.PathLike[str] | bytes, provider: str = "auto", threads: int | None = None):
        self.name = "model" if isinstance(model, (bytes, bytearray)) else str(model)
        self._session, self.fallback_reason = open_session(model, provider, threads)  # not printed: no GPU asked
        self.threads = threads
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1:
            raise SessionError(f"{self.name}: has {len(inputs)} inputs; netdsl runs models with one input")
        self.input_name: str = inputs[0].name
        self.input_type: str = inputs[0].type
        self.input_shape: tuple[int | None, ...] = tuple(_dim(d) for d in inputs[0].shape[1:])
        self.output_shape: tuple[int | None, ...] = tuple(_dim(d) for d in outputs[0].shape[1:])
        # the model's custom metadata: netdsl export records the class names, layouts and training split there
        self.metadata: dict[str, str] = dict(self._session.get_modelmeta().custom_metadata_map)

    @property
    def providers(self) -> list[str]:
        return list(self._session.get_providers())

    @property
    def device(self) -> str:
        """'cuda' or 'cpu': where the model runs."""
        return "cuda" if self.providers[0] == CUDA else "cpu"

    def check_input(self, x: Any) -> np.ndarray:
        """x as a float32 batch (n, *input_shape); one sample gains a batch dimension; wrong inputs raise."""
        x = np.asarray(x)
        if self.input_type != "tensor(float)":
            raise SessionError(f"{self.name}: the model takes {self.input_type}; netdsl runs float32 models")
        if x.dtype != np.float32:
            raise SessionError(f"input dtype: the model expects float32, received {x.dtype}")
        expected = self.input_shape
        if x.shape == expected:
            return x[None]
        if x.ndim != len(expected) + 1 or any(e is not None and e != g for e, g in zip(expected, x.shape[1:])):
            raise SessionError(
                f"input shape: the model expects {show_shape(('batch', *expected))} or one sample "
                f"{show_shape(expected)}, received {show_shape(x.shape)}{_layout_hint(x, expected)}"
            )
        if x.shape[0] == 0:
            raise SessionError("input holds no samples")
        return x

    def run(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """The model's first output for x (see check_input), computed batch_size samples at a time."""
        x = self.check_input(x)
        step = batch_size or len(x)
        outputs = [self._run(x[start : start + step]) for start in range(0, len(x), step)]
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    def _run(self, chunk: np.ndarray) -> np.ndarray:
        try:
            return self._session.run(None, {self.input_name: np.ascontiguousarray(chunk)})[0]
        except Exception as err:  # onnxruntime's own exception classes
            raise SessionError(f"{self.name}: onnxruntime failed: {_short(err)}") from None


def _layout_hint(x: np.ndarray, expected: tuple[int | None, ...]) -> str:
    """A hint when a batch looks channels-last for a channels-first model."""
    if len(expected) == 3 and x.ndim == 4 and tuple(x.shape[1:]) == (*expected[1:], expected[0]):
        return " (channels-last? the model takes channels-first N x C x H x W: use x.transpose(0, 3, 1, 2))"
    return ""


def split_settings(metadata: dict[str, str]) -> tuple[int, float] | None:
    """(seed, val_split) recorded by `netdsl export`, or None when absent or unreadable."""
    try:
        seed, val_split = int(metadata["netdsl.seed"]), float(metadata["netdsl.val_split"])
    except (KeyError, ValueError):
        return None
    return (seed, val_split) if 0 <= val_split < 1 else None
