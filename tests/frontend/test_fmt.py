"""The formatter: canonical, idempotent, comments kept, and the meaning (the IR) never changes."""

from __future__ import annotations

import random
import re

import pytest
from helpers import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netdsl.compiler import compile_source
from netdsl.diagnostics import CompileError
from netdsl.frontend.fmt import format_source

SOURCES = {p.name: p.read_text() for p in sorted(EXAMPLES.glob("*.net"))}


def meaning(text: str) -> tuple:
    """Everything the compiler makes of a program except source positions: graphs, settings, messages."""
    compilation = compile_source(text, "program.net")
    networks = []
    for network in compilation.networks:
        nodes = (
            None
            if network.graph is None
            else [
                (
                    n.name,
                    n.op,
                    repr(n.attrs),
                    n.inputs,
                    n.shape,
                    n.params,
                    n.buffers,
                    n.macs,
                    n.receptive_field,
                    n.implicit,
                )
                for n in network.graph
            ]
        )
        networks.append((network.name, nodes, network.totals, network.train))
    messages = [(d.severity, re.sub(r"\s+", "", d.message)) for d in compilation.all_diagnostics]
    return networks, messages


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_examples_are_in_the_canonical_layout(name: str) -> None:
    assert format_source(SOURCES[name]) == SOURCES[name]


MESSY = """

# a residual block
block   basic( c,stride = 1 ){     # projection when stride > 1
  add{
   conv(c,3,stride=stride,pad=1,bias=false)-bn-relu
   -conv(c , 3, pad = (1,1))->bn
        |conv( c,1 ,stride = stride)  -  bn # shortcut
     }


   relu
}
network  net{
input( 3 , 32,32 )
      [conv(16,3x3,pad=same)-relu]*2 -conv(16*2//1- -1, 3)
   c1 : fc( 10,activation = relu )   # x
  # the end
}
train net {
 data="data/train.npz"
   optimizer =adam( lr = 1e-3 )
 epochs= 2 # e
}
"""

CANONICAL = """\
# a residual block
block basic(c, stride=1) {         # projection when stride > 1
    add {
        conv(c, 3, stride=stride, pad=1, bias=false) - bn - relu
            - conv(c, 3, pad=(1, 1)) -> bn
      | conv(c, 1, stride=stride) - bn      # shortcut
    }

    relu
}

network net {
    input(3, 32, 32)
    [conv(16, 3x3, pad=same) - relu] * 2 - conv(16 * 2 // 1 - -1, 3)
    c1: fc(10, activation=relu)      # x
    # the end
}

train net {
    data      = "data/train.npz"
    optimizer = adam(lr=1e-3)
    epochs    = 2  # e
}
"""


def test_the_canonical_layout() -> None:
    assert format_source(MESSY) == CANONICAL
    assert format_source(CANONICAL) == CANONICAL
    assert meaning(MESSY) == meaning(CANONICAL)


def test_windows_line_breaks_tabs_and_empty_files() -> None:
    assert format_source("input(1, 8, 8)\r\n\tfc(2)\r\n") == "input(1, 8, 8)\nfc(2)\n"
    assert format_source("") == "" and format_source("\n\n# only a comment\n\n") == "# only a comment\n"


def test_a_program_that_does_not_parse_is_refused_with_the_compilers_error() -> None:
    with pytest.raises(CompileError) as caught:
        format_source("network n {\n    input(1, 8, 8\n}\n", "draft.net")
    assert caught.value.diagnostic.span.file == "draft.net"
    assert (
        caught.value.diagnostic.message
        == compile_source("network n {\n    input(1, 8, 8\n}\n", "draft.net").diagnostics[0].message
    )


def _code(text: str) -> list[str]:
    return [line.split("#")[0].rstrip() for line in text.split("\n")]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SOURCES)), st.integers(0, 2**32 - 1))
