"""Small helpers for driving the server from a test: open, edit, wait for diagnostics."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

SERVER = [sys.executable, "-m", "netdsl", "lsp"]
TIMEOUT = 60  # seconds: a lost notification fails the test instead of hanging it


def make_client() -> LanguageClient:
    """pytest-lsp's client, also keeping every publishDiagnostics it receives (in `published`).

    Waiting for "the next notification" loses one that arrives in the same read as another."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []
    default = DEFAULT_CLIENT_FEATURES[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.published.append(params)
        default(client, params)

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: record})
    return client


class Document:
    """An open document whose text the test edits, as an editor would."""

    def __init__(self, client: LanguageClient, path: Path, text: str | None = None):
        self.client = client
        self.path = path
        self.uri = path.resolve().as_uri()
        self.text = path.read_text() if text is None else text
        self.version = 1
        self.sent = 0  # diagnostics published before the last change are stale

    async def open(self) -> list[types.Diagnostic]:
        self.sent = len(self.client.published)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(self.uri, "netdsl", self.version, self.text))
        )
        return await self.diagnostics()

    async def diagnostics(self) -> list[types.Diagnostic]:
        """Wait for the diagnostics of the current version."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while loop.time() < deadline:
            for params in self.client.published[self.sent :]:
                if params.uri == self.uri and params.version == self.version:
                    return list(params.diagnostics)
            await asyncio.sleep(0.005)
        raise TimeoutError(f"no diagnostics for version {self.version} of {self.path.name}")

    def send_edit(self, start: tuple[int, int], end: tuple[int, int], new_text: str) -> None:
        """Replace the 0-based (line, character) range with new_text, incrementally."""
        lines = self.text.split("\n")
        offset = sum(len(line) + 1 for line in lines[: start[0]]) + start[1]
        stop = sum(len(line) + 1 for line in lines[: end[0]]) + end[1]
        self.text = self.text[:offset] + new_text + self.text[stop:]
        self.version += 1
        self.sent = len(self.client.published)
        change = types.TextDocumentContentChangePartial(
            types.Range(types.Position(*start), types.Position(*end)), new_text
        )
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version), [change]
            )
        )

    async def edit(self, start: tuple[int, int], end: tuple[int, int], new_text: str) -> list[types.Diagnostic]:
        self.send_edit(start, end, new_text)
        return await self.diagnostics()

    async def replace_all(self, text: str) -> list[types.Diagnostic]:
        lines = self.text.split("\n")
        return await self.edit((0, 0), (len(lines) - 1, len(lines[-1])), text)

    def close(self) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(self.uri)))

    def position_of(self, needle: str, occurrence: int = 0, delta: int = 0) -> types.Position:
        """The position of the n-th occurrence of needle (plus delta characters)."""
        index = -1
        for _ in range(occurrence + 1):
            index = self.text.index(needle, index + 1)
        index += delta
        line = self.text.count("\n", 0, index)
        return types.Position(line, index - (self.text.rfind("\n", 0, index) + 1))

    @property
    def ident(self) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(self.uri)


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """The text after a list of non-overlapping edits (ASCII text: characters are UTF-16 units)."""
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        return sum(len(line) + 1 for line in lines[: position.line]) + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text
