"""Issue 11 D7 and S5: predict/run inputs are refused in one line before anything large is allocated."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from netdsl import npyfile
from netdsl.data.inputs import InputFileError, read_input


def header_only_npy(shape: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def refused(path: Path, shape: tuple, fragment: str) -> str:
    with pytest.raises(InputFileError) as err:
        read_input(path, shape)
    message = str(err.value)
    assert fragment in message and "\n" not in message, message
    return message


def test_npz_named_npy(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", header_only_npy((4,)) + b"\0" * 16)
    refused(path, (4,), "an .npz archive named .npy")


def test_empty_npy(tmp_path: Path) -> None:
    (tmp_path / "x.npy").write_bytes(b"")
    refused(tmp_path / "x.npy", (4,), "empty file")


def test_huge_shape_in_the_header_is_refused_unloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npyfile.np, "load", lambda *a, **k: pytest.fail("np.load on a refused header"))
    (tmp_path / "x.npy").write_bytes(header_only_npy((10**12, 4)))
    refused(tmp_path / "x.npy", (4,), "truncated: its header declares shape [1000000000000, 4]")


def test_npy_batches_still_load(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.arange(8, dtype=np.float32).reshape(2, 4))
    x, notices = read_input(tmp_path / "x.npy", (4,))
    assert x.shape == (2, 4) and x[1, 3] == 7 and notices == []
    x, _ = read_input(tmp_path / "x.npy", (None,))  # an ONNX model with a dynamic dimension
    assert x.shape == (2, 4)


def test_png_over_pillows_limit_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 10,000 pixels is over twice the limit: an error
    refused(tmp_path / "big.png", (1, 28, 28), "larger than Pillow's decompression-bomb limit (1,000 pixels)")


def test_fifo_input_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "x.npy")
    refused(tmp_path / "x.npy", (4,), "not a regular file")
    with pytest.raises(npyfile.ArrayFileError, match="not a regular file"):
        npyfile.file_kind(tmp_path / "x.npy")


def test_an_image_for_a_vector_input_is_resized_and_flattened_with_a_notice(tmp_path: Path) -> None:
    pixels = np.arange(16 * 16, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(pixels).save(tmp_path / "d.png")
    x, notices = read_input(tmp_path / "d.png", (64,))
    assert x.shape == (64,) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert notices == [
        "d.png: converted 16x16 L to 1x8x8 (grayscale, values in [0, 1]), flattened to 64 values "
        "to fit input(64), as train does"
    ]
    same, notices = read_input(tmp_path / "d.png", (256,))
    np.testing.assert_allclose(same, pixels.reshape(-1) / 255, rtol=1e-6)
    assert notices == ["d.png: flattened to 256 values to fit input(256), as train does"]
    color, _ = read_input(tmp_path / "d.png", (3 * 4 * 4,))  # 48 is no square: 3 channels of 4x4
    assert color.shape == (48,)
    refused(tmp_path / "d.png", (50,), "an image input needs a model taking 1 or 3 x H x W images")
