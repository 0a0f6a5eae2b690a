"""Render a checked network as Python source: a NumPy module, or a PyTorch module and its train script.

Each op registers a template fragment per target: a Jinja macro named after the op (its OpDef.name) in
`templates/numpy_ops.j2` and `templates/torch_ops.j2`, giving the expression that computes the layer
from its inputs; an op without one is generated through its decomposition (OpDef.decompose). blocks.py
lays those out per scope: a class (function) per block, one statement per layer or block use, a loop per
run of repeated uses. jinja2 is imported only here, and only when rendering.
"""

from __future__ import annotations

import builtins
import keyword
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from netdsl.codegen.blocks import Planner, Scope, call_text, define
from netdsl.codegen.helpers import helper_names, numpy_helpers, torch_helper_classes
from netdsl.codegen.values import Varying, pack
from netdsl.codegen.wrap import LINE_LENGTH, wrap
from netdsl.ir.decompose import expand
from netdsl.ir.graph import Graph, Node
from netdsl.ir.init import init_plan
from netdsl.ops.base import OpDef, fmt_shape
from netdsl.train.declarations import OPTIMIZERS, SCHEDULES
from netdsl.train.settings import FUSED_HEADS

if TYPE_CHECKING:
    import jinja2

    from netdsl.model import Model

TARGETS = ("numpy", "pytorch")
__all__ = ["LINE_LENGTH", "TARGETS", "CodegenError", "generate", "wrap", "write"]

# Names the generated code itself uses, which a layer's variable or attribute must not shadow.
_NUMPY_NAMES = {
    "np",
    "params",
    "scope",
    "x",
    "logits",
    "forward",
    "init_params",
    "load",
    "initialize",
    "INPUT_SHAPE",
    "OUTPUT_SHAPE",
    "PARAMETERS",
}  # and helper_names(), read from reference.py on first use
_TORCH_NAMES = {
    "torch",
    "nn",
    "F",
    "np",
    "self",
    "x",
    "logits",
    "INPUT_SHAPE",
    "OUTPUT_SHAPE",
    "RENAMED",
    "PaddedMaxPool2d",
    "PaddedAvgPool2d",
    "ChannelLRN",
    "ChannelLayerNorm",
    "ChannelScale",
}
# nn.Module's own attributes and methods (torch 2.x) and the methods the generated module adds: a layer
# attribute named like one of them would replace it. A test checks this list against torch.
MODULE_ATTRIBUTES = {
    "T_destination",
    "add_module",
    "apply",
    "bfloat16",
    "buffers",
    "call_super_init",
    "children",
    "compile",
    "cpu",
    "cuda",
    "double",
    "dump_patches",
    "eval",
    "extra_repr",
    "float",
    "forward",
    "get_buffer",
    "get_extra_state",
    "get_parameter",
    "get_submodule",
    "half",
    "ipu",
    "load_state_dict",
    "modules",
    "mtia",
    "named_buffers",
    "named_children",
    "named_modules",
    "named_parameters",
    "parameters",
    "register_backward_hook",
    "register_buffer",
    "register_forward_hook",
    "register_forward_pre_hook",
    "register_full_backward_hook",
    "register_full_backward_pre_hook",
    "register_load_state_dict_post_hook",
    "register_load_state_dict_pre_hook",
    "register_module",
    "register_parameter",
    "register_state_dict_post_hook",
    "register_state_dict_pre_hook",
    "requires_grad_",
    "set_extra_state",
    "set_submodule",
    "share_memory",
    "state_dict",
    "to",
    "to_empty",
    "train",
    "training",
    "type",
    "xpu",
    "zero_grad",
    "load_netdsl_weights",
    "load_netdsl_state_dict",
    "netdsl_names",
    "netdsl_state_dict",
    "save_netdsl_weights",
}


@lru_cache(maxsize=1)
def reserved_names() -> frozenset[str]:
    """Every name a layer's variable or attribute must avoid (parses reference.py: not done at import)."""
    return (
        frozenset(keyword.kwlist)
        | frozenset(keyword.softkwlist)
        | frozenset(dir(builtins))
        | _NUMPY_NAMES
        | helper_names()
        | _TORCH_NAMES
        | MODULE_ATTRIBUTES
    )


