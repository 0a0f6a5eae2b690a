"""Class names (built-in, names file, inline, .npz) in predict/run, and `evaluate --split test` on real-format files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import netdsl
from netdsl.data import DataError, load_arrays
from netdsl.data.classes import BUILTIN_CLASSES, class_names, label, npz_names, read_names_file
from netdsl.data.readers import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netdsl.cli", *args], capture_output=True, text=True, cwd=cwd)


def idx(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_set(directory: Path, n_train: int = 12, n_test: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """mnist-format files, uncompressed as a user may put them (a cached .gz must match the published SHA-256);
    returns the test images and labels."""
    rng = np.random.default_rng(3)
    directory.mkdir(parents=True)
    test = None
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        (directory / f"{prefix}-images-idx3-ubyte").write_bytes(idx(images, IDX_IMAGES_MAGIC))
        (directory / f"{prefix}-labels-idx1-ubyte").write_bytes(idx(labels, IDX_LABELS_MAGIC))
        test = images, labels
    return test


def write_cifar(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    """The six CIFAR-10 binary batches (2 records each, 5 in the test batch); returns the test images and labels."""
    rng = np.random.default_rng(4)
    target = directory / "cifar-10-batches-bin"
    target.mkdir(parents=True)
    test = None
    for name, n in [(f"data_batch_{i}.bin", 2) for i in range(1, 6)] + [("test_batch.bin", 5)]:
        images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        records = np.concatenate([labels[:, None], images.reshape(n, -1)], axis=1)
        (target / name).write_bytes(records.tobytes())
        test = images, labels
    return test


def test_builtin_names() -> None:
    assert BUILTIN_CLASSES["fashion_mnist"][0] == "T-shirt/top" and BUILTIN_CLASSES["fashion_mnist"][9] == "Ankle boot"
    assert BUILTIN_CLASSES["cifar10"][0] == "airplane" and BUILTIN_CLASSES["cifar10"][9] == "truck"
    assert class_names(None, "digits") == tuple("0123456789") and class_names(None, "CIFAR-10")[0] == "airplane"
    assert class_names(None, "cifar10")[3] == "cat" and class_names(None, "blobs.csv") is None
    assert label(3, BUILTIN_CLASSES["cifar10"]) == "3 cat" and label(7, BUILTIN_CLASSES["digits"]) == "7"
    assert label(12, ("a",)) == "12" and label(0, None) == "0"


def test_names_file_is_found_beside_the_program(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "names.txt").write_text("cat\n\n  dog  \nbird\n")
    program = tmp_path / "sub" / "net.net"
    program.write_text("input(4) - fc(3)\n")
    assert class_names("names.txt", "digits", str(program)) == ("cat", "dog", "bird")
    assert class_names(("x", "y"), "digits") == ("x", "y")


@pytest.mark.parametrize(
    "content, fragment",
    [
        (None, "no such class names file"),
        ("\n \n", "no class names"),
        ("a\nb\na\n", "'a' appears twice"),
        (b"\xff\xfe\x00", "not a UTF-8 text file"),
    ],
)
def test_bad_names_files_are_one_line(tmp_path: Path, content, fragment: str) -> None:
    path = tmp_path / "names.txt"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=fragment) as err:
        read_names_file(path)
    assert "\n" not in str(err.value)


def test_npz_classes_array(tmp_path: Path) -> None:
    np.savez(tmp_path / "a.npz", x=np.zeros((2, 4)), y=np.zeros(2), classes=np.array(["no", "yes"]))
    np.savez(tmp_path / "b.npz", x=np.zeros((2, 4)), y=np.zeros(2))
    np.savez(tmp_path / "c.npz", x=np.zeros((2, 4)), y=np.zeros(2), classes=np.array([1, 2]))
    np.savez(tmp_path / "d.npz", x=np.zeros((2, 4)), y=np.zeros(2), classes=np.array([{"a": 1}], dtype=object))
    assert npz_names(tmp_path / "a.npz") == ("no", "yes") and npz_names(tmp_path / "b.npz") is None
    with pytest.raises(DataError, match="1-D array of strings"):
        npz_names(tmp_path / "c.npz")
    with pytest.raises(DataError, match="not objects"):
        npz_names(tmp_path / "d.npz")


def test_predict_and_run_print_class_names(tmp_path: Path) -> None:
    (tmp_path / "names.txt").write_text("circle\nsquare\ntriangle\n")
    program = tmp_path / "net.net"
    program.write_text('input(1, 4, 4) - flatten - fc(3) - softmax\ntrain {\n classes = "names.txt"\n}\n')
    model = netdsl.load(program)
    model.save_weights(tmp_path / "w.npz")
    x = np.random.default_rng(0).random((2, 1, 4, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    top = int(np.argmax(model.predict(x)[0]))
    expected = f"{top} {('circle', 'square', 'triangle')[top]} ("
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()  # the names file is found beside the program, not in the working directory
    predicted = cli(
        "predict", str(program), "--weights", str(tmp_path / "w.npz"), "--input", str(tmp_path / "x.npy"), cwd=elsewhere
    )
    assert predicted.returncode == 0, predicted.stderr
    samples = [line for line in predicted.stdout.splitlines() if line.startswith("sample ")]  # after any notice
    assert samples[0].startswith(f"sample 0: {expected}")
    exported = cli(
        "export", str(program), "--weights", str(tmp_path / "w.npz"), "-o", str(tmp_path / "m.onnx"), cwd=elsewhere
    )
    assert exported.returncode == 0, exported.stderr
    ran = cli("run", str(tmp_path / "m.onnx"), "--input", str(tmp_path / "x.npy"), "--top", "1", cwd=elsewhere)
    assert ran.returncode == 0 and f"sample 0: {expected}" in ran.stdout, ran.stdout + ran.stderr


def test_missing_names_file_is_one_line_at_predict(tmp_path: Path) -> None:
    program = tmp_path / "net.net"
    program.write_text('input(4) - fc(3)\ntrain {\n classes = "gone.txt"\n}\n')
    netdsl.load(program).save_weights(tmp_path / "w.npz")
    np.save(tmp_path / "x.npy", np.zeros((1, 4), np.float32))
    out = cli(
        "predict", str(program), "--weights", str(tmp_path / "w.npz"), "--input", str(tmp_path / "x.npy"), cwd=tmp_path
    )
    assert out.returncode == 1 and "gone.txt: no such class names file" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["fifo", "symlink to /dev/zero"])
def test_names_file_that_would_block_or_never_end_is_one_line_at_train(tmp_path: Path, kind: str) -> None:
    """Issue 21 M3: the classes file is read as data files are: a FIFO is not waited for, /dev/zero not read."""
    names = tmp_path / "names.txt"
    if kind == "fifo":
        os.mkfifo(names)
    else:
        names.symlink_to("/dev/zero")
    program = tmp_path / "net.net"
    program.write_text('input(1, 8, 8) - flatten - fc(10) - softmax\ntrain {\n classes = "names.txt"\n epochs = 1\n}\n')
    out = subprocess.run(
        [sys.executable, "-m", "netdsl.cli", "train", str(program)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 1 and "names.txt: not a regular file" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("data", ["mnist", "cifar10"])
def test_evaluate_split_test_uses_the_official_test_files(tmp_path: Path, data: str) -> None:
    if data == "mnist":
        images, labels = write_idx_set(tmp_path / "cache" / "mnist")
        program_text = "input(1, 28, 28) - conv(4, 5, stride=4) - relu - flatten - fc(10) - softmax\n"
    else:
        images, labels = write_cifar(tmp_path / "cache" / "cifar10")
        program_text = "input(3, 32, 32) - conv(4, 5, stride=4) - relu - flatten - fc(10) - softmax\n"
    program = tmp_path / "net.net"
    program.write_text(program_text + f"train {{\n data = {data}\n}}\n")
    model = netdsl.load(program)
    model.save_weights(tmp_path / "w.npz")
    arrays = load_arrays(data, model.input_shape, data_dir=tmp_path / "cache", download=False, portion="test")
    assert np.array_equal(arrays.y, labels) and np.allclose(arrays.x * 255, images.reshape(arrays.x.shape))
    loss, accuracy = model.evaluate(images.reshape(arrays.x.shape).astype(np.float32) / 255, labels.astype(np.int64))
    out = cli(
        "evaluate",
        str(program),
        "--weights",
        str(tmp_path / "w.npz"),
        "--split",
        "test",
        "--data-dir",
        str(tmp_path / "cache"),
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert f"{data} (test): {len(labels)} samples  loss {loss:.4f}  accuracy {accuracy:.4f}" in out.stdout


def test_evaluate_split_test_without_a_test_split_is_one_line(tmp_path: Path) -> None:
    program = tmp_path / "net.net"
    program.write_text("input(1, 8, 8) - flatten - fc(10) - softmax\n")
    netdsl.load(program).save_weights(tmp_path / "w.npz")
    out = cli("evaluate", str(program), "--weights", str(tmp_path / "w.npz"), "--split", "test", cwd=tmp_path)
    assert out.returncode == 1 and "digits has no official test split" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    default = cli("evaluate", str(program), "--weights", str(tmp_path / "w.npz"), cwd=tmp_path)
    assert default.returncode == 0 and "digits (val): 180 samples" in default.stdout


def test_training_refuses_fewer_names_than_classes(tmp_path: Path) -> None:
    program = tmp_path / "net.net"
    program.write_text('input(1, 8, 8) - flatten - fc(10) - softmax\ntrain {\n classes = ("a", "b")\n epochs = 1\n}\n')
    out = cli("train", str(program), "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert out.returncode == 1 and "classes name 2 classes, but the data has 10" in out.stderr


def test_evaluate_show_marks_the_wrong_predictions(tmp_path: Path) -> None:
    write_idx_set(tmp_path / "cache" / "fashion_mnist")
    program = tmp_path / "net.net"
    program.write_text("input(784) - fc(10) - softmax\ntrain {\n data = fashion_mnist\n}\n")
    model = netdsl.load(program)
    model.save_weights(tmp_path / "w.npz")
    arrays = load_arrays("fashion_mnist", (784,), data_dir=tmp_path / "cache", download=False, portion="test")
    predicted = model.predict(arrays.x).argmax(axis=1)
    out = cli(
        "evaluate",
        str(program),
        "--weights",
        str(tmp_path / "w.npz"),
        "--split",
        "test",
        "--show",
        "7",
        "--data-dir",
        str(tmp_path / "cache"),
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("sample ")]
    names = BUILTIN_CLASSES["fashion_mnist"]
    assert len(lines) == 7
    for line, guess, truth in zip(lines, predicted, arrays.y):
        if guess == truth:
            assert line.endswith(f": {label(int(guess), names)}")
        else:
            assert f": *{label(int(guess), names)}  (is {label(int(truth), names)})" in line
    assert any("*" in line for line in lines)  # random weights get some wrong


def test_class_names_reach_the_terminal_with_control_characters_escaped() -> None:
    from netdsl.data.classes import label

    assert label(1, ("cat", "\x1b[2Jdog\u202e")) == "1 \\x1b[2Jdog\\u202e"
    assert label(0, ("cat", "dog")) == "0 cat" and label(7, None) == "7"
