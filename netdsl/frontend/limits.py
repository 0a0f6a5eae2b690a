"""The front end's input caps: what keeps `check` bounded in time and memory on any .net file.

docs/security.md lists them; each one is an error located at the text that exceeds it.
"""

from __future__ import annotations

import os
import stat

from netdsl.ops.base import MAX_SIZE  # noqa: F401 - re-exported: the caps live together here

# A .net file: ResNet-50 is 1 KB; 1 MiB of `relu - ` (150k layers) takes ~10 s of CPU and 220 MB to refuse.
MAX_SOURCE_BYTES = 2**20
MAX_NESTING = 100  # groups, branches, repetitions, blocks inside blocks, operators and tuples, one inside another
MAX_INT = 2**63 - 1  # any integer in a program: a literal, a size's dimension or the result of arithmetic
MAX_INT_TEXT = "2**63 - 1"
# MAX_SIZE (2**31 - 1, from netdsl.ops.base): any size or count: dimensions, units, filters, kernels, strides,
# repetition counts

# Parse-tree rules that put one construct inside another (see grammars/netdsl.lark).
NESTING_RULES = frozenset(
    {"group", "branches", "repeat", "add", "sub", "mul", "div", "floordiv", "mod", "neg", "tuple", "call"}
)


class SourceFileError(Exception):
    """A .net path that is not a readable, bounded text file; the message is one line naming it."""


def read_source(path: str | os.PathLike[str]) -> str:
    """A .net file's text: regular files only (no FIFO, no device), at most MAX_SOURCE_BYTES, UTF-8 (BOM dropped).

    Raises SourceFileError for those, OSError when the file cannot be opened."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open; fstat refuses it below
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SourceFileError(f"{path}: not a regular file (a .net program is a text file)")
        data = stream.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceFileError(f"{path}: larger than {MAX_SOURCE_BYTES // 2**20} MiB, the most a .net file may be")
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (Windows editors write one) is not part of the text
    except UnicodeDecodeError:
        raise SourceFileError(f"{path}: not a UTF-8 text file") from None


def source_too_large(source: str) -> bool:
    """Whether program text given directly (not read from a file) exceeds MAX_SOURCE_BYTES as UTF-8."""
    if len(source) * 4 <= MAX_SOURCE_BYTES:  # no UTF-8 character takes more than 4 bytes
        return False
    return len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES
