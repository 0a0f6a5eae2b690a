"""A real LSP client (pytest-lsp) talking to `python -m netdsl lsp` over stdio."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from helpers import EXAMPLES
from lsp_helpers import SERVER, make_client
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER, client_factory=make_client))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=EXAMPLES.as_uri())
    )
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="session")
def check_json():
    """`netdsl check --json FILE`, the command-line figures the server must agree with."""
    cache: dict[Path, dict] = {}

    def run(path: Path) -> dict:
        if path not in cache:
            result = subprocess.run(
                [sys.executable, "-m", "netdsl", "check", "--json", str(path)], capture_output=True, text=True
            )
            cache[path] = json.loads(result.stdout)
        return cache[path]

    return run
