"""Issue 21 M1, L1, L2 over stdio with raw frames: URIs the client never opened, bad frames, invalid
params, and a burst of edits on a large document."""

from __future__ import annotations

import os

import pytest
from helpers import EXAMPLES
from raw_lsp import RawClient

LENET = EXAMPLES / "lenet5.net"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    client = RawClient(tmp_path_factory.mktemp("lsp") / "server.log")
    client.initialize()
    yield client
    assert client.close() == 0


def _hover(uri: str) -> dict:
    return {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}


def _symbols_request(server: RawClient, uri: str) -> tuple[int, bytes]:
    return server.request_bytes("textDocument/documentSymbol", {"textDocument": {"uri": uri}})


def _open(server: RawClient, uri: str, text: str, version: int = 1) -> dict:
    server.notify(
        "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "netdsl", "version": version, "text": text}}
    )
    return _diagnostics(server, uri, version)


def _diagnostics(server: RawClient, uri: str, version: int) -> dict:
    return server.wait_for(
        lambda m: (
            m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri
            and m["params"].get("version") == version
        )
    )


def test_unopened_documents_are_never_read(server, tmp_path) -> None:
    """M1: hover on /dev/zero, a FIFO and an unopened file answers null at once; nothing is read."""
    fifo = tmp_path / "pipe.net"
    os.mkfifo(fifo)
    planted = tmp_path / "unopened.net"
    planted.write_text(LENET.read_text())
    for uri in ("file:///dev/zero", fifo.as_uri(), planted.as_uri()):
        assert server.request("textDocument/hover", _hover(uri))["result"] is None, uri
        answer = server.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        assert answer["result"] == [], uri


BAD_FRAMES = {
    "not a number": b'Content-Length: abc\r\n\r\n{"jsonrpc": "2.0", "method": "x"}',
    "negative": b'Content-Length: -5\r\n\r\n{"jsonrpc": "2.0", "method": "x"}',
    "raw bytes": bytes(range(256)) * 4,
    "raw bytes, no line ends": b"\xff\xfe" * 20000,
    "10**12": b"Content-Length: 1000000000000\r\n\r\n",
    "longer than the body": b'Content-Length: 500\r\n\r\n{"jsonrpc": "2.0", "method": "x"}',
    "shorter than the body": b'Content-Length: 10\r\n\r\n{"jsonrpc": "2.0", "method": "initialized"}',
    "not JSON": b"Content-Length: 9\r\n\r\nnot json!",
    "no Content-Length": b'Content-Type: text/plain\r\n\r\n{"jsonrpc": "2.0", "method": "x"}',
}


@pytest.mark.parametrize("name", BAD_FRAMES)
def test_a_bad_frame_is_skipped_and_the_next_request_answered(server, name) -> None:
    """L1: the request glued right after the bad frame is answered; the log says what was skipped."""
    uri = LENET.resolve().as_uri()
    if not any(m.get("method") == "textDocument/publishDiagnostics" for m in server.received):
        _open(server, uri, LENET.read_text())
    ident, good = _symbols_request(server, uri)
    server.send(BAD_FRAMES[name] + good)
    symbols = server.answer(ident)["result"]
    assert "lenet5" in [symbol["name"] for symbol in symbols]
    assert "skipped" in server.log()
    assert server.process.poll() is None


def test_invalid_params_get_a_json_rpc_error(server) -> None:
    """L1: params that fail validation are answered with InvalidParams, not left waiting."""
    answer = server.request("textDocument/hover", {"textDocument": 5, "position": "here"})
    assert answer["error"]["code"] == -32602
    assert "result" not in answer


def test_quick_edits_on_a_large_document_do_not_hold_up_a_hover(server) -> None:
    """L2: five whole-document edits in a burst: a hover is answered before the last version's analysis ends,
    and the versions in between are never analysed (each took seconds and delayed the next request)."""
    uri = "file:///tmp/large-for-l2.net"
    layers = "".join("    fc(4) - relu\n" for _ in range(8000))

    def text(name: str, body: str = layers) -> str:
        return f"network {name} {{\n    input(4)\n{body}}}\n"

    _open(server, uri, text("v1", ""))
    for version in range(2, 7):
        server.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text(f"v{version}")}]},
        )
    ident, hover = server.request_bytes("textDocument/hover", _hover(uri))
    server.send(hover)
    start = len(server.received)
    server.answer(ident)
    _diagnostics(server, uri, 6)
    after_edits = server.received[start:]
    hover_at = next(i for i, m in enumerate(after_edits) if m.get("id") == ident)
    last_at = next(
        i
        for i, m in enumerate(after_edits)
        if m.get("method") == "textDocument/publishDiagnostics"
        and m["params"]["uri"] == uri
        and m["params"]["version"] == 6
    )
    assert hover_at < last_at
    published = {
        m["params"]["version"]
        for m in server.received
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
    }
    assert published & {3, 4, 5} == set() and 6 in published
