"""predict --invert, and the notice for an image whose polarity is the opposite of the training data's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

import netdsl
from netdsl.data.polarity import background, polarity_notice

PROGRAM = "input(1, 8, 8)\nconv(4, 3) - relu\nfc(10)\ntrain {\n  data = digits\n}\n"
SOFTMAX_NOTE = "network net ends in fc_1 (fc), not a softmax: its scores are shown as softmax probabilities"


def netdsl_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "netdsl.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def _digit(light_background: bool) -> np.ndarray:
    x = np.zeros((1, 8, 8), np.float32)
    x[0, 2:6, 3:5] = 1.0
    return 1.0 - x if light_background else x


def test_background_and_notice() -> None:
    assert background(_digit(False)) == 0.0 and background(_digit(True)) == 1.0
    dark_on_light = _digit(True)[None]
    assert "dark on a light background, but digits is light on dark" in polarity_notice(dark_on_light, "x", "digits")
    assert polarity_notice(_digit(False)[None], "x", "digits") is None
    assert polarity_notice(dark_on_light, "x", "cifar10") is None  # natural images have no polarity


def test_predict_says_so_and_inverts(tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "net.net").write_text(PROGRAM)
    model = netdsl.loads(PROGRAM)
    model.save_weights(tmp_path / "w.npz")
    Image.fromarray((_digit(True)[0] * 255).astype(np.uint8)).save(tmp_path / "three.png")
    plain = netdsl_cli("predict", "net.net", "--weights", "w.npz", "--input", "three.png", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert (
        "three.png: it is dark on a light background, but digits is light on dark; if the prediction "
        "looks wrong, try --invert" in plain.stdout
    )
    np.save(tmp_path / "x.npy", _digit(True))
    inverted = netdsl_cli(
        "predict", "net.net", "--weights", "w.npz", "--input", "x.npy", "--invert", "--top", "1", cwd=tmp_path
    )
    assert inverted.returncode == 0, inverted.stderr
    best = int(np.argmax(model.predict(_digit(False)[None])[0]))
    assert inverted.stdout.splitlines() == ["x.npy: inverted (1 - x)", SOFTMAX_NOTE, inverted.stdout.splitlines()[2]]
    assert inverted.stdout.splitlines()[2].startswith(f"sample 0: {best} (")
