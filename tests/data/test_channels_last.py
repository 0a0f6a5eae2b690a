"""layout=hwc: predict, run and Model.predict take samples in the declared H x W x C order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import netdsl
from netdsl.data.channels_last import channels_last, to_channels_first

HWC = "network hw {\n  input(6, 5, 3, layout=hwc)\n  conv(4, 3) - relu\n  fc(7)\n}\n"


def netdsl_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netdsl.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def test_to_channels_first_transposes_only_the_declared_layout() -> None:
    x = np.arange(2 * 6 * 5 * 3, dtype=np.float32).reshape(2, 6, 5, 3)
    assert channels_last((3, 6, 5)) == (6, 5, 3)
    assert np.array_equal(to_channels_first(x, (3, 6, 5), "hwc"), x.transpose(0, 3, 1, 2))
    assert np.array_equal(to_channels_first(x[0], (3, 6, 5), "hwc"), x[0].transpose(2, 0, 1))
    assert to_channels_first(x, (3, 6, 5), "chw") is x
    chw = x.transpose(0, 3, 1, 2)
    assert to_channels_first(chw, (3, 6, 5), "hwc") is chw  # already channels-first: kept


def test_model_predict_takes_the_declared_layout() -> None:
    model = netdsl.loads(HWC)
    assert model.input_layout == "hwc" and model.input_shape == (3, 6, 5)
    x = np.random.default_rng(0).random((4, 6, 5, 3), dtype=np.float32)
    assert np.allclose(model.predict(x), model.predict(x.transpose(0, 3, 1, 2)))
    with pytest.raises(ValueError, match=r"wants \(n, 6, 5, 3\)"):
        model.predict(np.zeros((4, 5, 6, 3), np.float32))


def test_predict_command_takes_an_hwc_sample(tmp_path: Path) -> None:
    model = netdsl.loads(HWC)
    (tmp_path / "hw.net").write_text(HWC)
    model.save_weights(tmp_path / "w.npz")
    x = np.random.default_rng(1).random((6, 5, 3), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    result = netdsl_cli("predict", "hw.net", "--weights", "w.npz", "--input", "x.npy", "--top", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    best = int(np.argmax(model.predict(x[None])[0]))
    assert result.stdout.strip().splitlines()[-1].startswith(f"sample 0: {best} (")  # after the softmax note


def test_nhwc_export_transposes_inside_the_graph(tmp_path: Path) -> None:
    import onnx
    import onnxruntime

    model = netdsl.loads(HWC)
    proto = model.export_onnx(tmp_path / "hw.onnx", input_layout="nhwc")
    assert proto.graph.node[0].op_type == "Transpose"
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim[1:]] == [6, 5, 3]
    onnx.checker.check_model(proto, full_check=True)
    x = np.random.default_rng(2).random((3, 6, 5, 3), dtype=np.float32)
    session = onnxruntime.InferenceSession(str(tmp_path / "hw.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": x})[0], model.predict(x), rtol=1e-5, atol=1e-6)
    with pytest.raises(Exception, match="image input"):
        netdsl.loads("input(4) - fc(2)").export_onnx(tmp_path / "v.onnx", input_layout="nhwc")


def test_run_takes_the_declared_layout_from_either_export(tmp_path: Path) -> None:
    (tmp_path / "hw.net").write_text(HWC)
    x = np.random.default_rng(3).random((2, 6, 5, 3), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    outputs = []
    for layout in ("nchw", "nhwc"):
        exported = netdsl_cli(
            "export", "hw.net", "--input-layout", layout, "-o", f"{layout}.onnx", "--verify", cwd=tmp_path
        )
        assert exported.returncode == 0 and exported.stdout.rstrip().endswith(": ok"), exported.stdout
        ran = netdsl_cli(
            "run", f"{layout}.onnx", "--input", "x.npy", "-o", f"{layout}.npy", "--provider", "cpu", cwd=tmp_path
        )
        assert ran.returncode == 0, ran.stderr
        outputs.append(np.load(tmp_path / f"{layout}.npy"))
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-6)
    np.testing.assert_allclose(outputs[0], netdsl.loads(HWC).predict(x), rtol=1e-5, atol=1e-6)
