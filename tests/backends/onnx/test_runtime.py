"""`netdsl.backends.onnx.runtime.Session` and the input readers: providers, checks, batching, one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import netdsl
from netdsl.backends.onnx.export import build_model, numpy_executor, save_model, seeded_weights
from netdsl.backends.onnx.runtime import CPU, CUDA, Session, SessionError, captured_stderr, cuda_failure_reason
from netdsl.data.inputs import InputFileError, read_input

NET = "network small {\n input(3, 8, 8)\n conv(4, 3) - relu - maxpool(2)\n output(5)\n}"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> tuple[Path, object, dict]:
    graph = netdsl.loads(NET).graph
    weights = seeded_weights(graph, 0)
    path = tmp_path_factory.mktemp("runtime") / "small.onnx"
    save_model(build_model(graph, weights), path)
    return path, graph, weights


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_session_api(model_file) -> None:
    path, graph, weights = model_file
    session = Session(path, provider="cpu")
    assert session.providers == [CPU] and session.device == "cpu" and session.fallback_reason is None
    assert session.input_shape == (3, 8, 8) and session.output_shape == (5,)
    x = np.random.default_rng(0).standard_normal((7, 3, 8, 8)).astype(np.float32)
    executor = numpy_executor(graph)
    executor.load_state_dict(weights)
    out = session.run(x)
    assert out.shape == (7, 5) and out.dtype == np.float32
    np.testing.assert_allclose(out, executor.predict(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(session.run(x, batch_size=3), out)  # in batches of 3, 3, 1
    np.testing.assert_array_equal(session.run(x[0]), out[:1])  # one sample gains the batch dimension


def test_auto_uses_cuda_only_when_it_really_loads(model_file) -> None:
    session = Session(model_file[0], provider="auto")
    if session.providers[0] == CUDA:
        assert session.fallback_reason is None and session.device == "cuda"
    else:  # CUDA does not load here (or onnxruntime has no CUDA provider): the CPU, and why, in one line
        assert session.device == "cpu" and session.providers == [CPU]
        assert session.fallback_reason and "\n" not in session.fallback_reason


def test_cuda_either_loads_or_says_why_in_one_line(model_file) -> None:
    try:
        session = Session(model_file[0], provider="cuda")
    except SessionError as err:
        assert "CUDA" in str(err) and "\n" not in str(err) and "Traceback" not in str(err)
    else:
        assert session.providers[0] == CUDA


def test_onnxruntime_noise_is_kept_off_stderr(model_file, capfd) -> None:
    try:
        Session(model_file[0], provider="cuda")
    except SessionError:
        pass
    Session(model_file[0], provider="auto")
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_wrong_dtype_and_shape_name_expected_and_received(model_file) -> None:
    session = Session(model_file[0], provider="cpu")
    with pytest.raises(SessionError) as err:
        session.run(np.zeros((2, 3, 8, 8)))
    assert one_line(err) == "input dtype: the model expects float32, received float64"
    with pytest.raises(SessionError) as err:
        session.run(np.zeros((2, 3, 8, 9), np.float32))
    assert one_line(err) == (
        "input shape: the model expects (batch, 3, 8, 8) or one sample (3, 8, 8), received (2, 3, 8, 9)"
    )
    with pytest.raises(SessionError) as err:
        session.run(np.zeros((2, 8, 8, 3), np.float32))
    assert "channels-last?" in one_line(err)
    with pytest.raises(SessionError, match="no samples"):
        session.run(np.zeros((0, 3, 8, 8), np.float32))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a model at all", "not a valid ONNX model: cannot parse it"),
        (b"", "empty file"),
    ],
)
def test_bad_model_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(SessionError, match=message) as err:
        Session(path)
    one_line(err)


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.5, 0.97])
def test_truncated_model_files(model_file, tmp_path: Path, fraction: float) -> None:
    data = model_file[0].read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(SessionError, match="cut.onnx: not a valid ONNX model") as err:
        Session(path, provider="cpu")
    one_line(err)


def test_missing_model_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SessionError, match="no such file"):
        Session(tmp_path / "none.onnx")
    with pytest.raises(SessionError, match="is a directory"):
        Session(tmp_path)
    with pytest.raises(SessionError, match="unknown provider 'tpu'"):
        Session(tmp_path / "none.onnx", provider="tpu")


def test_cuda_failure_reasons() -> None:
    log = (
        "\x1b[1;31m2026-01-01 [E:onnxruntime:Default, provider_bridge_ort.cc:2458] Failed to load library "
        "libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No "
        "such file or directory\n\x1b[m\x1b[0;93m[W:onnxruntime] Failed to create CUDAExecutionProvider. "
        "Require cuDNN 9.* and CUDA 13.*. Please install all dependencies\x1b[m\n"
    )
    assert cuda_failure_reason(log) == "libcublasLt.so.13 not found; onnxruntime-gpu needs cuDNN 9.* and CUDA 13.*"
    assert (
        cuda_failure_reason("CUDA failure 100: no CUDA-capable device is detected ; GPU=0")
        == "no CUDA-capable device is detected"
    )
    assert cuda_failure_reason("") == "the CUDA provider did not load"


def test_captured_stderr_takes_file_descriptor_2(capfd) -> None:
    with captured_stderr() as text:
        os.write(2, b"C++ noise\n")
    assert text == ["C++ noise\n"] and capfd.readouterr().err == ""


# ---- input files ----


def test_npy_inputs_are_read_as_stored(tmp_path: Path) -> None:
    x = np.ones((2, 3, 8, 8), np.float64)
    np.save(tmp_path / "x.npy", x)
    read, notices = read_input(tmp_path / "x.npy", (3, 8, 8))
    assert read.dtype == np.float64 and read.shape == x.shape and notices == []  # the Session rejects float64
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(InputFileError, match="not a readable .npy array") as err:
        read_input(tmp_path / "bad.npy", (3, 8, 8))
    one_line(err)


def test_images_are_converted_to_the_model_input_with_a_notice(tmp_path: Path) -> None:
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 0] = 255
    Image.fromarray(rgb).save(tmp_path / "red.png")
    x, notices = read_input(tmp_path / "red.png", (1, 10, 12))
    assert x.shape == (1, 10, 12) and x.dtype == np.float32
    assert np.allclose(x, 0.299, atol=0.01)  # ITU-R 601 luma of pure red
    assert notices == ["red.png: converted 30x20 RGB to 1x10x12 (grayscale, values in [0, 1])"]
    x, notices = read_input(tmp_path / "red.png", (3, 20, 30))
    assert x.shape == (3, 20, 30) and x[0].min() == 1.0 and x[1:].max() == 0.0 and notices == []


def test_bad_inputs_say_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("1 2 3")
    (tmp_path / "fake.png").write_bytes(b"not an image")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "ok.png")
    cases = [
        (tmp_path / "x.txt", (3, 8, 8), "unsupported input file type '.txt'"),
        (tmp_path / "fake.png", (3, 8, 8), "cannot read the image"),
        (tmp_path / "ok.png", (50,), "an image input needs a model taking 1 or 3 x H x W images"),
        (tmp_path / "none.npy", (3, 8, 8), "none.npy: no such file"),
    ]
    for path, shape, message in cases:
        with pytest.raises(InputFileError, match=message) as err:
            read_input(path, shape)
        one_line(err)


class _CudaListed:
    """onnxruntime as a GPU build shows it: CUDA among the available providers."""

    def __init__(self, real) -> None:
        self._real = real

    def __getattr__(self, name: str):
        return getattr(self._real, name)

    def get_available_providers(self) -> list[str]:
        return [CUDA, CPU]


def test_a_cuda_provider_that_raises_instead_of_falling_back(model_file, tmp_path: Path, monkeypatch) -> None:
    import netdsl.backends.onnx.runtime as runtime

    real_ort, real_create = runtime._ort(), runtime._create

    def create(source, name, providers, threads=None):
        if CUDA in providers:
            raise runtime._LoadError(name, "CUDA failure 999: unknown error")
        return real_create(source, name, providers, threads)

    monkeypatch.setattr(runtime, "_ort", lambda: _CudaListed(real_ort))
    monkeypatch.setattr(runtime, "_create", create)
    session = Session(model_file[0], provider="auto")
    assert session.device == "cpu"
    assert session.fallback_reason == "CUDA failure 999: unknown error"
    with pytest.raises(SessionError, match=r"^the CUDA provider cannot load: CUDA failure 999: unknown error$"):
        Session(model_file[0], provider="cuda")
    (tmp_path / "bad.onnx").write_bytes(b"garbage")
    with pytest.raises(SessionError, match="bad.onnx: not a valid ONNX model: cannot parse it"):
        Session(tmp_path / "bad.onnx", provider="cuda")  # the model's problem, not CUDA's
