"""`netdsl import`, and `check`/`draw`/`netdsl.load` on an .onnx file, as a user meets them: files written or
not, exit codes, one clear line per problem."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from helpers import EXAMPLES
from onnx import TensorProto, helper
from onnx_graphs import const, onnxruntime_output, save, weights

import netdsl
from netdsl.frontend.fmt import format_source

N = helper.make_node


def netdsl_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netdsl.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def failed(result: subprocess.CompletedProcess, status: int = 1) -> list[str]:
    """stderr's lines of a command that failed without a traceback."""
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()


@pytest.fixture(scope="module")
def resnet(tmp_path_factory) -> Path:
    """examples/resnet18.net exported with seeded weights."""
    work = tmp_path_factory.mktemp("import")
    result = netdsl_cli("export", EXAMPLES / "resnet18.net", "-o", "resnet18.onnx", cwd=work)
    assert result.returncode == 0, result.stderr
    return work / "resnet18.onnx"


def test_import_writes_a_formatted_program_and_its_weights_and_verifies(resnet: Path, tmp_path) -> None:
    result = netdsl_cli("import", resnet, "-o", "r.net", "--verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("wrote r.net (") and "r.npz" in lines[0]
    assert lines[1].startswith("verify: batch 2:") and lines[1].endswith(": ok")
    text = (tmp_path / "r.net").read_text()
    assert format_source(text) == text
    assert netdsl_cli("fmt", "--check", "r.net", cwd=tmp_path).returncode == 0
    original, imported = netdsl.load(EXAMPLES / "resnet18.net"), netdsl.load(tmp_path / "r.net")
    assert imported.totals == original.totals
    imported.load_weights(tmp_path / "r.npz")
    x = np.random.default_rng(1).standard_normal((2, 3, 224, 224)).astype(np.float32)
    np.testing.assert_allclose(imported.predict(x), onnxruntime_output(resnet, x), rtol=1e-4, atol=1e-6)


def test_check_json_and_draw_read_onnx_files(resnet: Path, tmp_path) -> None:
    table = netdsl_cli("check", resnet, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "11,689,512" in table.stdout  # torchvision's resnet18
    report = json.loads(netdsl_cli("check", "--json", resnet, cwd=tmp_path).stdout)
    assert report["totals"]["trainable"] == 11_689_512 and report["layers"][0]["shape"] == [3, 224, 224]
    drawn = netdsl_cli("draw", resnet, "-o", "r.svg", cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert (tmp_path / "r.svg").read_text().lstrip().startswith("<")


def test_load_gives_a_model_with_the_onnx_weights(resnet: Path) -> None:
    model = netdsl.load(resnet)
    x = np.random.default_rng(2).standard_normal((1, 3, 224, 224)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), onnxruntime_output(resnet, x), rtol=1e-4, atol=1e-6)
    text, tensors = netdsl.import_onnx(resnet)
    assert text.startswith("# imported from resnet18.onnx") and "add {" in text
    assert set(tensors) == {f"{n.name}.{k}" for n in model.graph for k in (*n.params, *n.buffers)}


def test_unsupported_ops_are_listed_once_per_op_type_and_nothing_is_written(tmp_path) -> None:
    nodes = [
        N("Exp", ["x"], ["a"], name="first_exp"),
        N("Exp", ["a"], ["b"]),
        N("Relu", ["b"], ["c"]),
        N("Neg", ["c"], ["y"], name="negate"),
    ]
    path = save(tmp_path / "m.onnx", nodes, [], [None, 3, 4, 4], None)
    lines = failed(netdsl_cli("import", path, cwd=tmp_path))
    assert lines[0] == (
        f"netdsl: error: {path}: unsupported ONNX op Exp: node first_exp (and 1 more node): no netdsl op computes it"
    )
    assert lines[1] == f"netdsl: error: {path}: unsupported ONNX op Neg: node negate: no netdsl op computes it"
    assert lines[2].startswith("netdsl: note: netdsl imports these ONNX ops: Add, AveragePool,") and "Relu" in lines[2]
    assert not (tmp_path / "m.net").exists() and not (tmp_path / "m.npz").exists()


def test_load_reports_each_unsupported_op_type_as_its_own_error(tmp_path) -> None:
    """netdsl.load("m.onnx"): one diagnostic per op type (no escaped line breaks), the supported ops as a hint."""
    nodes = [N("Exp", ["x"], ["a"], name="first_exp"), N("Neg", ["a"], ["y"], name="negate")]
    path = save(tmp_path / "m.onnx", nodes, [], [None, 3, 4, 4], None)
    with pytest.raises(netdsl.NetdslError) as caught:
        netdsl.load(path)
    errors = caught.value.diagnostics
    assert [d.message.split(": ", 1)[1] for d in errors] == [
        "unsupported ONNX op Exp: node first_exp: no netdsl op computes it",
        "unsupported ONNX op Neg: node negate: no netdsl op computes it",
    ]
    assert all("\n" not in d.message and d.hint.startswith("netdsl imports these ONNX ops:") for d in errors)


def test_a_failed_verification_writes_nothing(resnet: Path, tmp_path, monkeypatch, capsys) -> None:
    from netdsl.backends.onnx.export import Verification
    from netdsl.cli import importer, main

    monkeypatch.setattr(importer, "verify", lambda *args: Verification(1.0, 0.5, 2))
    with pytest.raises(SystemExit) as exit_:
        main(["import", str(resnet), "-o", str(tmp_path / "r.net"), "--verify"])
    assert exit_.value.code == 1
    assert "FAILED" in capsys.readouterr().out
    assert not (tmp_path / "r.net").exists() and not (tmp_path / "r.npz").exists()


def _two_inputs(path: Path) -> Path:
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 3])
    return save(
        path,
        [N("Add", ["a", "b"], ["y"])],
        [],
        [1, 3],
        None,
        inputs=[a, helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 3])],
    )


