"""An internal error is logged and reported once; the server keeps answering."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from helpers import EXAMPLES
from lsp_helpers import Document, make_client
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")
FAULTY = [sys.executable, str(Path(__file__).with_name("faulty_server.py"))]


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=FAULTY, client_factory=make_client))
async def faulty(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def test_a_fault_is_reported_once_and_the_server_goes_on(faulty) -> None:
    document = Document(faulty, EXAMPLES / "lenet5.net")
    assert await document.open() == []
    for _ in range(3):
        answer = await faulty.text_document_hover_async(types.HoverParams(document.ident, types.Position(4, 9)))
        assert answer is None
    shown = [m for m in faulty.messages if "hover" in m.message]
    assert len(shown) == 1 and shown[0].type == types.MessageType.Error
    assert "RuntimeError: planted hover fault" in shown[0].message and "keeps running" in shown[0].message
    logged = [m for m in faulty.log_messages if "planted hover fault" in m.message]
    assert len(logged) == 1 and "Traceback" in logged[0].message

    document.send_edit((0, 0), (0, 0), "# BOOM\n")  # the analysis of this text fails
    completion = await faulty.text_document_completion_async(
        types.CompletionParams(document.ident, types.Position(3, 4))
    )
    assert list(completion) == []  # answered, empty: the analysis it needs failed
    assert sum("planted analysis fault" in m.message for m in faulty.messages) == 1
    assert await document.edit((0, 0), (1, 0), "") == []  # the next good text is analyzed as usual
    completion = await faulty.text_document_completion_async(
        types.CompletionParams(document.ident, types.Position(3, 4))
    )
    assert "conv" in {item.label for item in completion.items}
