"""The command line on sequences, volumes and token ids: check's table, train on an .npz of ids, out-of-range
ids in data and in predict's input (one line, exit 1), and show refusing what it cannot draw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from netdsl import cli

TEXT = """network words {
    input(12, tokens=50)
    embedding(50, 8)
    concat {
        conv(6, 2) - relu - globalmaxpool
      | conv(6, 3) - relu - globalmaxpool
    }
    output(3)
}
train {
    epochs = 1
    batch = 16
}
"""


def fails(args: list[str], capsys: pytest.CaptureFixture) -> str:
    """The one-line error of a command that exits 1."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(args)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


def write_ids(path: Path, bad_sample: int | None = None) -> None:
    x = np.random.default_rng(0).integers(0, 50, (60, 12))
    if bad_sample is not None:
        x[bad_sample, 4] = 50
    np.savez(path, x=x, y=x[:, 0] % 3)


def test_check_shows_sequence_and_volume_headings(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "seq.net").write_text("input(4, 50) - conv(8, 5, pad=same) - maxpool(2) - output(2)\n")
    (tmp_path / "vol.net").write_text("input(1, 8, 16, 16) - conv(4, 3x3x3) - globalavgpool - output(2)\n")
    assert cli.main(["check", str(tmp_path / "seq.net"), str(tmp_path / "vol.net")]) == 0
    out = capsys.readouterr().out
    assert "Output (CxL)" in out and "8x50" in out and "8x25" in out
    assert "Output (CxDxHxW)" in out and "4x6x14x14" in out


def test_train_on_token_ids_and_refuse_ids_outside_the_vocabulary(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "words.net").write_text(TEXT)
    write_ids(tmp_path / "ids.npz")
    write_ids(tmp_path / "bad.npz", bad_sample=7)
    assert cli.main(["train", "words.net", "--data", "ids.npz", "--out", "run"]) == 0
    assert (tmp_path / "run" / "weights.npz").is_file()
    capsys.readouterr()
    err = fails(["train", "words.net", "--data", "bad.npz", "--out", "run2"], capsys)
    assert "bad.npz: sample 7 has token id 50 at position 4, outside the vocabulary 0..49" in err
    np.save(tmp_path / "one.npy", np.full((1, 12), 99))
    err = fails(["predict", "words.net", "--weights", "run/weights.npz", "--input", "one.npy"], capsys)
    assert "one.npy: sample 0 has token id 99 at position 0" in err
    err = fails(["show", "words.net", "--weights", "run/weights.npz", "--input", "one.npy"], capsys)
    assert "show draws the feature maps of image networks; words takes token ids" in err


def test_train_on_sequences_and_volumes_from_files(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 2, 30)).astype(np.float32)
    np.savez(tmp_path / "seq.npz", x=x, y=(x[:, 0].mean(axis=1) > 0).astype(int))
    np.savez(tmp_path / "flat.npz", x=x.reshape(40, -1), y=np.zeros(40, int))
    (tmp_path / "seq.net").write_text("input(2, 30) - conv(4, 5) - relu - globalmaxpool - output(2)\n")
    (tmp_path / "vol.net").write_text("input(1, 4, 6, 6) - conv(2, 3) - globalavgpool - output(2)\n")
    assert cli.main(["train", "seq.net", "--data", "seq.npz", "--epochs", "1", "--out", "a"]) == 0
    assert cli.main(["train", "seq.net", "--data", "flat.npz", "--epochs", "1", "--out", "b"]) == 0
    assert "read vectors of 60 as 2x30 samples" in capsys.readouterr().out
    err = fails(["train", "vol.net", "--data", "seq.npz", "--epochs", "1", "--out", "c"], capsys)
    assert "seq.npz: samples of shape (2, 30) do not fit input(1, 4, 6, 6)" in err
