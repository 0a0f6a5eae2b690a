"""The pygls server: documents in, one analysis per edit, features out. No handler can take the
server down: an internal error is logged with its traceback and reported to the user once.

Only documents the client opened are answered for (nothing is read from disk: a URI may name a FIFO or
/dev/zero). Analyses run on one background thread, the latest version of each document only; requests
wait for it a moment, then answer empty rather than hold the client up. Messages are framed by
netdsl.lsp.framing, which survives bad frames."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import queue
import sys
import threading
import traceback
from typing import Any, Callable
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from netdsl import __version__
from netdsl.lsp import completion, diagnostics, hints, hover, navigation
from netdsl.lsp.analysis import Analysis
from netdsl.lsp.framing import FrameReader

log = logging.getLogger("netdsl.lsp")

ANALYSIS_DELAY_S = 0.1  # edits closer together than this are analysed once, after the last
REQUEST_PATIENCE_S = 1.0  # how long a request waits for the analysis of the version it is about
INBOX_MESSAGES = 4  # messages read ahead of the handlers


class Unanswerable(Exception):
    """No analysis to answer from: the document is not open, or its latest version is not analysed yet."""


class AnalysisWorker:
    """One daemon thread running jobs in order; a job whose future was cancelled before it started never runs.

    (A daemon, unlike a ThreadPoolExecutor's thread, does not hold up the exit for an analysis under way.)"""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, name="netdsl-analysis", daemon=True).start()

    def submit(self, job: Callable[[], Any]) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.jobs.put((future, job))
        return future

    def _run(self) -> None:
        while True:
            future, job = self.jobs.get()
            if future.cancelled():
                continue
            try:
                outcome: tuple[Any, BaseException | None] = (job(), None)
            except Exception as err:  # noqa: BLE001 - handed to the awaiting coroutine
                outcome = (None, err)
            future.get_loop().call_soon_threadsafe(_settle, future, *outcome)


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class NetdslServer(LanguageServer):
    """Keeps the latest analysis of each open document and the faults already reported."""

    def __init__(self) -> None:
        super().__init__("netdsl", __version__)
        self.analyses: dict[str, tuple[int, Analysis]] = {}  # uri -> (version analysed, its analysis)
        self.pending: dict[str, asyncio.Task] = {}
        self.fixes: dict[str, list[diagnostics.Fix]] = {}
        self.reported: set[str] = set()
        self.worker: AnalysisWorker | None = None

    def report_internal_error(self, feature: str, error: BaseException) -> None:
        """Log the traceback and tell the user, once per fault (however many features it breaks)."""
        key = f"{type(error).__name__}: {error}"
        if key in self.reported:
            return
        self.reported.add(key)
        details = "".join(traceback.format_exception(error))
        log.error("internal error in %s\n%s", feature, details)
        self.window_log_message(
            types.LogMessageParams(types.MessageType.Error, f"netdsl: internal error in {feature}\n{details}")
        )
        self.window_show_message(
            types.ShowMessageParams(
                types.MessageType.Error,
                f"netdsl: internal error in {feature} ({type(error).__name__}: {error}); the server keeps running, "
                "details are in its log",
            )
        )

    def document(self, uri: str) -> TextDocument:
        """An open document; never one read from disk (pygls would read any path a URI names, unbounded)."""
        document = self.workspace.text_documents.get(unquote(uri))
        if document is None:
            raise Unanswerable(f"{uri} is not open")
        return document

    def schedule(self, uri: str) -> None:
        """Analyse the document's current text soon, off the request path, dropping older work not yet begun."""
        stale = self.pending.pop(uri, None)
        if stale is not None:
            stale.cancel()
        self.pending[uri] = asyncio.get_running_loop().create_task(self._analyse(uri))

    async def _analyse(self, uri: str) -> None:
        await asyncio.sleep(ANALYSIS_DELAY_S)
        document = self.workspace.text_documents.get(unquote(uri))
        if document is None:  # closed meanwhile
            return
        text, version, file, encoding = document.source, document.version, _file_of(uri), self.encoding
        if self.worker is None:
            self.worker = AnalysisWorker()
        try:
            analysis = await self.worker.submit(lambda: _indexed(Analysis(text, file, encoding)))
        except Exception as err:  # noqa: BLE001 - the server must outlive any fault
            self.report_internal_error("analysis", err)
            return
        self.analyses[uri] = (version, analysis)
        try:
            found, fixes = diagnostics.convert(analysis, uri)
        except Exception as err:  # noqa: BLE001
            self.report_internal_error("diagnostics", err)
            return
        self.fixes[uri] = fixes
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, found, version))

    async def current(self, uri: str) -> Analysis:
        """The analysis of the document's current version, waiting for it at most REQUEST_PATIENCE_S."""
        document = self.document(uri)
        task = self.pending.get(uri)
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=REQUEST_PATIENCE_S)
        version, analysis = self.analyses.get(uri, (None, None))
        if analysis is None or version != document.version:
            raise Unanswerable(f"version {document.version} of {uri} is not analysed yet")
        return analysis

    def forget(self, uri: str) -> None:
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        for cache in (self.analyses, self.fixes):
            cache.pop(uri, None)

    @property
    def encoding(self) -> str:
        """The position encoding agreed with the client: utf-16 unless it offered utf-8 or utf-32."""
        encoding = self.workspace.position_encoding
        return str(getattr(encoding, "value", encoding) or "utf-16")

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """Serve over stdio until the client says exit or closes its end (pygls' loop, with safe framing)."""
        self._stop_event = threading.Event()
        frames = FrameReader(stdin or sys.stdin.buffer)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(self._serve(frames))
        except BrokenPipeError:
            log.error("the client closed its end of the connection; stopping")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    async def _serve(self, frames: FrameReader) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue(maxsize=INBOX_MESSAGES)
        threading.Thread(
            target=_read_messages, args=(frames, loop, inbox), name="netdsl-lsp-frames", daemon=True
        ).start()
        while not self._stop_event.is_set():
            message = await inbox.get()
            if message is None:
                log.info("the client's input ended; stopping")
                return
            self.dispatch(message)

    def dispatch(self, raw: dict) -> None:
        """Hand one decoded message to pygls; a request it cannot structure gets a JSON-RPC error reply."""
        try:
            message = self.protocol.structure_message(raw)
        except JsonRpcException as err:
            cause = str(err.__cause__ or err).replace("\n", " ")[:300]
            log.warning("a %s message could not be read: %s", raw.get("method", "?"), cause)
            if "method" in raw and _is_request_id(raw.get("id")):
                error = type(err)(f"{err.message}: {cause}")
                self.protocol._send_response(raw["id"], error=error.to_response_error())
            return
        try:
            self.protocol.handle_message(message)
        except Exception:  # noqa: BLE001 - as pygls' own loop: log and read on
            log.exception("unable to handle a %s message", raw.get("method", "?"))


