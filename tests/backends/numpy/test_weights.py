"""Issue 11 D7/D8/S5: weights files are checked from their headers, and refused in one line when unusable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import graph_of

from netdsl import npyfile
from netdsl.backends.numpy.executor import Executor
from netdsl.backends.numpy.weights import WeightsError, load_weights, save_weights
from netdsl.memory import NotEnoughMemory

PROGRAM = "input(4) - fc(3)\n"


def good_weights() -> dict[str, np.ndarray]:
    return {"fc_1.weight": np.ones((3, 4), np.float32), "fc_1.bias": np.zeros(3, np.float32)}


def test_nan_weights_are_refused_naming_the_tensor(tmp_path: Path) -> None:
    weights = good_weights()
    weights["fc_1.weight"][1, 2] = np.nan
    weights["fc_1.bias"][0] = np.inf
    save_weights(tmp_path / "w.npz", weights)
    with pytest.raises(
        WeightsError,
        match=r"NaN or infinite weights in fc_1.bias \(1 of 3 values\), "
        r"fc_1.weight \(1 of 12 values\)",
    ):
        load_weights(tmp_path / "w.npz", graph_of(PROGRAM))


def test_shapes_are_checked_before_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = good_weights() | {"fc_1.weight": np.ones((300, 400), np.float32)}
    save_weights(tmp_path / "w.npz", weights)
    monkeypatch.setattr(npyfile, "read_npz", lambda *a: pytest.fail("loaded a file whose headers do not match"))
    with pytest.raises(WeightsError, match=r"fc_1.weight has shape \[300, 400\], the program needs \[3, 4\]"):
        load_weights(tmp_path / "w.npz", graph_of(PROGRAM))


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"", "not a readable .npz weights file (empty file)"),
        (None, "a single .npy array, not an .npz weights file"),
    ],
)
def test_not_an_npz(tmp_path: Path, content: bytes | None, fragment: str) -> None:
    path = tmp_path / "w.npz"
    if content is None:
        np.save(path.with_suffix(".npy"), np.zeros(3))
        path = path.with_suffix(".npy")
    else:
        path.write_bytes(content)
    with pytest.raises(WeightsError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        load_weights(path, graph_of(PROGRAM))


def test_npy_as_weights_on_the_command_line(tmp_path: Path) -> None:
    """The probe: `--weights w.npy` gave a traceback (np.load returns an array, not an archive)."""
    (tmp_path / "net.net").write_text(PROGRAM)
    np.save(tmp_path / "w.npy", np.zeros(3))
    np.save(tmp_path / "x.npy", np.zeros(4, np.float32))
    run = subprocess.run(
        [sys.executable, "-m", "netdsl.cli", "predict", "net.net", "--weights", "w.npy", "--input", "x.npy"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1, run.stderr
    assert "w.npy: a single .npy array, not an .npz weights file" in run.stderr


def test_net_too_big_to_allocate_is_estimated_first() -> None:
    graph = graph_of("input(2147483647) - fc(2147483647)")
    with pytest.raises(
        NotEnoughMemory,
        match=r"the weights of network test would take .* GiB of memory, "
        r"more than the .* available",
    ):
        Executor(graph)


def test_net_too_big_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "huge.net").write_text("input(2147483647) - fc(2147483647)\n")
    run = subprocess.run(
        [sys.executable, "-m", "netdsl.cli", "export", "huge.net"], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1].startswith("netdsl: error: the weights of network huge would take ")
    assert not (tmp_path / "huge.onnx").exists()


def test_weights_of_another_network_are_summarized_with_their_owner(tmp_path: Path) -> None:
    many = {f"conv_{i}.{p}": np.ones(3, np.float32) for i in range(1, 33) for p in ("weight", "bias")}
    save_weights(tmp_path / "weights.npz", many)
    (tmp_path / "settings.json").write_text('{"network": "resnet_like", "epochs": 3}')
    with pytest.raises(WeightsError) as err:
        load_weights(tmp_path / "weights.npz", graph_of(PROGRAM))
    lines = str(err.value).splitlines()
    assert len(lines) == 3 and "all 2 of its tensors are missing (fc_1.weight, fc_1.bias)" in lines[0]
    assert (
        lines[1] == "  it has 64 tensors (192 values) for layers conv_1, conv_10, conv_11, conv_12, conv_13, "
        "conv_14, ... (32 layers)"
    )
    assert "seems to belong to network resnet_like" in lines[2]


def test_many_mismatches_are_listed_up_to_a_few_lines(tmp_path: Path) -> None:
    weights = good_weights() | {f"extra_{i}.weight": np.ones(2, np.float32) for i in range(20)}
    save_weights(tmp_path / "w.npz", weights)
    with pytest.raises(WeightsError) as err:
        load_weights(tmp_path / "w.npz", graph_of(PROGRAM))
    lines = str(err.value).splitlines()
    assert "(20 problems)" in lines[0] and len(lines) == 10 and lines[-1] == "  ... and 12 more"


def test_a_checkpoint_given_as_weights_names_the_weights_beside_it(tmp_path: Path) -> None:
    np.savez(tmp_path / "checkpoint.npz", meta=np.array('{"epoch": 1}'), **{"param/fc_1.weight": np.ones((3, 4))})
    save_weights(tmp_path / "weights.npz", good_weights())
    with pytest.raises(
        WeightsError,
        match=r"checkpoint.npz: a training checkpoint \(for `netdsl train --resume`\), "
        r"not a weights file: use .*weights.npz$",
    ):
        load_weights(tmp_path / "checkpoint.npz", graph_of(PROGRAM))
