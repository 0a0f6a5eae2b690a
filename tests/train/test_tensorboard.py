"""`log = tensorboard`: the event files, read back with TensorBoard's own reader, hold the run's numbers."""

from __future__ import annotations

import math
import struct
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import netdsl
from netdsl.cli import main
from netdsl.train.trainer import TrainingError

PROGRAM = "input(6) - fc(8, activation=relu) - fc(3)\ntrain {\n optimizer = sgd(lr=0.1)\n batch = 10\n seed = 2\n}"


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 6)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)


def _events(directory):
    """TensorBoard's own reader where the tensorboard package is installed, else _Records."""
    try:
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:
        return _Records(directory)
    reader = event_accumulator.EventAccumulator(str(directory), size_guidance={"scalars": 0, "histograms": 0})
    reader.Reload()
    return reader


class _Records:
    """The event files parsed as TFRecords (length, masked CRC-32C, Event proto, masked CRC-32C), each CRC
    checked: the part of TensorBoard's reader these tests use, for a test environment without tensorboard."""

    def __init__(self, directory):
        from tensorboardX.proto.event_pb2 import Event

        self.scalars: dict[str, list] = {}
        self.histograms: dict[str, list] = {}
        for path in sorted(directory.glob("events.out.tfevents.*")):
            data, at = path.read_bytes(), 0
            while at < len(data):
                header, length_crc = data[at : at + 8], struct.unpack("<I", data[at + 8 : at + 12])[0]
                assert _masked_crc(header) == length_crc, f"{path}: a damaged record length"
                (length,) = struct.unpack("<Q", header)
                body = data[at + 12 : at + 12 + length]
                assert _masked_crc(body) == struct.unpack("<I", data[at + 12 + length : at + 16 + length])[0]
                at += 16 + length
                self._add(Event.FromString(body))

    def _add(self, event) -> None:
        for value in event.summary.value:
            if value.HasField("simple_value"):
                self.scalars.setdefault(value.tag, []).append(
                    SimpleNamespace(step=event.step, value=value.simple_value)
                )
            elif value.HasField("histo"):
                self.histograms.setdefault(value.tag, []).append(
                    SimpleNamespace(step=event.step, histogram_value=value.histo)
                )

    def Tags(self) -> dict:  # noqa: N802 (TensorBoard's names)
        return {"scalars": list(self.scalars), "histograms": list(self.histograms)}

    def Scalars(self, tag: str) -> list:  # noqa: N802
        return self.scalars[tag]

    def Histograms(self, tag: str) -> list:  # noqa: N802
        return self.histograms[tag]


def _masked_crc(data: bytes) -> int:
    from tensorboardX.crc32c import crc32c

    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def test_the_fallback_reader_agrees_with_tensorboards(tmp_path) -> None:
    pytest.importorskip("tensorboardX", reason="log = tensorboard writes with tensorboardX (netdsl[tensorboard])")
    pytest.importorskip("tensorboard", reason="compares the fallback reader with TensorBoard's own")
    model = netdsl.loads(PROGRAM)
    x, y = _data()
    model.fit(x, y, epochs=2, verbose=0, log_dir=tmp_path)
    mine, theirs = _Records(tmp_path), _events(tmp_path)
    assert sorted(mine.Tags()["scalars"]) == sorted(theirs.Tags()["scalars"])
    assert sorted(mine.Tags()["histograms"]) == sorted(theirs.Tags()["histograms"])
    for tag in mine.Tags()["scalars"]:
        assert [(e.step, e.value) for e in mine.Scalars(tag)] == [(e.step, e.value) for e in theirs.Scalars(tag)]


def test_scalars_and_histograms_per_epoch(tmp_path) -> None:
    pytest.importorskip("tensorboardX", reason="log = tensorboard writes with tensorboardX (netdsl[tensorboard])")
    model = netdsl.loads(PROGRAM)
    x, y = _data()
    history = model.fit(x, y, epochs=3, verbose=0, validation_data=(x[:20], y[:20]), log_dir=tmp_path)
    reader = _events(tmp_path)
    tags = reader.Tags()
    for column in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"):
        events = reader.Scalars(f"epoch/{column}")
        assert [e.step for e in events] == [1, 2, 3]
        assert np.allclose([e.value for e in events], history.history[column], rtol=1e-6), column
    for layer in ("fc_1", "fc_2"):
        for statistic in ("weight_norm", "grad_norm", "update_ratio"):
            assert f"diagnostics/{layer}/{statistic}" in tags["scalars"]
        for param in ("weight", "bias"):
            assert f"weights/{layer}.{param}" in tags["histograms"]
            assert f"gradients/{layer}.{param}" in tags["histograms"]
    for statistic in ("dead_fraction", "mean", "std"):
        assert f"diagnostics/fc_1_relu/{statistic}" in tags["scalars"]
    weights = reader.Histograms("weights/fc_1.weight")
    assert [h.step for h in weights] == [1, 2, 3]
    final = model.executor.params["fc_1.weight"]
    last = weights[-1].histogram_value
    assert last.num == final.size and math.isclose(last.sum, float(final.sum()), rel_tol=1e-4, abs_tol=1e-4)
    assert math.isclose(last.min, float(final.min()), rel_tol=1e-6)
    assert history.diagnostics == []  # TensorBoard alone logs the statistics; it does not turn diagnostics on


def test_netdsl_train_log_tensorboard_writes_into_the_run_directory(tmp_path, capsys) -> None:
    pytest.importorskip("tensorboardX", reason="log = tensorboard writes with tensorboardX (netdsl[tensorboard])")
    program = tmp_path / "net.net"
    program.write_text("input(1, 8, 8) - conv(4, 3, activation=relu) - flatten - fc(10)\ntrain {\n epochs = 2\n}\n")
    assert main(["train", str(program), "--out", str(tmp_path / "run"), "--log", "tensorboard", "--quiet"]) == 0
    reader = _events(tmp_path / "run")
    assert [e.step for e in reader.Scalars("epoch/val_accuracy")] == [1, 2]
    assert "gradients/conv_1.weight" in reader.Tags()["histograms"]
    # --overwrite removes the earlier run's event files with its other files
    assert main(["train", str(program), "--out", str(tmp_path / "run"), "--overwrite", "--epochs", "1", "--quiet"]) == 0
    assert not list((tmp_path / "run").glob("events.out.tfevents.*"))


def test_without_tensorboardx_it_is_one_line(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import tensorboardX now raises ImportError
    model = netdsl.loads(PROGRAM)
    x, y = _data()
    with pytest.raises(TrainingError, match=r"needs the tensorboardX package: pip install 'netdsl\[tensorboard\]'"):
        model.fit(x, y, epochs=1, verbose=0, log_dir=tmp_path)
    program = tmp_path / "net.net"
    program.write_text("input(1, 8, 8) - flatten - fc(10)\n")
    with pytest.raises(SystemExit) as exited:
        main(["train", str(program), "--data", "digits", "--out", str(tmp_path / "run"), "--log", "tensorboard"])
    assert exited.value.code == 1
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "tensorboardX" in error


def test_a_program_that_logs_needs_a_directory_in_python() -> None:
    model = netdsl.loads(PROGRAM.replace("seed = 2", "log = tensorboard"))
    x, y = _data()
    with pytest.raises(TrainingError, match="log = tensorboard writes event files into a run directory"):
        model.fit(x, y, epochs=1, verbose=0)
