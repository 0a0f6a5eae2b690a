"""A bare LSP client over stdio that can send any bytes: for frames no real client would send."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

SERVER = [sys.executable, "-m", "netdsl", "lsp"]
TIMEOUT = 60  # seconds: a server gone deaf fails the test instead of hanging it


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class RawClient:
    """`python -m netdsl lsp` with pipes; every message it sends is kept, in order, in `received`."""

    def __init__(self, stderr_path: Path):
        self.stderr = stderr_path.open("wb")
        self.process = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.inbox: queue.Queue[dict | None] = queue.Queue()
        self.received: list[dict] = []
        self.stderr_path = stderr_path
        threading.Thread(target=self._pump, daemon=True).start()
        self.next_id = 1

    def _pump(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line or length is None:
                self.inbox.put(None)
                return
            self.inbox.put(json.loads(stream.read(length)))

    def send(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self.send(frame({"jsonrpc": "2.0", "method": method, "params": params}))

    def request_bytes(self, method: str, params: Any) -> tuple[int, bytes]:
        """A request's id and frame, to send later (perhaps glued to bad bytes)."""
        ident, self.next_id = self.next_id, self.next_id + 1
        return ident, frame({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})

    def wait_for(self, test: Any) -> dict:
        """The first message (received from now on, or already kept and not yet consumed) that passes test."""
        while True:
            try:
                message = self.inbox.get(timeout=TIMEOUT)
            except queue.Empty:
                raise TimeoutError(f"no answer from the server; its log:\n{self.log()}") from None
            if message is None:
                raise EOFError(f"the server stopped; its log:\n{self.log()}")
            self.received.append(message)
            if test(message):
                return message

    def answer(self, ident: int) -> dict:
        return self.wait_for(lambda m: m.get("id") == ident and "method" not in m)

    def request(self, method: str, params: Any) -> dict:
        ident, data = self.request_bytes(method, params)
        self.send(data)
        return self.answer(ident)

    def initialize(self) -> None:
        self.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        self.notify("initialized", {})

    def log(self) -> str:
        self.stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def close(self) -> int:
        """Shut the server down politely; its exit status."""
        if self.process.poll() is None:
            try:
                self.request("shutdown", None)
                self.notify("exit", None)
            except (OSError, TimeoutError, EOFError):
                self.process.kill()
        code = self.process.wait(timeout=TIMEOUT)
        self.stderr.close()
        return code
