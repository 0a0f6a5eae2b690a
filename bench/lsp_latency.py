"""Time from an edit of examples/resnet50.net to its diagnostics, through `netdsl lsp` over stdio
(target: < 100 ms), beside what the same check costs without the server (`netdsl check`, a new
process per save) and the compile alone (in process).

The client speaks plain JSON-RPC over the server's stdin/stdout, as an editor does. Each round sends
one incremental didChange (alternately a typo and its fix, and a repeat count changed) and waits
for the publishDiagnostics of that version. Also checks that no heavy module (numpy, onnx, jinja2)
is loaded by the server while it works.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESNET50 = ROOT / "examples" / "resnet50.net"
EDITS = 60


class Client:
    """A minimal LSP client: Content-Length framing, one request at a time."""

    def __init__(self, command: list[str]):
        env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.next_id = 0

    def send(self, method: str, params: dict, request: bool = False) -> int | None:
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()
        return message.get("id")

    def receive(self) -> dict:
        length = 0
        while line := self.process.stdout.readline().strip():
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.process.stdout.read(length))

    def request(self, method: str, params: dict) -> dict:
        ident = self.send(method, params, request=True)
        while (message := self.receive()).get("id") != ident:
            pass
        return message

    def wait_for_version(self, version: int) -> dict:
        while True:
            message = self.receive()
            if (
                message.get("method") == "textDocument/publishDiagnostics"
                and message["params"].get("version") == version
            ):
                return message["params"]

    def close(self) -> None:
        self.request("shutdown", {})
        self.send("exit", {})
        self.process.wait(timeout=10)


def _edits(text: str) -> list[tuple[dict, int]]:
    """(change, expected number of diagnostics): a typo and its fix, a repeat count and back."""
    lines = text.split("\n")
    pool = next(i for i, line in enumerate(lines) if line.strip() == "globalavgpool")
    count = next(i for i, line in enumerate(lines) if "bottleneck(256) * 5" in line)
    column = lines[count].index("* 5") + 2

    def change(line: int, start: int, end: int, new: str) -> dict:
        return {
            "range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}},
            "text": new,
        }

    cycle = [
        (change(pool, 4, 17, "globalavgpol"), 1),
        (change(pool, 4, 16, "globalavgpool"), 0),
        (change(count, column, column + 1, "6"), 0),
        (change(count, column, column + 1, "5"), 0),
    ]
    return [cycle[i % len(cycle)] for i in range(EDITS)]


def lsp_latencies(netdsl: str) -> tuple[list[float], str]:
    client = Client([netdsl, "lsp"])
    client.request("initialize", {"processId": os.getpid(), "rootUri": ROOT.as_uri(), "capabilities": {}})
    client.send("initialized", {})
    uri = RESNET50.as_uri()
    text = RESNET50.read_text()
    client.send(
        "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "netdsl", "version": 1, "text": text}}
    )
    client.wait_for_version(1)
    times = []
    for version, (change, expected) in enumerate(_edits(text), start=2):
        start = time.perf_counter()
        client.send(
            "textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}
        )
        published = client.wait_for_version(version)
        times.append(time.perf_counter() - start)
        if len(published["diagnostics"]) != expected:
            sys.exit(f"edit {version}: {len(published['diagnostics'])} diagnostics, expected {expected}")
    hover = client.request(
        "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 22, "character": 6}}
    )
    client.close()
    return times, "ok" if hover.get("result") else "no hover"


def check_latencies(netdsl: str, runs: int = 10) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([netdsl, "check", str(RESNET50)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def compile_latencies(runs: int = 20) -> list[float]:
    from netdsl.compiler import compile_source

    text = RESNET50.read_text()
    compile_source(text, str(RESNET50))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        compile_source(text, str(RESNET50))
        times.append(time.perf_counter() - start)
    return times


def heavy_modules_in_server() -> str:
    probe = (
        "import sys\nfrom netdsl.lsp.analysis import Analysis\nfrom netdsl.lsp import hints, hover\n"
        "from lsprotocol import types\n"
        f"a = Analysis(open({str(RESNET50)!r}).read(), 'resnet50.net')\n"
        "hints.inlay_hints(a, types.Range(types.Position(0, 0), types.Position(99, 0)))\n"
        "hover.hover(a, types.Position(22, 6))\n"
        "print(' '.join(m for m in ('numpy', 'onnx', 'onnxruntime', 'jinja2', 'torch') if m in sys.modules))"
    )
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() or "none"


def _row(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return (
        f"{name:34s} median {statistics.median(values) * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms  "
        f"max {max(values) * 1000:7.1f} ms  (n={len(values)})"
    )


def main() -> None:
    netdsl = shutil.which("netdsl") or sys.exit("netdsl is not installed (pip install .)")
    lsp, hover = lsp_latencies(netdsl)
    print(_row("edit -> diagnostics (netdsl lsp)", lsp))
    print(_row("netdsl check (new process)", check_latencies(netdsl)))
    print(_row("compile_source (in process)", compile_latencies()))
    print(f"hover after the edits: {hover}; heavy modules loaded by the server's analysis: {heavy_modules_in_server()}")
    verdict = "meets" if statistics.median(lsp) < 0.1 else "MISSES"
    print(f"median edit-to-diagnostics {statistics.median(lsp) * 1000:.1f} ms {verdict} the 100 ms target")


if __name__ == "__main__":
    main()
