"""The LSP frame reader on its own (issue 21 L1): well-framed bodies come out, bad frames are skipped."""

from __future__ import annotations

import io
import json

import pytest
from raw_lsp import frame

from netdsl.lsp.framing import MAX_FRAME_BYTES, FrameReader

GOOD = frame({"jsonrpc": "2.0", "id": 1, "method": "shutdown"})
BODY = GOOD.split(b"\r\n\r\n", 1)[1]


def bodies(data: bytes) -> list[bytes]:
    reader = FrameReader(io.BytesIO(data), patience_s=0.2)
    found = []
    while (body := reader.next_body()) is not None:
        try:
            json.loads(body)
        except ValueError:
            reader.reject(body, "not JSON")
            continue
        found.append(body)
    return found


def test_frames_split_anywhere_come_out_whole() -> None:
    assert bodies(GOOD * 3) == [BODY] * 3
    assert bodies(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n" + GOOD) == [BODY]


@pytest.mark.parametrize(
    "bad",
    [
        b"Content-Length: abc\r\n\r\n{}",
        b"Content-Length: -5\r\n\r\n{}",
        b"\x00\xff" * 5000,
        f"Content-Length: {MAX_FRAME_BYTES + 1}\r\n\r\n".encode(),
        b"Content-Length: 999\r\n\r\n{}",
        b'Content-Length: 3\r\n\r\n{"jsonrpc": 1}',
        b"X-Other: 1\r\n\r\n{}",
        b"Content-Length: 10" + b" " * 9000,
    ],
)
def test_a_bad_frame_costs_only_itself(bad: bytes) -> None:
    assert bodies(GOOD + bad + GOOD) == [BODY, BODY]


def test_the_end_of_input_is_the_end() -> None:
    assert bodies(b"") == []
    assert bodies(GOOD + b"Content-Len") == [BODY]
    assert bodies(b'Content-Length: 50\r\n\r\n{"a"') == []
