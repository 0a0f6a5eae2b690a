"""S2: user text (the program's path, strings of the train section) never escapes into generated code."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given
from hypothesis import strategies as st

import netdsl
from netdsl.codegen import TARGETS, generate, render

NET = """
network tiny {
    input(1, 8, 8)
    c1: conv(2, 3) - relu
    fc(3)
}
train {
    data = DATA
    epochs = 1
}
"""

HOSTILE_PATHS = [
    'a"""b.net',
    'x\nimport os; os.system("echo pwned")\n.net',
    "x\r\nraise SystemExit(3)\n#.net",
    "C:\\Users\\new\\x\\N.net",
    'it\'s "quoted".net',
    "\u2028raise SystemExit(4)\u2029.net",
    "\x1b[31mred\x1b[0m\x0b\x0c.net",
    "tail\\",
]


def _files(source_path: str, data: str = "digits") -> dict[str, str]:
    model = netdsl.loads(NET.replace("DATA", data), file="tiny.net")
    files = {}
    for target in TARGETS:
        files.update({f"{target}/{name}": text for name, text in generate(model, target, source=source_path).items()})
    return files


def _without_docstring(tree: ast.Module) -> str:
    body = tree.body[1:] if ast.get_docstring(tree, clean=False) is not None else tree.body
    return ast.dump(ast.Module(body=body, type_ignores=[]))


@pytest.mark.parametrize("path", HOSTILE_PATHS, ids=range(len(HOSTILE_PATHS)))
def test_a_hostile_source_path_stays_text(path: str):
    benign = _files("examples/tiny.net")
    for name, text in _files(path).items():
        tree = ast.parse(text)  # no SyntaxError
        assert _without_docstring(tree) == _without_docstring(ast.parse(benign[name])), name  # no statement added
        doc = ast.get_docstring(tree, clean=False)
        if name.endswith("/tiny.py"):
            assert path in doc, name  # the module docstring still names the path, exactly
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                assert line.isprintable(), (name, line)


@pytest.mark.parametrize("data", ['"C:\\Users\\x\\N\\data.npz"', '"a\rb\u2028c\\.npz"', '"tab\there.npz"'])
def test_train_section_strings_reach_the_train_script_escaped(data: str):
    files = _files("tiny.net", data=data)
    script = files["pytorch/tiny_train.py"]
    tree = ast.parse(script)
    values = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "DATA" for t in node.targets)
    ]
    assert len(values) == 1 and ast.literal_eval(values[0]) == data[1:-1]
    assert data[1:-1] in ast.get_docstring(tree, clean=False)


@given(st.text())
def test_py_literal_of_any_string_reads_back(text: str):
    literal = render.py_literal(text)
    assert literal.isascii() and literal.isprintable()
    assert ast.literal_eval(literal) == text


@given(st.text())
def test_comment_and_docstring_text_stay_on_one_line(text: str):
    assert render.comment_text(text).isprintable()
    doc = render.docstring_text(text)
    assert doc.isprintable() and '"' not in doc.replace('\\"', "")
    assert ast.literal_eval('"""' + doc + ' """')[:-1] == text