def _indexed(analysis: Analysis) -> Analysis:
    """The analysis with the indexes hover and navigation read built here, on the worker thread, rather than
    on the request path (a large document's parse takes seconds). A fault is left for the feature to report."""
    for index in ("occurrences", "by_span", "by_call"):
        with contextlib.suppress(Exception):
            getattr(analysis, index)
    return analysis


def _is_request_id(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _read_messages(frames: FrameReader, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue) -> None:
    """The frame thread: decode each body and queue it for the handlers (None at the end of input)."""
    while True:
        body = frames.next_body()
        message = None if body is None else _decoded(body, frames)
        if body is not None and message is None:
            continue
        try:
            asyncio.run_coroutine_threadsafe(inbox.put(message), loop).result()
        except RuntimeError:  # the loop has stopped
            return
        if message is None:
            return


def _decoded(body: bytes, frames: FrameReader) -> dict | None:
    """A body's JSON object, or None (logged; a frame glued inside it is read next)."""
    try:
        message = json.loads(body)
    except ValueError as err:
        frames.reject(body, f"a message body that is not JSON: {err}")
        return None
    if not isinstance(message, dict):
        log.warning("skipped a message that is not a JSON object")
        return None
    return message


def _file_of(uri: str) -> str:
    """The path a diagnostic names (as `netdsl check PATH` would), from the document's URI."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


server = NetdslServer()


def guarded(feature: str, fallback: Any = None) -> Callable:
    """Run a request handler; without an analysis to answer from, or on an internal error (reported once),
    answer `fallback`."""

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        async def run(ls: NetdslServer, params: Any) -> Any:
            try:
                return await handler(ls, params)
            except Unanswerable as why:
                log.info("%s: %s", feature, why)
                return fallback
            except navigation.RenameError as err:
                raise JsonRpcInvalidParams(str(err)) from None
            except Exception as err:  # noqa: BLE001 - the server must outlive any fault
                ls.report_internal_error(feature, err)
                return fallback

        return run

    return decorate


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: NetdslServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: NetdslServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: NetdslServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.forget(uri)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))


@server.feature(types.TEXT_DOCUMENT_HOVER)
@guarded("hover")
async def on_hover(ls: NetdslServer, params: types.HoverParams) -> types.Hover | None:
    return hover.hover(
        await ls.current(params.text_document.uri), params.position, hover.renders_markdown(ls.client_capabilities)
    )


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
@guarded("inlayHint", [])
async def on_inlay_hint(ls: NetdslServer, params: types.InlayHintParams) -> list[types.InlayHint]:
    return hints.inlay_hints(await ls.current(params.text_document.uri), params.range)


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["(", ",", "-", "|", "=", " "])
)
@guarded("completion", [])
async def on_completion(ls: NetdslServer, params: types.CompletionParams) -> types.CompletionList:
    uri = params.text_document.uri
    analysis = await ls.current(uri)
    if analysis.too_large:
        return types.CompletionList(is_incomplete=False, items=[])
    offset = analysis.positions.offset(params.position)
    items = completion.completions(analysis.text, offset)
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])
)
@guarded("codeAction", [])
async def on_code_action(ls: NetdslServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    await ls.current(uri)
    return diagnostics.code_actions(ls.fixes.get(uri, []), uri, params.range)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@guarded("definition", [])
async def on_definition(ls: NetdslServer, params: types.DefinitionParams) -> list[types.Location]:
    uri = params.text_document.uri
    return navigation.definition(await ls.current(uri), params.position, uri)


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@guarded("references", [])
async def on_references(ls: NetdslServer, params: types.ReferenceParams) -> list[types.Location]:
    uri = params.text_document.uri
    return navigation.references(await ls.current(uri), params.position, uri, params.context.include_declaration)


@server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
@guarded("prepareRename")
async def on_prepare_rename(ls: NetdslServer, params: types.PrepareRenameParams) -> types.Range | None:
    return navigation.prepare_rename(await ls.current(params.text_document.uri), params.position)


@server.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
@guarded("rename")
async def on_rename(ls: NetdslServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
    uri = params.text_document.uri
    return navigation.rename(await ls.current(uri), params.position, uri, params.new_name)


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded("documentSymbol", [])
async def on_document_symbol(ls: NetdslServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    return navigation.document_symbols(await ls.current(params.text_document.uri))


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
@guarded("formatting", [])
async def on_formatting(ls: NetdslServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
    from netdsl.diagnostics import CompileError
    from netdsl.frontend.fmt import format_source

    analysis = await ls.current(params.text_document.uri)
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
