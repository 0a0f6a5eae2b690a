"""The renderer's pieces: names, line wrapping, strict templates, determinism."""

from __future__ import annotations

import ast
import subprocess
import sys
from types import SimpleNamespace

import jinja2
import pytest
from helpers import EXAMPLES, ROOT

import netdsl
from netdsl.codegen import render
from netdsl.ops import REGISTRY, SUGAR, ops_with

ZOO = """
block blk() { b: relu }
network zoo {
    input(4, 12, 12)
    x: conv(8, 3, pad=same, stride=2, bias=false) - bn - leakyrelu(0.2)
    a: blk()
    a__b: relu
    np: conv(8, 3, pad=2, dilation=2, groups=2) - swish
    lrn(size=4) - tanh
    add { conv(8, 1) - sigmoid | identity | avgpool(3, stride=1, pad=1) }
    forward: conv(8, 2)
    concat { maxpool(2, pad=same) | avgpool(2, pad=same) | avgpool(2, stride=2, ceil=true) }
    dropout(0.3)
    add { globalavgpool | globalmaxpool }
    mul { identity | conv(24, 1) - sigmoid | identity }
    gelu - gelu(approximate=tanh) - relu6 - hardswish - hardsigmoid - elu - selu - softplus - mish - prelu
    layernorm - groupnorm(4) - scale(init=0.5) - zeropad(1) - shuffle(4) - upsample(mode=bilinear) - upsample
    deconv(8, 3, stride=2, pad=1, output_pad=1) - deconv(8, 2, pad=same) - dwconv(3, stride=2, pad=same)
    flatten - fc(16, bias=false) - bn - relu - identity
    fc(5) - softmax
}
"""


def zoo_model() -> netdsl.Model:
    return netdsl.loads(ZOO, file="zoo.net")


# ---- every op has a fragment for both targets ----


def test_torch_ops_with_state_have_an_init_fragment() -> None:
    ops = render.fragments("pytorch")
    for op in ("conv", "fc", "batchnorm", "maxpool", "avgpool", "dropout", "lrn"):
        assert callable(getattr(ops, f"{op}_init", None)), op


def test_zoo_uses_every_op() -> None:
    """Every op but those that take token ids (an image network has none: embedding's generated code is held to
    the backend by tests/codegen/test_torch_target.py::test_embedding_equals_backend_in_both_targets)."""
    used = {node.op for node in zoo_model().graph}
    assert used == set(REGISTRY) - SUGAR - {op.name for op in ops_with("lookup")}


# ---- strict templates ----


def test_templates_are_strict_about_undefined_names() -> None:
    env = render.environment()
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("numpy_module.py.j2").render({})
    with pytest.raises(jinja2.UndefinedError):
        render.fragments("numpy").conv(SimpleNamespace(x="x", name="conv_1"))  # a layer without attrs
    with pytest.raises(jinja2.UndefinedError):
        render.fragments("pytorch").fc_init(SimpleNamespace(attr="fc", in_shape=(3,)))


def test_templates_are_package_data() -> None:
    names = set(render.environment().list_templates())
    assert {"numpy_module.py.j2", "numpy_ops.j2", "torch_module.py.j2", "torch_ops.j2", "torch_train.py.j2"} <= names


# ---- names ----


def test_layer_names_become_identifiers_without_collisions() -> None:
    planner = render.planned(zoo_model().graph, "pytorch")
    idents = planner.top.attrs
    assert idents["a__b"] == "a__b" and idents["a"] == "a"  # `a` is a use of block blk, holding `a.b`
    assert idents["x"] == "x_" and idents["np"] == "np_" and idents["forward"] == "forward_"
    assert len(set(idents.values())) == len(idents)
    assert all(name.isidentifier() and name not in render.reserved_names() for name in idents.values())
    assert [scope.attrs for scope in planner.scopes] == [{"b": "b"}]


def test_chains_use_x_and_branch_points_get_names() -> None:
    model = netdsl.loads(
        "network n { input(3, 8, 8) - conv(4, 3, pad=1) - add { conv(4, 3, pad=1) | identity } - relu }"
    )
    forward = render.planned(model.graph, "numpy").top.forward
    code = [line.split("  #")[0].strip() for line in forward if not line.lstrip().startswith("#")]
    assert code[:3] == [
        'conv_1 = conv2d(x, params["conv_1.weight"], params["conv_1.bias"], stride=(1, 1), pads=(1, 1, 1, 1))',
        'x = conv2d(conv_1, params["conv_2.weight"], params["conv_2.bias"], stride=(1, 1), pads=(1, 1, 1, 1))',
        "x = x + conv_1",
    ]
    assert code[-2:] == ["x = np.maximum(x, 0)", "return x"]


def test_class_and_module_names() -> None:
    assert render.class_name("seed002_mnist") == "Seed002Mnist" and render.class_name("resnet18") == "Resnet18"
    assert render.module_stem("lenet5") == "lenet5" and render.module_stem("random") == "random_net"
    with pytest.raises(render.CodegenError, match="shadow"):
        render.check_stem("torch")
    with pytest.raises(render.CodegenError, match="identifier"):
        render.check_stem("my-net")


