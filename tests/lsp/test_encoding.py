"""Positions are counted in the units the client asked for (UTF-8 here; UTF-16 by default, as in
test_server.py)."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsp_helpers import SERVER, Document, make_client
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")
TEXT = 'network n {\n    input(1, 8, 8)\n    conv(8, "😀é", strid=1)\n}\n'


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER, client_factory=make_client))
async def utf8(lsp_client: LanguageClient):
    capabilities = types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf8])
    )
    await lsp_client.initialize_session(types.InitializeParams(capabilities=capabilities))
    yield
    await lsp_client.shutdown_session()


async def test_a_column_after_wide_characters_is_counted_in_utf8(utf8, tmp_path) -> None:
    path = tmp_path / "wide.net"
    path.write_text(TEXT)
    document = Document(utf8, path)
    [error] = await document.open()
    line = TEXT.split("\n")[2]
    column = line.index("strid")
    assert error.range.start == types.Position(2, len(line[:column].encode("utf-8")))
    hover = await utf8.text_document_hover_async(types.HoverParams(document.ident, types.Position(2, 5)))
    assert "(no figures: the network has errors)" in hover.contents.value
