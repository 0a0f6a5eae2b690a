"""A client that does not render markdown (eglot without markdown-mode) gets plain-text hovers."""

from __future__ import annotations

import pytest
import pytest_lsp
from helpers import EXAMPLES
from lsp_helpers import SERVER, Document, make_client
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from netdsl.lsp.hover import plain_text, renders_markdown


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER, client_factory=make_client))
async def plain(lsp_client: LanguageClient):
    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.PlainText])
        )
    )
    await lsp_client.initialize_session(types.InitializeParams(capabilities=capabilities))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio(loop_scope="module")
async def test_a_block_use_hover_is_an_aligned_plain_table(plain) -> None:
    document = Document(plain, EXAMPLES / "resnet18.net")
    await document.open()
    hover = await plain.text_document_hover_async(types.HoverParams(document.ident, document.position_of("basic(64")))
    assert hover.contents.kind == types.MarkupKind.PlainText
    text = hover.contents.value
    assert "|" not in text and "`" not in text and "**" not in text
    header = next(line for line in text.splitlines() if line.startswith("layer "))
    row = next(line for line in text.splitlines() if line.startswith("basic_1.conv_1 "))
    assert row.index("conv(64") == header.index("op") and row.endswith("19 /4")
    document.close()


def test_markdown_is_the_default_and_plain_text_is_asked_for() -> None:
    assert renders_markdown(None) and renders_markdown(types.ClientCapabilities())
    markdown_first = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText])
        )
    )
    assert renders_markdown(markdown_first)
    plain_only = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.PlainText])
        )
    )
    assert not renders_markdown(plain_only)


def test_plain_text_right_aligns_the_number_columns() -> None:
    text = plain_text("**x**\n\n| a | n |\n|---|--:|\n| `long` | 5 |\n| b | 1,234 |\n\n```netdsl\nblock b(c)\n```")
    assert text.splitlines() == ["x", "", "a         n", "long      5", "b     1,234", "", "block b(c)"]
