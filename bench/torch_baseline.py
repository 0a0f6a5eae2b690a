"""The torch side of the benchmarks: the module `netdsl compile --target pytorch` generates.

The baseline is idiomatic PyTorch by construction (nn.Conv2d(..., padding=p), nn.MaxPool2d, F.relu,
the softmax folded into nn.CrossEntropyLoss via forward(x, logits=True)), not a hand-built twin, and
its weights map one to one to netdsl's.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

import netdsl
from netdsl.codegen import generate, module_stem
from netdsl.codegen.render import class_name


def generated_module(model: netdsl.Model, weights: dict[str, np.ndarray] | None = None) -> Any:
    """An instance of the generated nn.Module of `model` (its own seeded torch weights, or `weights`)."""
    stem = f"bench_{module_stem(model.name)}"
    files = generate(model, "pytorch", source=f"examples/{model.name}.net", stem=stem)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{stem}.py"
        path.write_text(files[f"{stem}.py"])
        spec = importlib.util.spec_from_file_location(stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[stem] = module
        spec.loader.exec_module(module)
    net = getattr(module, class_name(model.name))()
    if weights is not None:
        net.load_netdsl_state_dict(weights)
    return net
