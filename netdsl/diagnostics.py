"""Source spans, diagnostics and their compiler-style rendering (file:line:col, source line, caret)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A region of a source file; lines and columns are 1-based, end_column exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One error or warning, anchored at a span, with an optional hint and notes."""

    severity: str  # "error" | "warning"
    message: str
    span: Span | None = None
    hint: str | None = None
    notes: tuple[tuple[str, Span | None], ...] = ()

    def to_json(self) -> dict:
        span = self.span
        return {
            "severity": self.severity,
            "message": self.message,
            "file": span.file if span else None,
            "line": span.line if span else None,
            "column": span.column if span else None,
            "hint": self.hint,
        }


class NetdslError(Exception):
    """A bad program: carries every diagnostic found, errors and warnings alike."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = list(diagnostics)
        self.sources = sources or {}
        errors = [d for d in self.diagnostics if d.severity == "error"]
        super().__init__(render_all(errors or self.diagnostics, self.sources))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


class CompileError(Exception):
    """Raised inside the compiler for one diagnostic; collected into a NetdslError."""

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        hint: str | None = None,
        notes: tuple[tuple[str, Span | None], ...] = (),
    ):
        super().__init__(message)
        self.diagnostic = Diagnostic("error", message, span, hint, notes)


@dataclass
class DiagnosticSink:
    """Collects diagnostics while a stage runs."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self.items.append(Diagnostic("error", message, span, hint))

    def warning(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self.items.append(Diagnostic("warning", message, span, hint))

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)


# Characters a terminal acts on instead of showing: C0/C1 controls, DEL, and the bidirectional
# overrides that make a line read differently from what it holds ("Trojan Source"), and the Unicode line and
# paragraph separators, which some terminals and editors break lines at.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")


def _escaped(char: str) -> str:
    """One character as the terminal should show it: itself, or a visible escape such as \\x1b."""
    code = ord(char)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return f"\\x{code:02x}"
    if char in _BIDI:
        return f"\\u{code:04x}"
    return char


def visible(text: str, keep: str = "") -> str:
    """Text with every control character (except those in `keep`, such as a newline) shown as an escape."""
    if text.isprintable():
        return text
    return "".join(c if c in keep else _escaped(c) for c in text)


def _source_excerpt(span: Span, source: str | None) -> list[str]:
    """The span's source line (control characters made visible) and a caret line under it, indented."""
    if source is None:
        return []
    lines = source.split("\n")  # the parser counts lines by \n only (splitlines also breaks at \f, \x1c, ...)
    if not 1 <= span.line <= len(lines):
        return []
    raw = lines[span.line - 1].removesuffix("\r").replace("\t", " ")  # a tab is one column, as for the parser
    start = max(span.column - 1, 0)
    end = span.end_column - 1 if span.end_line == span.line else len(raw)
    end = max(min(end, len(raw)), start + 1)
    shown = [_escaped(c) for c in raw]
    offsets = [0]
    for piece in shown:
        offsets.append(offsets[-1] + len(piece))
    text = "".join(shown)
    left = offsets[min(start, len(raw))] + max(start - len(raw), 0)
    right = offsets[min(end, len(raw))] + max(end - len(raw), 0)
    caret = " " * left + "^" + "~" * (right - left - 1)
    return ["    " + text.rstrip(), "    " + caret]


def render(diagnostic: Diagnostic, sources: dict[str, str] | None = None) -> str:
    """`file:line:col: severity: message`, the source line, a caret, then hint and notes."""
    sources = sources or {}
    span = diagnostic.span
    head = f"{visible(str(span))}: " if span else ""
    out = [f"{head}{diagnostic.severity}: {visible(diagnostic.message)}"]
    if span:
        out += _source_excerpt(span, sources.get(span.file))
    for note, note_span in diagnostic.notes:
        where = f"{visible(str(note_span))}: " if note_span else ""
        out.append(f"{where}note: {visible(note)}")
        if note_span:
            out += _source_excerpt(note_span, sources.get(note_span.file))
    if diagnostic.hint:
        out.append(f"    hint: {visible(diagnostic.hint)}")
    return "\n".join(out)


def render_all(diagnostics: list[Diagnostic], sources: dict[str, str] | None = None) -> str:
    return "\n".join(render(d, sources) for d in diagnostics)


def did_you_mean(name: str, known: list[str] | tuple[str, ...]) -> str | None:
    """The closest known name, phrased as a suggestion, or None."""
    import difflib

    lowered = {k.lower(): k for k in known}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f"did you mean '{lowered[match[0]]}'?" if match else None