def test_module_attribute_list_covers_torch() -> None:
    torch = pytest.importorskip("torch")
    public = {name for name in dir(torch.nn.Module) if not name.startswith("_")}
    assert public <= render.MODULE_ATTRIBUTES | {"forward"}


# ---- pads ----


def test_asymmetric_pads_are_recognized() -> None:
    graph = zoo_model().graph
    layers = {
        node.name: render.Layer(node, "x", ("x",), "x", tuple(graph[i].shape for i in node.inputs)) for node in graph
    }
    conv = layers["x"]
    assert conv.attrs["pads"] == (0, 0, 1, 1) and conv.padding is None and conv.fpad == (0, 1, 0, 1)
    ceil_pool = layers["concat_1"].node.inputs[2]
    assert layers[ceil_pool].attrs["pads"] == (0, 0, 1, 1) and layers[ceil_pool].pool_padding is None
    assert layers["avgpool_1"].pool_padding == (1, 1)


# ---- line wrapping ----


def test_wrap_fills_long_calls_and_keeps_short_lines() -> None:
    short = "    x = f(a, b)"
    assert render.wrap(short) == [short]
    args = ", ".join(f'params["layer_{i}.weight"]' for i in range(8))
    lines = render.wrap(f"    x = batchnorm(x, {args}, eps=1e-05)")
    assert len(lines) > 1 and all(len(line) <= render.LINE_LENGTH for line in lines)
    assert lines[0] == "    x = batchnorm(" and lines[-1] == "    )"  # as ruff formats it
    assert lines[1:-1] == ["        x,"] + [f'        params["layer_{i}.weight"],' for i in range(8)] + [
        "        eps=1e-05,"
    ]
    assert render.wrap("    x = f(" + "a" * 108 + ", b)") == ["    x = f(", "        " + "a" * 108 + ", b", "    )"]
    ast.parse("\n".join(line[4:] for line in lines))


def test_wrap_opens_long_lists() -> None:
    names = ", ".join(f"inception_{i}__basic_{i}__relu_{i}_with_a_long_name" for i in range(4))
    lines = render.wrap(f"        y = torch.cat([{names}], dim=1)")
    assert all(len(line) <= render.LINE_LENGTH for line in lines)
    ast.parse("\n".join(line[8:] for line in lines))


def test_py_literal() -> None:
    assert render.py_literal((3, 3)) == "(3, 3)" and render.py_literal((7,)) == "(7,)"
    assert render.py_literal(1e-05) == "1e-05" and render.py_literal('a"b') == '"a\\"b"'
    assert render.py_literal(False) == "False"


# ---- output ----


@pytest.mark.parametrize("target", render.TARGETS)
def test_generated_code_parses_and_is_deterministic(target: str) -> None:
    model = zoo_model()
    first = render.generate(model, target, source="zoo.net")
    assert first == render.generate(zoo_model(), target, source="zoo.net")
    for text in first.values():
        ast.parse(text)


def test_output_does_not_depend_on_hash_seed() -> None:
    script = (
        "import hashlib, netdsl; from netdsl.codegen import generate; "
        f"m = netdsl.load({str(EXAMPLES / 'googlenet.net')!r}); "
        "print(hashlib.sha256(''.join(generate(m, t, 'g')[k] for t in ('numpy', 'pytorch') "
        "for k in sorted(generate(m, t, 'g'))).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(digests) == 1


def test_numpy_module_imports_only_numpy() -> None:
    tree = ast.parse(render.generate(zoo_model(), "numpy", source="zoo.net")["zoo.py"])
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"numpy"}


def test_blocks_are_functions_and_repeats_are_loops() -> None:
    text = render.generate(netdsl.load(EXAMPLES / "resnet18.net"), "numpy", source="r")["resnet18.py"]
    functions = {node.name: node for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)}
    assert {"basic", "basic_down", "scope", "forward"} <= set(functions)
    assert [arg.arg for arg in functions["basic"].args.args] == ["params", "x"]  # the weights hold the channels
    loops = [node for node in ast.walk(functions["forward"]) if isinstance(node, ast.For)]
    assert len(loops) == 1 and '        x = basic(scope(params, f"basic_{k}"), x)\n' in text
    assert 'params["conv_1.weight"]' in text and "# block basic: 5 uses" in text


def test_header_is_the_check_table() -> None:
    model = netdsl.load(EXAMPLES / "lenet5.net")
    text = render.generate(model, "numpy", source="examples/lenet5.net")["lenet5.py"]
    for line in model.summary().splitlines():
        assert ("# " + line).rstrip() in text


def test_importing_codegen_loads_neither_jinja2_nor_torch() -> None:
    code = (
        "import sys, netdsl.codegen, netdsl.cli.codegen, netdsl.cli; netdsl.cli.build_parser(); "
        "print(sorted(m for m in ('jinja2', 'torch') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_unknown_target() -> None:
    with pytest.raises(render.CodegenError, match="unknown target"):
        render.generate(zoo_model(), "jax", source="zoo.net")
