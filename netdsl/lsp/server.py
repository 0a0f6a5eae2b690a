"""The pygls server: documents in, one analysis per edit, features out. No handler can take the
server down: an internal error is logged with its traceback and reported to the user once."""

from __future__ import annotations

import functools
import logging
import traceback
from typing import Any, Callable
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from netdsl import __version__
from netdsl.lsp import completion, diagnostics, hints, hover, navigation
from netdsl.lsp.analysis import Analysis

log = logging.getLogger("netdsl.lsp")


class NetdslServer(LanguageServer):
    """Keeps the latest analysis of each open document and the faults already reported."""

    def __init__(self) -> None:
        super().__init__("netdsl", __version__)
        self.analyses: dict[str, Analysis] = {}
        self.fixes: dict[str, list[diagnostics.Fix]] = {}
        self.reported: set[str] = set()

    def report_internal_error(self, feature: str, error: BaseException) -> None:
        """Log the traceback and tell the user, once per fault (however many features it breaks)."""
        key = f"{type(error).__name__}: {error}"
        if key in self.reported:
            return
        self.reported.add(key)
        details = "".join(traceback.format_exception(error))
        log.error("internal error in %s\n%s", feature, details)
        self.window_log_message(types.LogMessageParams(types.MessageType.Error,
                                                       f"netdsl: internal error in {feature}\n{details}"))
        self.window_show_message(types.ShowMessageParams(
            types.MessageType.Error,
            f"netdsl: internal error in {feature} ({type(error).__name__}: {error}); the server keeps running, "
            "details are in its log"))

    def analyze(self, uri: str) -> Analysis:
        """The analysis of the document's current text (computed once per version)."""
        document = self.workspace.get_text_document(uri)
        current = self.analyses.get(uri)
        if current is not None and current.text == document.source:
            return current
        analysis = Analysis(document.source, _file_of(uri), self.encoding)
        self.analyses[uri] = analysis
        return analysis

    @property
    def encoding(self) -> str:
        """The position encoding agreed with the client: utf-16 unless it offered utf-8 or utf-32."""
        encoding = self.workspace.position_encoding
        return str(getattr(encoding, "value", encoding) or "utf-16")

    def publish(self, uri: str) -> None:
        analysis = self.analyze(uri)
        found, fixes = diagnostics.convert(analysis, uri)
        self.fixes[uri] = fixes
        version = self.workspace.get_text_document(uri).version
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, found, version))


def _file_of(uri: str) -> str:
    """The path a diagnostic names (as `netdsl check PATH` would), from the document's URI."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


server = NetdslServer()


def guarded(feature: str, fallback: Any = None) -> Callable:
    """Run a handler; on an internal error, report it once and answer `fallback`."""

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def run(ls: NetdslServer, params: Any) -> Any:
            try:
                return handler(ls, params)
            except navigation.RenameError as err:
                raise JsonRpcInvalidParams(str(err)) from None
            except Exception as err:  # noqa: BLE001 - the server must outlive any fault
                ls.report_internal_error(feature, err)
                return fallback

        return run

    return decorate


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@guarded("didOpen")
def did_open(ls: NetdslServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@guarded("didChange")
def did_change(ls: NetdslServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@guarded("didClose")
def did_close(ls: NetdslServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    for cache in (ls.analyses, ls.fixes):
        cache.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))


@server.feature(types.TEXT_DOCUMENT_HOVER)
@guarded("hover")
def on_hover(ls: NetdslServer, params: types.HoverParams) -> types.Hover | None:
    return hover.hover(ls.analyze(params.text_document.uri), params.position,
                       hover.renders_markdown(ls.client_capabilities))


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
@guarded("inlayHint", [])
def on_inlay_hint(ls: NetdslServer, params: types.InlayHintParams) -> list[types.InlayHint]:
    return hints.inlay_hints(ls.analyze(params.text_document.uri), params.range)


@server.feature(types.TEXT_DOCUMENT_COMPLETION,
                types.CompletionOptions(trigger_characters=["(", ",", "-", "|", "=", " "]))
@guarded("completion", [])
def on_completion(ls: NetdslServer, params: types.CompletionParams) -> types.CompletionList:
    uri = params.text_document.uri
    analysis = ls.analyze(uri)
    if analysis.too_large:
        return types.CompletionList(is_incomplete=False, items=[])
    offset = analysis.positions.offset(params.position)
    items = completion.completions(analysis.text, offset)
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
@guarded("codeAction", [])
def on_code_action(ls: NetdslServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    ls.analyze(uri)
    return diagnostics.code_actions(ls.fixes.get(uri, []), uri, params.range)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@guarded("definition", [])
def on_definition(ls: NetdslServer, params: types.DefinitionParams) -> list[types.Location]:
    uri = params.text_document.uri
    return navigation.definition(ls.analyze(uri), params.position, uri)


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@guarded("references", [])
def on_references(ls: NetdslServer, params: types.ReferenceParams) -> list[types.Location]:
    uri = params.text_document.uri
    return navigation.references(ls.analyze(uri), params.position, uri, params.context.include_declaration)


@server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
@guarded("prepareRename")
def on_prepare_rename(ls: NetdslServer, params: types.PrepareRenameParams) -> types.Range | None:
    return navigation.prepare_rename(ls.analyze(params.text_document.uri), params.position)


@server.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
@guarded("rename")
def on_rename(ls: NetdslServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
    uri = params.text_document.uri
    return navigation.rename(ls.analyze(uri), params.position, uri, params.new_name)


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded("documentSymbol", [])
def on_document_symbol(ls: NetdslServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    return navigation.document_symbols(ls.analyze(params.text_document.uri))


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
@guarded("formatting", [])
def on_formatting(ls: NetdslServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
    from netdsl.diagnostics import CompileError
    from netdsl.frontend.fmt import format_source

    analysis = ls.analyze(params.text_document.uri)
    if analysis.too_large:
        return []
    try:
        formatted = format_source(analysis.text, analysis.file)
    except CompileError:
        return []  # a program that does not parse is left as it is; its diagnostics say why
    if formatted == analysis.text:
        return []
    whole = types.Range(types.Position(0, 0), analysis.positions.end())
    return [types.TextEdit(whole, formatted)]


def serve() -> None:
    """Serve over stdin/stdout until the client says exit."""
    logging.basicConfig(level=logging.WARNING, format="netdsl lsp: %(levelname)s: %(message)s")
    server.start_io()
