"""The per-op lowerings: registry coverage, the ONNX attributes each op gets, and small programs for
what the examples lack, run in onnxruntime and onnx's ReferenceEvaluator against the NumPy backend."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from helpers import random_weights
from onnx.reference import ReferenceEvaluator
from onnx.reference.op_run import OpRun
from onnx.reference.ops.op_conv_transpose import ConvTranspose as OnnxConvTranspose

import netdsl
from netdsl.backends.onnx.export import build_model, numpy_executor, tensor_names
from netdsl.backends.onnx.registry import lowerings
from netdsl.backends.onnx.runtime import Session

PARITY = 1e-5

SMALL = {
    "dilation": "input(3, 13, 11)\nconv(4, 3, dilation=2, pad=same) - relu\n"
    "conv(6, (3, 2), dilation=(2, 3), stride=2)\nflatten - fc(5)",
    "groups": "input(4, 9, 9)\nconv(8, 3, groups=2, pad=1) - bn - relu\nconv(8, 3, groups=8) - relu\n"
    "conv(6, 1, groups=2, bias=false)",
    "same_stride2": "input(3, 16, 15)\nconv(5, 3, stride=2, pad=same) - relu\nconv(5, 4, stride=2, pad=same)\n"
    "conv(4, (2, 5), stride=(2, 3), pad=same)",
    "avgpool_pad": "input(3, 11, 10)\navgpool(3, stride=2, pad=1)\navgpool(3, stride=2, pad=same)\n"
    "avgpool(2, ceil=true)",
    "maxpool_ceil": "input(2, 10, 10)\nmaxpool(3, stride=2, ceil=true) - maxpool(2, ceil=true)\n"
    "maxpool(3, stride=2, pad=same) - globalmaxpool",
    "vectors": "input(20)\nfc(16) - bn - swish - dropout(0.3)\n"
    "concat { fc(5) - tanh | fc(7, bias=false) - sigmoid | identity }\nfc(4) - softmax",
    "add3": "input(4, 6, 6)\nadd { conv(4, 3, pad=1) | conv(4, 1) | identity }\n"
    "relu - globalavgpool - flatten - output(3)",
    "lrn": "input(7, 6, 6)\nconv(8, 1) - lrn(size=3, alpha=0.5, beta=0.5, k=1)\nlrn(size=4, alpha=0.3)",
    "activations": "input(12, 10, 3, layout=hwc)\nconv(4, 3) - leakyrelu(0.2) - swish - sigmoid - tanh - softmax\n"
    "identity - dropout(0.5) - concat { conv(2, 1) | avgpool(1) }",
    "mul": "input(4, 6, 6)\nmul { identity | globalavgpool - conv(4, 1) - sigmoid | conv(4, 3, pad=1) }\n"
    "mul { identity | identity } - globalavgpool - flatten - fc(3)",
    "nonlinear": "input(6, 5, 4)\nconv(6, 3, pad=1) - gelu - gelu(approximate=tanh) - relu6 - hardswish\n"
    "elu(alpha=0.5) - selu - softplus - mish - prelu(init=0.1) - hardsigmoid\n"
    "flatten - fc(8) - prelu - gelu",
    "normalization": "input(8, 5, 5)\nconv(8, 3, pad=1) - layernorm - groupnorm(4, eps=0.001) - scale(init=0.5)\n"
    "flatten - fc(6) - ln - gn(3) - scale",
    "resample": "input(4, 5, 6)\nzeropad((1, 0, 2, 1)) - upsample - upsample(scale=(2, 3), mode=bilinear)\n"
    "deconv(6, 3, stride=2, pad=1, output_pad=1) - deconv(4, 4, stride=2, pad=same, groups=2)\n"
    "dwconv(3, stride=2, multiplier=2, pad=same) - deconv(3, 1, stride=2, pad=same)\n"
    "deconv(2, 2, pad=same) - shuffle(2)",
    "sequence": "input(3, 20)\nconv(6, 5, stride=2, pad=same) - bn - prelu - maxpool(2, ceil=true)\n"
    "concat { conv(4, 3, pad=1, dilation=2) - relu - globalmaxpool | dwconv(2, multiplier=2) - "
    "avgpool(3, stride=2, pad=1) - globalavgpool }\nflatten - fc(5)",
    "sequence_resample": "input(4, 7)\nzeropad((1, 2)) - upsample(3, mode=bilinear) - upsample(2)\n"
    "deconv(5, 3, stride=2, pad=1, output_pad=1) - groupnorm(5) - layernorm - scale\n"
    "deconv(2, 4, stride=2, pad=same, groups=1)",
    "volume": "input(2, 6, 7, 8)\nconv(4, 3x3x2, stride=(1, 2, 2), pad=same) - bn - relu - groupnorm(2)\n"
    "maxpool(2, ceil=true) - upsample(2x1x2, mode=bilinear) - upsample(2)\n"
    "deconv(3, 3, stride=2, pad=1, output_pad=1) - zeropad(1) - avgpool(3, stride=2, pad=1)\n"
    "mul { identity | globalavgpool - conv(3, 1) - sigmoid } - globalmaxpool - output(4)",
    "tokens": "input(12, tokens=30)\nembedding(30, 8)\n"
    "concat { conv(4, 2) - relu - globalmaxpool | conv(4, 3) - relu - globalmaxpool }\noutput(3)",
    "tokens_image": "input(10, tokens=20)\nembedding(20, 6, as_image=true)\nconv(5, 3x6) - relu - globalmaxpool\n"
    "output(2)",
    "label_clash": "input(4)\noutput: fc(3) - relu\ninput_2: fc(2)",
    "only_input": "input(3, 4, 4)",
}


def small(name: str):
    return netdsl.loads(SMALL[name], file=f"{name}.net").graph


def rel_diff(actual: np.ndarray, expected: np.ndarray) -> float:
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return float(np.max(np.abs(actual.astype(np.float64) - expected)) / max(np.max(np.abs(expected)), 1e-30))


def numpy_outputs(graph, weights, x: np.ndarray) -> np.ndarray:
    executor = numpy_executor(graph)
    executor.load_state_dict(weights)
    return executor.predict(x)


def batch(graph, n: int = 3) -> np.ndarray:
    if graph.input.attrs.get("tokens"):  # token ids below the vocabulary
        return (
            np.random.default_rng(1)
            .integers(0, graph.input.attrs["tokens"], (n, *graph.input.shape))
            .astype(np.float32)
        )
    return (np.random.default_rng(1).standard_normal((n, *graph.input.shape)) * 2).astype(np.float32)


class LRN(OpRun):
    """ONNX's LRN as its specification defines it. onnx 1.23's reference implementation loops over the
    batch axis instead of the channels (onnx/onnx#7805, fixed by #8331 after 1.23), so it is replaced."""

    def _run(self, x, alpha=None, beta=None, bias=None, size=None):
        square_sum = np.zeros_like(x)
        before, after = (size - 1) // 2, size // 2
        for c in range(x.shape[1]):
            lo, hi = max(0, c - before), min(x.shape[1], c + after + 1)
            square_sum[:, c] = np.sum(x[:, lo:hi] ** 2, axis=1)
        return ((x / (bias + (alpha / size) * square_sum) ** beta).astype(x.dtype),)


class GlobalMaxPool(OpRun):
    """ONNX's GlobalMaxPool as its specification defines it: onnx 1.23's reference implementation reduces axes
    (rank - 2, rank - 1) instead of every spatial axis, right for images only."""

    def _run(self, x):
        return (x.max(axis=tuple(range(2, x.ndim)), keepdims=True),)


class ConvTranspose(OnnxConvTranspose):
    """onnx 1.23's reference ConvTranspose computes group=1 only (with more groups it fails to broadcast);
    this runs it once per group, on that group's channels and weights, and joins the results."""

    def _run(self, X, W, B=None, group=None, **attrs):
        groups = group or 1
        if groups == 1:
            return super()._run(X, W, B, group=1, **attrs)
        cg, fg = X.shape[1] // groups, W.shape[1]
        parts = [
            super(ConvTranspose, self)._run(
                X[:, g * cg : (g + 1) * cg],
                W[g * cg : (g + 1) * cg],
                None if B is None else B[g * fg : (g + 1) * fg],
                group=1,
                **attrs,
            )[0]
            for g in range(groups)
        ]
        return (np.concatenate(parts, axis=1),)


# ---- the registry ----


def test_the_test_programs_use_every_lowering() -> None:
    used = {node.op for name in SMALL for node in small(name).nodes}
    assert set(lowerings()) <= used, sorted(set(lowerings()) - used)


# ---- attributes of the ONNX nodes ----


def nodes_of(source: str) -> dict[str, onnx.NodeProto]:
    graph = netdsl.loads(source).graph
    return {n.name: n for n in build_model(graph, random_weights(graph)).graph.node}


def attrs(node: onnx.NodeProto) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def test_conv_gets_explicit_pads_strides_dilations_group() -> None:
    conv = nodes_of("input(4, 16, 15)\nconv(6, (3, 2), stride=2, dilation=(1, 2), groups=2, pad=same)")["conv_1"]
    assert conv.op_type == "Conv" and list(conv.input) == ["input", "conv_1.weight", "conv_1.bias"]
    a = attrs(conv)
    assert a["kernel_shape"] == [3, 2] and a["strides"] == [2, 2] and a["dilations"] == [1, 2] and a["group"] == 2
    # height: 1 row of padding, at the bottom (SAME_UPPER); width (dilated kernel 3): 1 column on each side
    assert a["pads"] == [0, 1, 1, 1]  # top, left, bottom, right
    assert "auto_pad" not in a


def test_conv_and_fc_without_bias_have_two_inputs() -> None:
    nodes = nodes_of("input(3, 5, 5)\nconv(2, 3, bias=false) - fc(4, bias=false)")
    assert list(nodes["conv_1"].input) == ["input", "conv_1.weight"]
    assert list(nodes["fc_1"].input) == ["fc_1_flatten", "fc_1.weight"]


def test_fc_is_gemm_with_transposed_weight() -> None:
    gemm = nodes_of("input(8)\nfc(3)")["fc_1"]
    assert gemm.op_type == "Gemm" and attrs(gemm)["transB"] == 1 and attrs(gemm).get("transA", 0) == 0


def test_pools_use_explicit_pads_and_no_ceil_mode() -> None:
    nodes = nodes_of("input(2, 10, 10)\nmaxpool(3, stride=2, ceil=true) - avgpool(3, pad=1)")
    assert nodes["maxpool_1"].op_type == "MaxPool"
    assert attrs(nodes["maxpool_1"])["pads"] == [0, 0, 1, 1] and attrs(nodes["maxpool_1"])["ceil_mode"] == 0
    avg = attrs(nodes["avgpool_1"])
    assert nodes["avgpool_1"].op_type == "AveragePool" and avg["count_include_pad"] == 0 and avg["pads"] == [1] * 4


def test_batchnorm_is_inference_mode_with_onnx_momentum() -> None:
    bn = nodes_of("input(3, 4, 4)\nbn(eps=0.001, momentum=0.2)")["batchnorm_1"]
    assert bn.op_type == "BatchNormalization" and len(bn.output) == 1
    assert list(bn.input[1:]) == [f"batchnorm_1.{k}" for k in ("weight", "bias", "running_mean", "running_var")]
    a = attrs(bn)
    assert a["epsilon"] == pytest.approx(0.001) and a["momentum"] == pytest.approx(0.8)
    assert a.get("training_mode", 0) == 0


@pytest.mark.parametrize(
    ("source", "layer", "op_type"),
    [
        ("input(4)\ndropout(0.5)", "dropout_1", "Identity"),
        ("input(4)\nidentity", "identity_1", "Identity"),
        ("input(4)\nswish", "swish_1", "Mul"),
        ("input(3, 4, 4)\nsoftmax", "softmax_1", "Softmax"),
        ("input(3, 4, 4)\nflatten", "flatten_1", "Flatten"),
        ("input(3, 4, 4)\nadd { relu | identity }", "add_1", "Add"),
        ("input(3, 4, 4)\nadd { relu | sigmoid | identity }", "add_1", "Sum"),
        ("input(3, 4, 4)\nconcat { relu | identity }", "concat_1", "Concat"),
        ("input(3, 4, 4)\nlrn", "lrn_1", "LRN"),
        ("input(3, 4, 4)\nlrn(size=2)", "lrn_1", "Div"),
    ],
)
def test_op_types(source: str, layer: str, op_type: str) -> None:
    assert nodes_of(source)[layer].op_type == op_type


def test_axes_and_alphas() -> None:
    nodes = nodes_of("input(3, 4, 4)\nleakyrelu(0.3) - softmax - concat { relu | identity } - flatten")
    assert attrs(nodes["leakyrelu_1"])["alpha"] == pytest.approx(0.3)
    assert attrs(nodes["softmax_1"])["axis"] == 1 and attrs(nodes["concat_1"])["axis"] == 1
    assert attrs(nodes["flatten_1"])["axis"] == 1
    lrn = attrs(nodes_of("input(3, 4, 4)\nlrn(size=3, alpha=0.01, beta=0.5, k=1.5)")["lrn_1"])
    assert lrn == {"size": 3, "alpha": pytest.approx(0.01), "beta": pytest.approx(0.5), "bias": pytest.approx(1.5)}


def test_helper_nodes_are_named_after_their_layer() -> None:
    names = list(nodes_of("input(3, 4, 4)\nswish - lrn(size=2)"))
    assert names[:2] == ["swish_1/sigmoid", "swish_1"]
    assert all(n.startswith("lrn_1/") for n in names[2:-1]) and names[-1] == "lrn_1"


def test_layer_names_that_clash_with_graph_names_are_kept_apart() -> None:
    graph = small("label_clash")
    names = tensor_names(graph)
    assert names["input_1"] == "input" and names["input_2"] == "output" and names["output"] not in ("input", "output")
    assert len(set(names.values())) == len(names)


# ---- small programs: onnxruntime, ReferenceEvaluator, shapes ----


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_program_checker_and_shapes(name: str) -> None:
    graph = small(name)
    model = build_model(graph, random_weights(graph))
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    found = {}
    for vi in [*inferred.graph.value_info, *inferred.graph.output]:
        found[vi.name] = tuple(d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim)
    names = tensor_names(graph)
    for node in graph.nodes[1:]:
        assert found[names[node.name]] == ("batch", *node.shape), node.name


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_program_onnxruntime_matches_numpy(name: str) -> None:
    graph = small(name)
    weights = random_weights(graph)
    x = batch(graph)
    actual = Session(build_model(graph, weights).SerializeToString(), provider="cpu").run(x)
    assert rel_diff(actual, numpy_outputs(graph, weights, x)) <= PARITY


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_program_reference_evaluator_agrees(name: str) -> None:
    graph = small(name)
    weights = random_weights(graph)
    x = batch(graph)
    evaluator = ReferenceEvaluator(build_model(graph, weights), new_ops=[LRN, ConvTranspose, GlobalMaxPool])
    actual = evaluator.run(None, {"input": x})[0]
    assert rel_diff(actual, numpy_outputs(graph, weights, x)) <= PARITY


def test_same_padding_in_the_programs_is_asymmetric() -> None:
    """The stride-2 'same' program really has a different top/bottom (or left/right) padding."""
    pads = [n.attrs["pads"] for n in small("same_stride2").nodes if n.op == "conv"]
    assert any(p[0] != p[2] or p[1] != p[3] for p in pads)
    ceil_pads = [n.attrs["pads"] for n in small("maxpool_ceil").nodes if n.op == "maxpool"]
    assert any(p[2] > p[0] for p in ceil_pads)


def test_pool_windows_of_every_shape_match_numpy() -> None:
    """Kernel, stride, padding and ceil mode combinations that the compiler accepts."""
    rng = np.random.default_rng(0)
    checked = 0
    for op in ("maxpool", "avgpool"):
        for k, s, p, ceil, size in [
            (2, 2, 0, True, 7),
            (3, 2, 1, True, 10),
            (3, 3, 1, True, 8),
            (5, 3, 2, True, 12),
            (4, 1, 2, False, 6),
            (3, 2, 0, False, 9),
            (2, 3, 1, True, 11),
        ]:
            layer = f"{op}({k}, stride={s}, pad={p}, ceil={str(ceil).lower()})"
            graph = netdsl.loads(f"input(2, {size}, {size + 1})\n{layer}").graph
            x = rng.standard_normal((2, *graph.input.shape)).astype(np.float32)
            actual = Session(build_model(graph, {}).SerializeToString(), provider="cpu").run(x)
            assert rel_diff(actual, numpy_outputs(graph, {}, x)) <= PARITY, (op, k, s, p, ceil, size)
            checked += 1
    assert checked == 14
