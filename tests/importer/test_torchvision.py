"""torchvision's models exported with torch.onnx (opsets 13 and 17, with and without constant folding),
imported: the outputs are torch's, and without folding `check` counts torchvision's parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the comparison runs torchvision's models in torch")

from torchvision_models import build, torchvision  # noqa: E402

try:
    torchvision()
except ImportError:
    pytest.skip("torchvision's models are what the import is compared with", allow_module_level=True)

import netdsl  # noqa: E402

MODELS = ("resnet18", "mobilenet_v2", "efficientnet_b0", "convnext_tiny", "googlenet", "squeezenet1_1")
SIDE = 96  # every model runs at 96 x 96; a smaller image keeps the suite quick


def trained_parameters(model) -> int:
    """torchvision's count of what the exported (inference) graph uses: GoogLeNet's auxiliary heads run only
    in training, so they are not in the ONNX model."""
    return sum(p.numel() for name, p in model.named_parameters() if not name.startswith(("aux1.", "aux2.")))


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("opset,folding", [(13, True), (17, False)])
def test_torchvision_import(tmp_path, name: str, opset: int, folding: bool) -> None:
    model = build(name).float()
    x = torch.randn(2, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(0))
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (x,),
            str(path),
            opset_version=opset,
            do_constant_folding=folding,
            dynamo=False,
            input_names=["x"],
            dynamic_axes={"x": {0: "batch"}},
        )
    imported = netdsl.load(path)
    with torch.no_grad():
        expected = model(x).numpy()
    ours = imported.predict(x.numpy())
    assert float(np.max(np.abs(ours - expected)) / np.max(np.abs(expected))) < 1e-4
    if not folding:
        assert imported.totals.trainable == trained_parameters(model)
    if folding and name == "resnet18":
        assert "folded batchnorm into the convolutions" in imported.source
