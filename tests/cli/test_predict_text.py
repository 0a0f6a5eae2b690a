"""`netdsl predict` on a .txt file: sentences through the built-in `sentences` vocabulary."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import EXAMPLES

import netdsl
from netdsl import cli


def _weights(tmp_path: Path) -> Path:
    model = netdsl.load(EXAMPLES / "seed001_text.net")
    path = tmp_path / "w.npz"
    model.save_weights(path)
    return path


def test_predict_reads_each_line_as_a_sentence(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    text = tmp_path / "s.txt"
    text.write_text("the team scored a goal\n\nthe zebra danced today\n")
    args = [
        "predict",
        str(EXAMPLES / "seed001_text.net"),
        "--weights",
        str(_weights(tmp_path)),
        "--input",
        str(text),
        "--top",
        "1",
    ]
    assert cli.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{text}: 2 word(s) not in the sentences vocabulary, read as <unk>: danced, zebra"
    assert [line.split(":")[0] for line in out[1:]] == ["sample 0", "sample 1"]
    assert all(any(topic in line for topic in ("sport", "weather", "food", "computers")) for line in out[1:])


def test_predict_of_text_for_a_network_not_trained_on_sentences_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    program = tmp_path / "ids.net"
    program.write_text(
        (EXAMPLES / "seed001_text.net").read_text().replace("data      = sentences", 'data      = "ids.npz"')
    )
    (tmp_path / "s.txt").write_text("the soup\n")
    args = ["predict", str(program), "--weights", str(_weights(tmp_path)), "--input", str(tmp_path / "s.txt")]
    with pytest.raises(SystemExit) as exit_:
        cli.main(args)
    assert exit_.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs a network trained on a built-in text set" in err[0]