# top-level modules a generated file must not shadow when its folder is on sys.path
_SHADOWED = frozenset(sys.stdlib_module_names) | {"numpy", "torch", "netdsl", "jinja2"}


class CodegenError(Exception):
    """The network or the output path cannot be turned into code; a one-line message for the user."""


@dataclass(frozen=True)
class Layer:
    """One node as the templates see it: the node and the Python names around it."""

    node: Node
    var: str  # the variable that holds its output in forward()
    ins: tuple[str, ...]  # the variables of its inputs, in order
    attr: str  # an identifier for the layer (the PyTorch submodule's attribute)
    in_shapes: tuple[tuple[int, ...], ...]

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def op(self) -> str:
        return self.node.op

    @property
    def attrs(self) -> dict:
        return self.node.attrs

    @property
    def shape(self) -> tuple[int, ...]:
        return self.node.shape

    @property
    def x(self) -> str:
        """The (first) input variable."""
        return self.ins[0]

    @property
    def in_shape(self) -> tuple[int, ...]:
        return self.in_shapes[0]

    @property
    def has_bias(self) -> bool:
        return "bias" in self.node.params

    @property
    def dims(self) -> str:
        """PyTorch's suffix for the input's spatial rank: "1d" (sequences), "2d" (images) or "3d" (volumes)."""
        return f"{max(len(self.in_shape) - 1, 1)}d"

    @property
    def ones(self) -> tuple[int, ...]:
        """A stride or dilation of 1 on every spatial axis (the defaults fragments leave out with `!=`)."""
        return (1,) * max(len(self.in_shape) - 1, 1)

    @property
    def zeros(self) -> tuple[int, ...]:
        """A pad of 0 on every spatial axis."""
        return (0,) * max(len(self.in_shape) - 1, 1)

    @property
    def spatial_axes(self) -> tuple[int, ...]:
        """The spatial axes of the (first) input, channels first: (2, 3) for an image."""
        return tuple(range(2, len(self.in_shape) + 1))

    @property
    def padding(self) -> tuple[int, ...] | None:
        """The pad of each axis ((pad_h, pad_w) for images) when the pads are symmetric, None when they differ
        at the start and the end of an axis."""
        pads = self.attrs["pads"]
        rank = len(pads) // 2
        begins, ends = pack(tuple(pads[:rank])), pack(tuple(pads[rank:]))
        return begins if begins == ends else None

    @property
    def pool_padding(self) -> tuple[int, ...] | None:
        """Symmetric pads a PyTorch pooling layer accepts (at most half the window), else None."""
        pad, kernel = self.padding, self.attrs["kernel"]
        return pad if pad is not None and all(p <= k // 2 for p, k in zip(pad, kernel)) else None

    @property
    def fpad(self) -> tuple[int, ...]:
        """The pads in `F.pad`'s order, the last axis first: (left, right, top, bottom) for images."""
        pads = self.attrs["pads"]
        rank = len(pads) // 2
        return pack(tuple(p for axis in reversed(range(rank)) for p in (pads[axis], pads[rank + axis])))

    @property
    def comment(self) -> str:
        from netdsl.table import op_text

        return f"{self.name}: {op_text(self.node)} -> {fmt_shape(self.shape)}"


# ---- names ----


def sanitize(name: str) -> str:
    """A layer name as an identifier: `basic_1.conv_2` -> `basic_1__conv_2`."""
    text = name.replace(".", "__")
    return text if text.isidentifier() else "_" + "".join(c if c.isalnum() else "_" for c in text)


def has_snippet(target: str, op: OpDef) -> bool:
    """Whether the target's fragments implement the op (a macro named after it)."""
    return callable(getattr(fragments(target), op.name, None))


def generatable(graph: Graph, target: str) -> Graph:
    """The graph with each op the target has no fragment for replaced by its decomposition."""
    return expand(graph, lambda op: has_snippet(target, op))


def class_name(network: str) -> str:
    """`seed002_mnist` -> `Seed002Mnist`."""
    name = "".join(part[:1].upper() + part[1:] for part in network.split("_") if part)
    name = name if name.isidentifier() else "Net" + name
    return name + "Net" if name in reserved_names() else name


def module_stem(network: str) -> str:
    """The default file stem of a network's module: its name, unless that would shadow a library."""
    return network + "_net" if network in _SHADOWED else network


def check_stem(stem: str) -> None:
    if not stem.isidentifier() or keyword.iskeyword(stem):
        raise CodegenError(
            f"'{stem}' cannot be a Python module name: the output file name must be an identifier followed by .py"
        )
    if stem in _SHADOWED:
        raise CodegenError(f"a module named '{stem}.py' would shadow the '{stem}' library; choose another name")


# ---- rendering ----


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The package's templates, strict about undefined names."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("netdsl.codegen", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["py"] = py_literal
    env.filters["comment"] = comment_text
    env.filters["doc"] = docstring_text
    return env


# User text (file names, paths, strings) reaches generated code only through these three escapes.


def _escape_unprintable(text: str) -> str:
    """Line breaks and other unprintable characters as their backslash escapes: `\\n`, `\\x1b`, `\\u2028`."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def comment_text(text: Any) -> str:
    """Text that stays inside one `#` comment line."""
    return _escape_unprintable(str(text))


def docstring_text(text: Any) -> str:
    """Text that stays inside a triple-quoted docstring and reads back as itself."""
    return _escape_unprintable(str(text).replace("\\", "\\\\").replace('"', '\\"'))


def py_literal(value: Any) -> str:
    """A Python literal for an attribute value: ints, floats, bools, tuples, strings (ASCII, fully escaped); a value
    that differs between the uses of a block, its expression in the block's parameters (values.py)."""
    if isinstance(value, Varying):
        return value.text()
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    return repr(value)


def fragments(target: str) -> Any:
    """The template module holding the per-op macros of a target."""
    return environment().get_template(f"{'numpy' if target == 'numpy' else 'torch'}_ops.j2").module


def block_name(target: str) -> Callable[[str, set[str]], str]:
    """The class (PyTorch) or function (NumPy) name of a block, distinct from every name taken."""

    def name(block: str, taken: set[str]) -> str:
        base = class_name(block) if target == "pytorch" else sanitize(block)
        found, k = base, 1
        while found in taken or found in reserved_names():
            k += 1
            found = f"{base}{k}" if target == "pytorch" else f"{base}_{k}"
        return found

    return name


def layer_comment(node: Node) -> str:
    from netdsl.table import op_text

    return f"{op_text(node)} -> {fmt_shape(node.shape)}"


def header(model: Model, source: str, planner: Planner) -> dict:
    """The file's top: where it came from and the check table, block uses one row each."""
    from netdsl import __version__

    table = network_table(model, planner)
    wide = any(len(line) + 2 > LINE_LENGTH for line in table) or any(
        len(line) + 2 > LINE_LENGTH for scope in planner.scopes for line in scope.table
    )
    return {"table": table, "source": source, "version": __version__, "wide": wide}


def network_table(model: Model, planner: Planner) -> list[str]:
    """`netdsl check`'s table with each block use as one row (its layers' params and MACs summed)."""
    from netdsl.table import HEADERS, op_text, plain_table, rf_text, totals_lines

    graph = planner.graph
    rows, previous = [], None
    for unit in planner.tree:
        nodes = [unit] if isinstance(unit, Node) else unit.nodes
        last = nodes[-1]
        inputs = unit.inputs if isinstance(unit, Node) else [unit.input]
        params, macs = sum(n.param_count for n in nodes), sum(n.macs for n in nodes)
        rows.append(
            [
                unit.name if isinstance(unit, Node) else unit.path,
                op_text(unit) if isinstance(unit, Node) else call_text(unit),
                fmt_shape(last.shape),
                f"{params:,}" if params else "",
                f"{macs:,}" if macs else "",
                rf_text(graph[last.name]),
                "" if inputs in ([], [previous]) else ", ".join(inputs),
            ]
        )
        previous = last.name
    chain = all(not row[-1] for row in rows)
    headers = HEADERS + ([] if chain else ["Inputs"])
    rows = [row[: len(headers)] for row in rows]
    return plain_table(f"network {model.name}", headers, rows) + totals_lines(model._network)


def tensors(model: Model, torch_names: dict[str, str]) -> list[dict]:
    """Every weight tensor in the backend's order: key, shape, how the backend initializes it, its PyTorch name."""
    return [
        {
            "key": t.key,
            "node": t.node,
            "param": t.param,
            "shape": t.shape,
            "init": t.how,
            "scale": float(t.scale),
            "buffer": t.buffer,
            "torch_name": f"{torch_names.get(t.node, t.node)}.{t.param}",
        }
        for t in init_plan(model.graph)
    ]


def helpers(planner: Planner, scopes: list[Scope], target: str) -> list[str]:
    """NumPy: the source of the reference functions the forward code calls; PyTorch: the helper classes
    the submodules are built from."""
    if target == "numpy":
        return numpy_helpers([line for scope in scopes for line in scope.forward])
    source = environment().loader.get_source(environment(), "torch_helpers.j2")[0]
    return torch_helper_classes(source, [line for scope in scopes for line in scope.inits])


def final_activation(graph: Graph) -> str | None:
    """The last layer's op when a loss can fuse it (softmax, sigmoid): training then uses the scores before it."""
    return graph.output.op if graph.output.op in FUSED_HEADS.values() else None


def planned(graph: Graph, target: str) -> Planner:
    """Every scope of the graph's code for a target: the blocks' (planner.scopes) and the network's (planner.top)."""
    graph = generatable(graph, target)
    planner = Planner(graph, target, fragments(target), reserved_names(), block_name(target), layer_comment)
    planner.final = final_activation(graph) if isinstance(planner.tree[-1], Node) else None
    planner.network()
    return planner


def context(model: Model, target: str, source: str, stem: str) -> dict:
    planner = planned(model.graph, target)
    network, graph = planner.top, planner.graph
    assert network is not None
    scopes = planner.scopes + [network]
    torch_names = planner.torch_names() if target == "pytorch" else {}
    all_tensors = tensors(model, torch_names)
    return {
        "network": model.name,
        "target": target,
        "class_name": class_name(model.name),
        "stem": stem,
        "header": header(model, source, planner),
        "blocks": planner.scopes,
        "top": network,
        "layers": list(graph),
        "helpers": helpers(planner, scopes, target),
        "tensors": all_tensors,
        "renamed": [t for t in all_tensors if t["torch_name"] != t["key"]],
        "trainable": model.totals.trainable,
        "input_shape": tuple(model.graph.input.shape),
        "output_shape": tuple(model.graph.output.shape),
        "final": planner.final,
        "train": train_settings(model, planner.final),
    }


def train_settings(model: Model, final: str | None) -> dict:
    """The train section as the train script uses it: PyTorch's optimizer and its keyword arguments."""
    config = model.train_config
    torch_args = {
        key: value if isinstance(value, (bool, tuple)) else float(value)
        for key, value in config.optimizer_kwargs().items()
    }
    optimizer = OPTIMIZERS[config.optimizer].torch_class
    fused = final is not None and FUSED_HEADS.get(config.loss) == final
    kwargs = "".join(f", {key}={py_literal(value)}" for key, value in torch_args.items() if key != "lr")
    extra = (["augmenter"] if config.augment else []) + (["iteration: int"] if config.decay else [])
    epoch_args = ["model", "loader: DataLoader", "optimizer: torch.optim.Optimizer", "device: torch.device"] + extra
    settings = {
        "optimizer_lines": wrap(f"    return torch.optim.{optimizer}(parameters, lr=lr{kwargs})"),
        "train_epoch_def": define(
            "def train_epoch(", epoch_args, ") -> " + ("tuple[list[float], int]:" if config.decay else "list[float]:")
        ),
    }
    return {
        **settings,
        "data": config.data,
        "loss": config.loss,
        "optimizer": optimizer,
        "lr": torch_args.pop("lr"),
        "optimizer_kwargs": [f"{key}={py_literal(value)}" for key, value in torch_args.items()],
        "epochs": config.epochs,
        "batch": config.batch,
        "seed": config.seed,
        "val_split": config.val_split,
        "netdsl_optimizer": config.optimizer,
        "fused": fused,
        **schedule_settings(config),
        **regression_settings(config),
    }


TORCH_REGRESSION_LOSSES = {"mse": "mse_loss", "mae": "l1_loss", "huber": "huber_loss"}  # huber: delta 1, as netdsl's


def regression_settings(config) -> dict:
    """`target = values`: the data's target, torch's loss function and the metric the script reports."""
    regression = config.regression
    return {
        "regression": regression,
        "target": "values" if regression else "labels",
        "torch_loss": TORCH_REGRESSION_LOSSES.get(config.loss),
        "metric": config.metric if regression else "acc",
    }


def schedule_settings(config) -> dict:
    """The lr schedule as torch.optim.lr_scheduler calls (`main`, one line or None), Keras' decay, augmentation."""
    spec = config.schedule
    main = scheduler_call(spec) if spec is not None else None
    lr_parts = [f"{config.warmup} warm-up epoch{'s' if config.warmup > 1 else ''}"] if config.warmup else []
    if spec is not None:
        lr_parts.append(f"schedule {spec.name}")
    if lr_parts:
        lr_parts[-1] += " (torch.optim.lr_scheduler, stepped once an epoch)"
    if config.decay:
        lr_parts.append(f"Keras' decay, lr / (1 + {config.decay:g} * iterations) at each step")
    transforms = [f"Transform({py_literal(t.name)}, {py_literal(tuple(t.args))})" for t in config.augment]
    augment = f"({transforms[0]},)" if len(transforms) == 1 else f"({', '.join(transforms)})"
    return {
        "schedule": spec.name if spec else None,
        "main_scheduler": main,
        "warmup": config.warmup,
        "main_scheduler_lines": wrap(f"    main = {main}") if main else [],
        "augment_lines": wrap(f"    return Augmenter({augment}, seed=seed * 1009 + rank)"),
        "decay": config.decay,
        "augment": augment if config.augment else None,
        "augment_text": ", ".join(str(t) for t in config.augment),
        "lr_text": _lr_sentence(lr_parts),
    }


def scheduler_call(spec) -> str:
    """A schedule as its torch.optim.lr_scheduler call, from its declaration (`sched.StepLR(optimizer, ...)`)."""
    declaration = SCHEDULES[spec.name]
    values = {}
    for arg in declaration.args:
        value = spec.get(arg.name)
        values[arg.name] = (
            'optimizer.param_groups[0]["lr"]' if value is None and arg.defaults_to_lr else py_literal(value)
        )
    arguments = [f"{key}={source.format(**values)}" for key, source in declaration.torch_args]
    return f"sched.{declaration.torch_class}(optimizer, {', '.join(arguments)})"


def _lr_sentence(parts: list[str]) -> str:
    """The train script's docstring sentence on its learning rate, wrapped at 100 columns."""
    import textwrap

    if not parts:
        return ""
    sentence = f"The learning rate follows the train section as `netdsl train` sets it: {', then '.join(parts)}."
    return textwrap.fill(sentence, 100)


TEMPLATES = {"numpy": ("numpy_module.py.j2",), "pytorch": ("torch_module.py.j2", "torch_train.py.j2")}


def generate(model: Model, target: str, source: str, stem: str | None = None) -> dict[str, str]:
    """File name -> source text of everything a target produces (deterministic: same input, same bytes)."""
    if target not in TARGETS:
        raise CodegenError(f"unknown target '{target}': choose {' or '.join(TARGETS)}")
    stem = stem or module_stem(model.name)
    check_stem(stem)
    values = context(model, target, source, stem)
    env = environment()
    names = [f"{stem}.py", f"{stem}_train.py"]
    files = {
        name: env.get_template(template).render({**values, "uses_functional": True})
        for name, template in zip(names, TEMPLATES[target])
    }
    if target == "pytorch" and not _calls_functional(files[names[0]]):  # a net of fc layers alone: no F. call
        files[names[0]] = env.get_template(TEMPLATES[target][0]).render({**values, "uses_functional": False})
    return files


def _calls_functional(module: str) -> bool:
    """Whether a generated PyTorch module uses `F` (torch.nn.functional) beyond importing it."""
    import re

    return re.search(r"(?<![\w.])F\.", module.replace("from torch.nn import functional as F\n", "")) is not None


def write(files: dict[str, str], directory: str | Path) -> list[Path]:
    """Write each file atomically (a temporary name beside it, then a rename), readable as umask allows."""
    from netdsl.fileio import atomic_write_text

    return [atomic_write_text(Path(directory) / name, text) for name, text in files.items()]
