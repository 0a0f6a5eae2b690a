"""LSP base-protocol framing over a byte stream, bounded and self-resynchronizing.

pygls' own loop trusts each `Content-Length`: a bad one glues later headers onto the previous body
forever, and 10**12 allocates until the process dies. This reader checks every header block, caps
a body at MAX_FRAME_BYTES, stops waiting for a body that stalls, and after any bad frame skips to
the next `Content-Length:` header, logging what it dropped and why.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
from typing import BinaryIO

log = logging.getLogger("netdsl.lsp")

# A 1 MiB document JSON-escaped as \uXXXX is 6 MiB; a whole-document edit or didOpen carries one copy.
MAX_FRAME_BYTES = 16 * 2**20
MAX_HEADER_BYTES = 8192  # a header block longer than this is not one
BODY_PATIENCE_S = 2.0  # a body that stops arriving this long before its promised length was a lying header
CHUNK_BYTES = 65536
QUEUED_CHUNKS = 64  # the reader thread stays at most 4 MiB ahead of the parser

CONTENT_LENGTH = b"Content-Length:"
HEADER_NAMES = (b"content-length:", b"content-type:")
HEADER_LINE = re.compile(rb"([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*)")
DIGITS = re.compile(rb"[0-9]{1,20}")


class FrameReader:
    """Message bodies from a stream: `next_body()` blocks until one arrives, None at end of input."""

    def __init__(self, stream: BinaryIO, patience_s: float = BODY_PATIENCE_S):
        self.chunks: queue.Queue[bytes] = queue.Queue(maxsize=QUEUED_CHUNKS)
        self.buffer = bytearray()
        self.ended = False
        self.patience_s = patience_s
        threading.Thread(target=self._pump, args=(stream,), name="netdsl-lsp-stdin", daemon=True).start()

    def _pump(self, stream: BinaryIO) -> None:
        """Move the stream's bytes into the queue as they come (b"" marks the end)."""
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            read = getattr(stream, "read1", stream.read)
        else:  # unbuffered: a daemon thread blocked inside a buffered read aborts the interpreter's exit

            def read(size: int) -> bytes:
                return os.read(fd, size)

        try:
            while chunk := read(CHUNK_BYTES):
                self.chunks.put(chunk)
        except (OSError, ValueError) as err:
            log.error("reading the client's messages failed: %s", err)
        self.chunks.put(b"")

    def _fill(self, timeout: float | None = None) -> bool:
        """Append the next chunk; False when none came within timeout or the input has ended."""
        if self.ended:
            return False
        try:
            chunk = self.chunks.get(timeout=timeout)
        except queue.Empty:
            return False
        if not chunk:
            self.ended = True
            return False
        self.buffer += chunk
        return True

    def next_body(self) -> bytes | None:
        """The next well-framed body; bad frames are logged and skipped."""
        while True:
            state = self._header_state()
            if state == "junk":
                self._resync("bytes that are not a message header")
                continue
            if state == "more":
                if not self._fill():
                    if self.buffer:
                        self._drop(len(self.buffer), "bytes at the end of input that are not a message")
                    return None
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEADER_BYTES:
                    self._resync(f"a header block longer than {MAX_HEADER_BYTES} bytes")
                elif not self._fill():
                    return None
                continue
            length, problem = _content_length(bytes(self.buffer[:end]))
            if problem:  # the body's length is unknown: read on from the next header, even one inside this block
                self._resync(problem)
                continue
            del self.buffer[: end + 4]
            body = self._body(length)
            if body is not None:
                return body

    def _header_state(self) -> str:
        """ "yes" when the buffer starts a header block, "more" when too few bytes say, else "junk"."""
        head = bytes(self.buffer[: len(HEADER_NAMES[0])]).lower()
        for name in HEADER_NAMES:
            if head.startswith(name):
                return "yes"
            if name.startswith(head):
                return "more"
        return "junk"

    def _body(self, length: int) -> bytes | None:
        """`length` bytes, or None (logged, resynchronizing) when they stop arriving or the input ends."""
        while len(self.buffer) < length:
            if not self._fill(timeout=self.patience_s):
                reason = "the input ended" if self.ended else f"nothing more came for {self.patience_s:g} s"
                self._resync(f"a message promised {length} bytes but {reason} after {len(self.buffer)}")
                return None
        body = bytes(self.buffer[:length])
        del self.buffer[:length]
        return body

    def reject(self, body: bytes, reason: str) -> None:
        """A body that is not a message: look inside it for the next header (a frame glued on)."""
        self.buffer[:0] = body
        self._resync(reason)

    def _resync(self, reason: str) -> None:
        """Drop bytes up to the next `Content-Length:` after the buffer's start, or all but a tail that may
        begin one."""
        found = self.buffer.find(CONTENT_LENGTH, 1)
        if found < 0:
            found = len(self.buffer) - _partial_header(bytes(self.buffer[-len(CONTENT_LENGTH) :]))
        self._drop(max(found, 1) if self.buffer else 0, reason)

    def _drop(self, count: int, reason: str) -> None:
        log.warning(
            "bad input from the client (%s): skipped %d bytes, reading on from the next Content-Length header",
            reason,
            count,
        )
        del self.buffer[:count]


def _partial_header(tail: bytes) -> int:
    """The length of the longest end of `tail` that starts `Content-Length:`."""
    for size in range(min(len(tail), len(CONTENT_LENGTH) - 1), 0, -1):
        if CONTENT_LENGTH.startswith(tail[-size:]):
            return size
    return 0


def _content_length(block: bytes) -> tuple[int, str]:
    """The Content-Length a header block declares, or a reason it declares none usable."""
    length: int | None = None
    for line in block.split(b"\r\n"):
        match = HEADER_LINE.fullmatch(line)
        if match is None:
            return 0, f"a header line that is not `Name: value` ({_shown(line)})"
        if match.group(1).lower() != b"content-length":
            continue
        value = match.group(2).strip()
        if DIGITS.fullmatch(value) is None:
            return 0, f"Content-Length {_shown(value)} is not a byte count"
        length = int(value)
    if length is None:
        return 0, "a header block without Content-Length"
    if length > MAX_FRAME_BYTES:
        return 0, f"Content-Length {length} is more than the {MAX_FRAME_BYTES // 2**20} MiB a message may be"
    return length, ""


def _shown(raw: bytes, limit: int = 40) -> str:
    """A header fragment for the log: escaped, at most `limit` bytes."""
    text = repr(raw[:limit])[2:-1]
    return text + ("..." if len(raw) > limit else "")
