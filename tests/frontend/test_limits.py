"""Issue 11 S4 and D6: every input, however large or deep, ends in one located diagnostic, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import compile_text, only_error

from netdsl.diagnostics import render
from netdsl.frontend.limits import MAX_NESTING, MAX_SOURCE_BYTES, SourceFileError, read_source


def located(text: str, fragment: str):
    """The one error of text, which mentions fragment and points into the program."""
    error = only_error(text)
    assert fragment in error.message, error.message
    assert error.span is not None and error.span.file == "test.net" and error.span.line >= 1
    render(error, {"test.net": text})  # renders without a traceback
    return error


# ---- D6: recursion ----


def test_5000_redundant_parentheses_are_refused_at_the_cap() -> None:
    """Issue 21 L6: parentheses that only group left no node for the nesting check and were accepted."""
    error = located(
        "input(1, 8, 8)\nconv(" + "(" * 5000 + "4" + ")" * 5000 + ", 3)\n",
        f"parentheses nested more than {MAX_NESTING} deep",
    )
    assert (error.span.line, error.span.column) == (2, len("conv") + MAX_NESTING + 1)  # the 101st open one


def test_parentheses_up_to_the_cap_and_in_comments_and_strings_are_fine() -> None:
    assert compile_text("input(" + "(" * 98 + "4" + ")" * 98 + ") - relu").ok
    assert compile_text("input(4) - relu  # " + "(" * 500 + "\n").ok


def test_groups_nested_200_deep() -> None:
    error = located("input(8) - " + "[" * 200 + "relu" + "]" * 200 + " - fc(10)", "nested more than 100")
    assert error.span.column == len("input(8) - ") + MAX_NESTING + 1  # at the first group past the cap


def test_sum_of_5000_terms() -> None:
    located("input(8) - fc(" + "+".join(["1"] * 5000) + ")", "nested more than 100")


def test_unary_minus_chain() -> None:
    located("input(8) - fc(" + "-" * 5000 + "1)", "nested more than 100")


def test_deep_tuple() -> None:
    located("input(8) - conv(4, " + "(" * 300 + "1" + ", 1)" * 300 + ")", "nested more than 100")


def test_nesting_in_a_train_section() -> None:
    located("input(8) - fc(10)\ntrain { epochs = " + "+".join(["1"] * 5000) + " }", "nested more than 100")


def test_chain_of_200_blocks() -> None:
    blocks = "block b0 { relu }\n" + "".join(f"block b{i} {{ b{i - 1} }}\n" for i in range(1, 200))
    error = located(blocks + "input(8) - b199 - fc(10)", "layers nest more than 100 levels")
    assert error.span.line <= 200


def test_blocks_and_groups_count_together() -> None:
    """Nine blocks, each wrapping the previous one in 30 groups: under the parser's cap, over the builder's."""
    blocks = "block b0 { relu }\n" + "".join(
        f"block b{i} {{ " + "[" * 30 + f"b{i - 1}" + "]" * 30 + " }\n" for i in range(1, 10)
    )
    located(blocks + "input(8) - b9 - fc(10)", "layers nest more than 100 levels")


def test_nesting_below_the_cap_is_fine() -> None:
    program = "input(8) - " + "[relu - " * 60 + "relu" + "]" * 60 + " - fc(" + "+".join(["1"] * 90) + ")"
    assert compile_text(program).ok
    blocks = "block b0 { relu }\n" + "".join(f"block b{i} {{ b{i - 1} }}\n" for i in range(1, 60))
    assert compile_text(blocks + "input(8) - b59 - fc(10)").ok


# ---- S4 and D6: huge integers ----


def test_integer_literal_over_4300_digits() -> None:
    error = located("input(8) - fc(" + "7" * 5000 + ")", "is too large")
    assert "5000 digits" in error.message and len(error.message) < 200


def test_huge_dimension_in_a_size() -> None:
    located("input(1, 99999999999999999999x3) - fc(10)", "is too large")


def test_squaring_blocks_stop_at_the_multiplication() -> None:
    """The probe: each block squares its parameter; 32 levels took 34 s and 2 GB, 34 a MemoryError."""
    blocks = "block b0(n) { relu }\n" + "".join(f"block b{i}(n) {{ b{i - 1}(n*n) }}\n" for i in range(1, 40))
    error = located(blocks + "input(8) - b39(2) - fc(10)", "4294967296 * 4294967296 is too large")
    assert "n*n" in render(error, {"test.net": blocks})


def test_sizes_and_counts_are_capped() -> None:
    located("input(8) - fc(2147483648)", "at most 2,147,483,647")
    located("input(2147483648) - fc(10)", "at most 2,147,483,647")
    located("input(8) - relu*3000000000 - fc(10)", "at most 2,147,483,647")
    assert compile_text("input(8) - fc(2147483647)").ok  # the cap itself is allowed (only checked, never allocated)


def test_program_over_the_size_cap() -> None:
    text = "# " + "x" * MAX_SOURCE_BYTES + "\ninput(8) - fc(10)\n"
    error = only_error(text)
    assert "larger than 1 MiB" in error.message and error.span.line == 1


# ---- D6: files that are not programs ----


def test_read_source_refuses_a_fifo_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.net"
    os.mkfifo(fifo)
    with pytest.raises(SourceFileError, match="not a regular file"):
        read_source(fifo)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_read_source_refuses_dev_zero() -> None:
    with pytest.raises(SourceFileError, match="not a regular file"):
        read_source("/dev/zero")


def test_read_source_caps_the_size(tmp_path: Path) -> None:
    big = tmp_path / "big.net"
    big.write_bytes(b"#" * (MAX_SOURCE_BYTES + 1))
    with pytest.raises(SourceFileError, match="larger than 1 MiB"):
        read_source(big)


@pytest.mark.parametrize("kind", ["fifo", "big"])
def test_check_command_gives_one_line_and_exit_1(tmp_path: Path, kind: str, capsys) -> None:
    from netdsl.cli import main

    path = tmp_path / "bad.net"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(b"#" * (MAX_SOURCE_BYTES + 1))
    with pytest.raises(SystemExit) as exit_info:
        main(["check", str(path)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"netdsl: error: {path}: "), err


def test_api_load_refuses_a_fifo(tmp_path: Path) -> None:
    import netdsl
    from netdsl.diagnostics import NetdslError

    os.mkfifo(tmp_path / "pipe.net")
    with pytest.raises(NetdslError, match="not a regular file"):
        netdsl.load(tmp_path / "pipe.net")


def test_read_source_drops_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.net"
    path.write_bytes(b"\xef\xbb\xbfnetwork t {\n  input(4) - fc(2)\n}\n")
    text = read_source(path)
    assert text.startswith("network t")
    assert compile_text(text).ok