@pytest.mark.parametrize(
    "make,expected",
    [
        (lambda p: p.write_bytes(b""), "empty file, not an ONNX model"),
        (lambda p: p.write_text("input(3, 8, 8) - conv(4, 3)\n"), "not an ONNX model, or a truncated one"),
        (lambda p: _two_inputs(p), "the model has 2 inputs (a, b); netdsl imports networks with one input"),
        (
            lambda p: save(p, [N("Relu", ["x"], ["y"])], [], [None, 3, None, None], None),
            "input x has dynamic sizes (3 x ? x ?); give them with --input-shape C,H,W",
        ),
        (
            lambda p: save(p, [N("Relu", ["x"], ["y"])], [], [None, 3, 8, 2, 2, 2], None),
            "input x has rank 6; netdsl imports vectors (N x F), sequences (N x C x L), images (N x C x H x W) and "
            "volumes (N x C x D x H x W)",
        ),
    ],
)
def test_bad_files_get_one_line(tmp_path, make, expected: str) -> None:
    path = tmp_path / "m.onnx"
    make(path)
    (line,) = failed(netdsl_cli("import", path, cwd=tmp_path))
    assert line.startswith(f"netdsl: error: {path}: ") and expected in line, line


def test_truncated_file(resnet: Path, tmp_path) -> None:
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(resnet.read_bytes()[:5000])
    (line,) = failed(netdsl_cli("check", cut, cwd=tmp_path))
    assert "not an ONNX model, or a truncated one" in line


def test_dynamic_sizes_with_input_shape(tmp_path) -> None:
    path = save(
        tmp_path / "m.onnx",
        [N("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        [const("w", weights(2, 3, 3, 3))],
        [None, 3, None, None],
        None,
    )
    result = netdsl_cli("import", path, "--input-shape", "3,10,12", "--verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "input(3, 10, 12)" in (tmp_path / "m.net").read_text()
    lines = failed(netdsl_cli("import", path, "--input-shape", "3,x", cwd=tmp_path), 2)
    assert "--input-shape" in lines[-1] and "expected C,H,W" in lines[-1]


def test_missing_file_is_usage(tmp_path) -> None:
    (line,) = failed(netdsl_cli("import", "nothing.onnx", cwd=tmp_path), 2)
    assert line == "netdsl: error: nothing.onnx: no such file"


def test_external_data_is_read(tmp_path) -> None:
    path = save(
        tmp_path / "m.onnx", [N("Conv", ["x", "w"], ["y"])], [const("w", weights(8, 3, 3, 3))], [None, 3, 5, 5], None
    )
    model = onnx.load(str(path))
    onnx.save(
        model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location="m.data", size_threshold=0
    )
    assert (tmp_path / "m.data").exists()
    text, tensors = netdsl.import_onnx(path)
    assert tensors["w.weight"].shape == (8, 3, 3, 3)
    (tmp_path / "m.data").unlink()
    (line,) = failed(netdsl_cli("import", path, cwd=tmp_path))
    assert "cannot read its external data" in line
