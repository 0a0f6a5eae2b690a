"""`netdsl export` and `netdsl run` as a user meets them: subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import EXAMPLES

LENET = str(EXAMPLES / "lenet5.net")


def netdsl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netdsl.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def one_line_error(result: subprocess.CompletedProcess, status: int = 1) -> str:
    """The single stderr line of a failed command (no traceback)."""
    assert result.returncode == status, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """lenet5.onnx exported into a fresh directory by the default -o, plus an input batch x.npy."""
    work = tmp_path_factory.mktemp("cli-onnx")
    result = netdsl("export", LENET, cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        "netdsl: warning: no --weights given: exporting lenet5 with seeded random weights (seed 0)"
    )
    assert re.match(
        r"wrote lenet5\.onnx: network lenet5, \d+ ONNX nodes, opset 17, 61,706 params, 24\d\.\d KB$",
        result.stdout.strip(),
    )
    np.save(work / "x.npy", np.random.default_rng(0).random((4, 1, 32, 32), dtype=np.float32))
    return work


def test_export_writes_network_name_onnx_in_the_cwd(exported: Path) -> None:
    import onnx

    model = onnx.load(str(exported / "lenet5.onnx"))
    assert model.graph.name == "lenet5" and [n.name for n in model.graph.node][:2] == ["c1", "relu_1"]


def test_export_is_deterministic_across_processes(exported: Path, tmp_path: Path) -> None:
    result = netdsl("export", LENET, "-o", tmp_path / "again.onnx", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "again.onnx").read_bytes() == (exported / "lenet5.onnx").read_bytes()


def test_export_verify_passes(tmp_path: Path) -> None:
    result = netdsl("export", EXAMPLES / "seed002_mnist_table.net", "--verify", "--opset", "13", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        r"verify: batch 2: max abs difference \S+, max rel difference (\S+) \(tolerance 0\.0001\): ok", line
    ), line
    assert float(re.search(r"max rel difference (\S+)", line).group(1)) <= 1e-5


def test_run_prints_top_k(exported: Path) -> None:
    result = netdsl("run", "lenet5.onnx", "--input", "x.npy", "--top", "3", "--provider", "cpu", cwd=exported)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "top 3 of 10 classes (probabilities):" and len(lines) == 5
    pattern = r"sample \d: \d \(0\.\d{4}\), \d \(0\.\d{4}\), \d \(0\.\d{4}\)"
    assert all(re.fullmatch(pattern, line) for line in lines[1:])


def test_run_prints_at_most_20_samples(exported: Path) -> None:
    np.save(exported / "many.npy", np.zeros((25, 1, 32, 32), np.float32))
    result = netdsl("run", "lenet5.onnx", "--input", "many.npy", "--top", "1", "--provider", "cpu", cwd=exported)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and len(lines) == 22 and lines[-2].startswith("sample 19: ")
    assert lines[-1] == "... and 5 more samples (save all outputs with -o out.npy)"


def test_run_saves_outputs_that_match_the_numpy_backend(exported: Path) -> None:
    import netdsl as api
    from netdsl.backends.onnx.export import seeded_weights

    result = netdsl("run", "lenet5.onnx", "--input", "x.npy", "-o", "out.npy", "--batch", "3", cwd=exported)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote out.npy: outputs (4, 10) float32")
    assert "top" not in result.stdout  # -o alone saves; --top would also print
    model = api.load(LENET)
    model.executor.load_state_dict(seeded_weights(model.graph, 0))
    x = np.load(exported / "x.npy")
    np.testing.assert_allclose(np.load(exported / "out.npy"), model.predict(x), rtol=1e-5, atol=1e-7)


def test_auto_provider_says_nothing_about_a_gpu_nobody_asked_for(exported: Path) -> None:
    result = netdsl("run", "lenet5.onnx", "--input", "x.npy", cwd=exported)
    assert result.returncode == 0 and result.stderr == ""


def test_provider_cuda_without_cuda_is_one_line(exported: Path) -> None:
    result = netdsl("run", "lenet5.onnx", "--input", "x.npy", "--provider", "cuda", cwd=exported)
    if result.returncode == 0:  # a machine where CUDA really loads
        assert "top 5 of 10" in result.stdout
        return
    line = one_line_error(result)
    assert line.startswith("netdsl: error: the CUDA provider cannot load: "), line


def test_wrong_input_shape(exported: Path) -> None:
    np.save(exported / "hwc.npy", np.zeros((2, 32, 32, 1), np.float32))
    line = one_line_error(netdsl("run", "lenet5.onnx", "--input", "hwc.npy", cwd=exported))
    assert "expects (batch, 1, 32, 32) or one sample (1, 32, 32), received (2, 32, 32, 1)" in line


def test_wrong_input_dtype(exported: Path) -> None:
    np.save(exported / "f64.npy", np.zeros((2, 1, 32, 32)))
    line = one_line_error(netdsl("run", "lenet5.onnx", "--input", "f64.npy", cwd=exported))
    assert line == "netdsl: error: input dtype: the model expects float32, received float64"


def test_corrupt_and_truncated_models(exported: Path) -> None:
    data = (exported / "lenet5.onnx").read_bytes()
    (exported / "cut.onnx").write_bytes(data[: len(data) // 2])
    (exported / "junk.onnx").write_bytes(b"\x00\xffjunk" * 100)
    for name in ("cut.onnx", "junk.onnx"):
        line = one_line_error(netdsl("run", name, "--input", "x.npy", cwd=exported))
        assert line.startswith(f"netdsl: error: {name}: not a valid ONNX model"), line


def test_missing_files(exported: Path) -> None:
    line = one_line_error(netdsl("run", "none.onnx", "--input", "x.npy", cwd=exported))
    assert line == "netdsl: error: none.onnx: no such file"
    line = one_line_error(netdsl("run", "lenet5.onnx", "--input", "none.npy", "--provider", "cpu", cwd=exported))
    assert line == "netdsl: error: none.npy: no such file"
    line = one_line_error(netdsl("export", LENET, "--weights", "none.npz", cwd=exported))
    assert "none.npz" in line


def test_image_input(exported: Path) -> None:
    from PIL import Image

    Image.fromarray(np.full((50, 40, 3), 200, np.uint8)).save(exported / "photo.png")
    result = netdsl("run", "lenet5.onnx", "--input", "photo.png", "--top", "1", "--provider", "cpu", cwd=exported)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "photo.png: converted 40x50 RGB to 1x32x32 (grayscale, values in [0, 1])"


def test_run_on_a_data_set(exported: Path) -> None:
    result = netdsl("run", "lenet5.onnx", "--data", "digits", "--provider", "cpu", cwd=exported)
    assert result.returncode == 0, result.stderr
    assert re.search(
        r"^digits: \d+ samples, accuracy 0\.\d{4}, [\d,]+ images/s \(cpu, batch 64\)$", result.stdout, re.M
    ), result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("run", "lenet5.onnx"),  # neither --input nor --data
        ("run", "lenet5.onnx", "--input", "x.npy", "--data", "digits"),
        ("run", "lenet5.onnx", "--input", "x.npy", "--batch", "0"),
        ("run", "lenet5.onnx", "--input", "x.npy", "--provider", "tpu"),
        ("export", LENET, "--opset", "11"),
        ("export", LENET, "--opset", "x"),
    ],
)
def test_bad_flags_exit_2(exported: Path, args: tuple) -> None:
    result = netdsl(*args, cwd=exported)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr


def test_unsupported_opset_says_which_are(exported: Path) -> None:
    line = one_line_error(netdsl("export", LENET, "--opset", "11", cwd=exported), status=2)
    assert line.startswith("netdsl: error: --opset: opset 11 is not supported: use 13 to ")


def test_weights_that_do_not_fit_keep_the_old_file(tmp_path: Path) -> None:
    np.savez(tmp_path / "w.npz", **{"c1.weight": np.zeros((6, 1, 5, 5), np.float32)})
    (tmp_path / "lenet5.onnx").write_bytes(b"old")
    result = netdsl("export", LENET, "--weights", "w.npz", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "w.npz" in result.stderr
    assert (tmp_path / "lenet5.onnx").read_bytes() == b"old"


def test_check_does_not_import_onnx() -> None:
    probe = (
        "import sys, netdsl.cli as c; c.build_parser(); "
        "print(' '.join(m for m in ('onnx', 'onnxruntime', 'numpy', 'PIL') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


TINY = """network tiny {
    input(1, 8, 8)
    conv(8, 3, pad=same) - bn - relu - maxpool(2)
    fc(32) - relu - dropout(0.2)
    output(10)
}
train {
    data      = digits
    optimizer = adam(lr=0.003)
    epochs    = 3
    batch     = 32
}
"""


def test_trained_weights_give_the_same_accuracy_in_onnxruntime(tmp_path: Path) -> None:
    """train -> export -> run: onnxruntime scores the digits validation split as the NumPy backend does."""
    (tmp_path / "tiny.net").write_text(TINY)
    trained = netdsl("train", "tiny.net", "--out", "run", "--quiet", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    evaluated = netdsl("evaluate", "tiny.net", "--weights", "run/weights.npz", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    numpy_accuracy = float(re.search(r"accuracy (\d\.\d+)", evaluated.stdout).group(1))
    exported = netdsl("export", "tiny.net", "--weights", "run/weights.npz", "--verify", cwd=tmp_path)
    assert exported.returncode == 0 and exported.stderr == "", exported.stderr
    ran = netdsl("run", "tiny.onnx", "--data", "digits", "--provider", "cpu", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    onnx_accuracy = float(re.search(r"accuracy (\d\.\d+)", ran.stdout).group(1))
    assert numpy_accuracy > 0.5 and onnx_accuracy == numpy_accuracy


def test_run_data_scores_the_split_evaluate_scores(tmp_path: Path) -> None:
    """A program with its own seed and val_split: run --data scores the very samples evaluate scores."""
    program = TINY.replace("epochs    = 3", "epochs    = 1\n    seed      = 1\n    val_split = 0.2")
    (tmp_path / "tiny.net").write_text(program)
    assert netdsl("train", "tiny.net", "--out", "run", "--quiet", cwd=tmp_path).returncode == 0
    evaluated = netdsl("evaluate", "tiny.net", "--weights", "run/weights.npz", cwd=tmp_path)
    assert netdsl("export", "tiny.net", "--weights", "run/weights.npz", cwd=tmp_path).returncode == 0
    counts = {}
    for split in ("val", "train", "all"):
        ran = netdsl("run", "tiny.onnx", "--data", "digits", "--provider", "cpu", "--split", split, cwd=tmp_path)
        assert ran.returncode == 0, ran.stderr
        counts[split] = ran.stdout
    assert re.search(r"digits \(val\): 359 samples  loss \S+  accuracy (\S+)", evaluated.stdout).group(1) == re.search(
        r"digits: 359 samples, accuracy (\S+),", counts["val"]
    ).group(1)
    assert "digits: 1438 samples" in counts["train"] and "digits: 1797 samples" in counts["all"]


def test_run_data_on_a_model_without_split_metadata_says_so(exported: Path, tmp_path: Path) -> None:
    import onnx

    model = onnx.load(str(exported / "lenet5.onnx"))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "bare.onnx"))
    ran = netdsl("run", "bare.onnx", "--data", "digits", "--provider", "cpu", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "does not record its training split" in ran.stdout and "digits: 180 samples" in ran.stdout


def test_export_failing_verify_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """Issue 11 D8: an export that failed --verify left the bad .onnx on disk."""
    from netdsl.backends.onnx import export
    from netdsl.cli import main

    monkeypatch.setattr(export, "verify", lambda *a, **k: export.Verification(1.0, 0.5, 2))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(EXAMPLES / "seed002_mnist_table.net"), "--verify", "-o", "out.onnx"])
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "out.onnx: not written: the exported model does not match the NumPy backend" in captured.err
    assert "max rel difference 0.5" in captured.out
    assert not list(tmp_path.iterdir())
