"""Code generation: a checked network as a standalone NumPy module, or a PyTorch module and train script.

    from netdsl.codegen import generate, write
    files = generate(netdsl.load("examples/lenet5.net"), "pytorch", source="examples/lenet5.net")
    write(files, "generated/pytorch")     # lenet5.py and lenet5_train.py, each written atomically

Templates live in `netdsl/codegen/templates/*.j2`; jinja2 is imported only when rendering, and the
generated code never imports netdsl (except the train script, for its data sets).
"""

from netdsl.codegen.render import TARGETS, CodegenError, generate, module_stem, write

__all__ = ["TARGETS", "CodegenError", "generate", "module_stem", "write"]
