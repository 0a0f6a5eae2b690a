"""torchvision's models with random, non-trivial weights, and those weights in netdsl's layout."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from helpers import TORCH_REASON, TORCHVISION_REASON

torch = pytest.importorskip("torch", reason=TORCH_REASON)
if importlib.util.find_spec("torchvision") is None:  # not importorskip: importing it needs the shim below
    pytest.skip(TORCHVISION_REASON, allow_module_level=True)

_SHIM: list = []  # keeps the schema library alive


def torchvision():
    """Import torchvision beside the CPU torch.

    The PyPI wheel of torchvision is a CUDA build whose C ops cannot load next to the CPU torch, and at
    import it registers fake kernels for two of those ops, which fails when their schemas do not exist.
    The models are pure Python, so defining the two schemas (never called) is all they need."""
    if not hasattr(torch.ops.torchvision, "nms"):
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _SHIM.append(lib)
    import torchvision as tv

    return tv


def build(name: str, seed: int = 0) -> torch.nn.Module:
    """torchvision's model in eval mode, float64, with batchnorm statistics and layer scales away from
    their initial values, so that every tensor counts."""
    torch.manual_seed(seed)
    model = getattr(torchvision().models, name)().double().eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
            if isinstance(module, torch.nn.LayerNorm) or type(module).__name__ == "LayerNorm2d":
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
        for key, param in model.named_parameters():
            if key.endswith("layer_scale"):
                param.uniform_(0.5, 1.5)
    return model


def _torch_layers(model: torch.nn.Module) -> list[list[tuple[str, torch.Tensor]]]:
    """Each module's own tensors, in the order the modules run; a layer scale (ConvNeXt's CNBlock holds
    it itself, before its block) moves to the end of its block, where it is applied."""
    layers, scales = [], []
    for prefix, module in model.named_modules():
        tensors = [
            (f"{prefix}.{k}", t)
            for k, t in [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
            if not k.startswith("num_batches")
        ]
        while scales and not prefix.startswith(scales[-1][0][0].rsplit(".", 1)[0] + "."):
            layers.append(scales.pop())
        if tensors and tensors[0][0].endswith("layer_scale"):
            scales.append(tensors)
        elif tensors:
            layers.append(tensors)
    return layers + scales[::-1]


def netdsl_weights(graph, model: torch.nn.Module) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The model's tensors under netdsl's keys, and the name mapping (netdsl key -> torchvision key).
    Layers pair up in order; every pair must agree in the number of values (a Linear on channels-last
    becomes a 1x1 conv, a layer scale of C x 1 x 1 a vector of C)."""
    ours = [
        [(f"{n.name}.{k}", shape) for k, shape in {**n.params, **n.buffers}.items()]
        for n in graph
        if n.params or n.buffers
    ]
    theirs = _torch_layers(model)
    assert len(ours) == len(theirs), (len(ours), len(theirs))
    weights, mapping = {}, {}
    for layer, module in zip(ours, theirs):
        assert len(layer) == len(module), (layer, [k for k, _ in module])
        for (key, shape), (torch_key, tensor) in zip(layer, module):
            assert key.rsplit(".", 1)[1] == torch_key.rsplit(".", 1)[1].replace("layer_scale", "weight"), (
                key,
                torch_key,
            )
            assert tensor.numel() == int(np.prod(shape)), (key, shape, torch_key, tuple(tensor.shape))
            weights[key] = tensor.detach().numpy().reshape(shape).copy()
            mapping[key] = torch_key
    return weights, mapping