def test_any_spacing_formats_back_to_the_example(name: str, seed: int) -> None:
    """Spaces and tabs added or removed between tokens (line breaks kept) give the example back."""
    rng = random.Random(seed)
    source = SOURCES[name]
    token = r"#[^\n]*|\"[^\"\n]*\"|\n|[ \t]+|[A-Za-z_][A-Za-z0-9_]*|[0-9][0-9.x]*(?:[eE][-+]?[0-9]+)?|->|//|."
    pieces = re.findall(token, source)
    scrambled = []
    for index, piece in enumerate(pieces):
        if piece.startswith(("#", '"')) or piece == "\n":  # a string (a data path) is one token, kept whole
            scrambled.append(piece)
        elif piece.strip() == "":
            joinable = not (_word(pieces[index - 1 : index]) and _word(pieces[index + 1 : index + 2]))
            scrambled.append(rng.choice(["", "\t", "   "] if joinable else [" ", "\t", "  "]))
        else:
            scrambled.append(piece + rng.choice(["", "", " "]) if not _word([piece]) else piece)
    messy = "".join(scrambled)
    formatted = format_source(messy)
    assert _code(formatted) == _code(source)
    assert format_source(formatted) == formatted
    assert meaning(formatted) == meaning(source)


def _word(pieces: list[str]) -> bool:
    return bool(pieces) and re.match(r"[A-Za-z0-9_.\"]", pieces[0]) is not None


TOKENS = [
    "-",
    "->",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "|",
    ",",
    "=",
    ":",
    "*",
    "0",
    "1",
    "3x3",
    "2.5",
    "relu",
    "conv",
    "fc",
    "add",
    "concat",
    "block",
    "network",
    "train",
    "input",
    "\n",
    "#",
    '"x"',
    "same",
    "pad",
    "stride",
    "-1",
    "identity",
    "output(10)",
    "bn",
    "x",
    " ",
    "  ",
    "\t",
    "\n\n",
    "# note\n",
    "+",
    "//",
]


@st.composite
def mutated(draw) -> str:
    """An example with a few tokens deleted, inserted or swapped (as the fuzz test of the compiler)."""
    parts = re.findall(r"\s+|[A-Za-z_][A-Za-z0-9_]*|[0-9.x]+|->|.", draw(st.sampled_from(list(SOURCES.values()))))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "swap"]))
        i = draw(st.integers(0, len(parts) - 1))
        if kind == "delete":
            del parts[i]
        elif kind == "insert":
            parts.insert(i, draw(st.sampled_from(TOKENS)))
        else:
            j = draw(st.integers(0, len(parts) - 1))
            parts[i], parts[j] = parts[j], parts[i]
    return "".join(parts)


@settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_programs_keep_their_meaning(text: str) -> None:
    try:
        formatted = format_source(text)
    except CompileError:
        assert not compile_source(text).ok  # refused only when the compiler finds a syntax error too
        return
    assert format_source(formatted) == formatted
    assert meaning(formatted) == meaning(text)


def test_groups_that_span_lines_open_and_close_on_their_own_lines() -> None:
    text = (
        "network n{ input( 1,28,28 )\nadd { conv(8, 3) | identity } - add { conv(8,3)\n| identity } - [relu\n"
        "-relu]*2\nfc(10)}\n"
    )
    assert (
        format_source(text)
        == """\
network n {
    input(1, 28, 28)
    add { conv(8, 3) | identity } - add {
        conv(8, 3)
      | identity
    } - [
        relu
            - relu
    ] * 2
    fc(10)
}
"""
    )
    assert meaning(format_source(text)) == meaning(text)


def test_comment_lines_after_a_closing_brace_stay_together() -> None:
    source = "network a {\n    input(2)\n}\n# one\n# two\ntrain {\n    epochs = 1\n}\n"
    assert format_source(source) == "network a {\n    input(2)\n}\n\n# one\n# two\ntrain {\n    epochs = 1\n}\n"
