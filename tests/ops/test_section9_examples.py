"""The section-9 examples give torchvision's (and the PyTorch tutorials') figures exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

import netdsl

PENDING = Path(__file__).parent / "pending_examples"
# file -> (trainable, non-trainable, MACs), computed with torch and torchvision
FIGURES = {
    "mobilenet_v2": (3_504_872, 34_112, 300_774_272),
    "convnext_tiny": (28_589_128, 0, 4_455_531_264),
    "unet": (31_037_698, 11_776, 48_171_581_440),
    "dcgan_generator": (3_576_704, 1_920, 104_628_224),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figures(name: str) -> None:
    totals = netdsl.load(PENDING / f"{name}.net").totals
    assert (totals.trainable, totals.non_trainable, totals.macs) == FIGURES[name]
