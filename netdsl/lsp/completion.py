"""Completion from the text before the cursor, which need not parse (a file in the middle of an edit).

Where the cursor is decides what is offered: a layer position gets ops, aliases and blocks; an
argument list gets the op's (or block's, or optimizer's) argument names with their defaults; a
train section gets its settings, and after `key =` the names that setting takes."""

from __future__ import annotations

from dataclasses import dataclass, field

from lark import Token
from lark.exceptions import UnexpectedCharacters
from lsprotocol import types

from netdsl.lsp import catalog

KEYWORDS = ("network", "block", "train")
_LAYER_STARTS = {None, "LBRACE", "LSQB", "MINUS", "_ARROW", "VBAR", "COLON", "_NL"}
_WORDS = {"NAME", "NETWORK", "BLOCK", "TRAIN"}
KEYWORD_TYPES = {"NETWORK", "BLOCK", "TRAIN"}


def tolerant_tokens(text: str) -> list[Token]:
    """The tokens of `text`, skipping characters that do not lex (whitespace and comments dropped)."""
    from netdsl.frontend.fmt import iter_raw_tokens

    tokens: list[Token] = []
    start = 0
    while True:
        try:
            for token in iter_raw_tokens(text[start:]):
                if token.type not in ("WS", "COMMENT"):
                    tokens.append(token)
            return tokens
        except UnexpectedCharacters as err:
            start += err.pos_in_stream + 1


@dataclass
class _Frame:
    opener: str  # LPAR, LSQB, LBRACE
    kind: str  # train | body | call | params
    callee: str | None = None
    positional: int = 0  # arguments given by position before the current one (filters, kernel of conv(64, 3, ...))
    argument: str = ""  # the current argument so far: "" (nothing yet), "value" or "keyword"


@dataclass
class Context:
    """What the cursor is in: the innermost bracket, and the significant token before the cursor."""

    frames: list[_Frame] = field(default_factory=list)
    previous: Token | None = None
    before_previous: Token | None = None
    given: set[str] = field(default_factory=set)  # key=... already written in the innermost call


def context(tokens: list[Token]) -> Context:
    ctx = Context()
    keyword: str | None = None
    previous = None
    for token in tokens:
        if token.type in KEYWORD_TYPES and not ctx.frames:
            keyword = token.type
        if token.type == "LBRACE":
            kind = "train" if keyword == "TRAIN" and not ctx.frames else "body"
            ctx.frames.append(_Frame("LBRACE", kind))
        elif token.type == "LSQB":
            ctx.frames.append(_Frame("LSQB", "body"))
        elif token.type == "LPAR":
            header = keyword == "BLOCK" and not ctx.frames
            callee = str(previous) if previous is not None and previous.type == "NAME" else None
            ctx.frames.append(_Frame("LPAR", "params" if header else "call", callee))
            ctx.given = set()
        elif token.type in ("RPAR", "RSQB", "RBRACE") and ctx.frames:
            ctx.frames.pop()
            if not ctx.frames:
                keyword = None
        elif (
            token.type == "EQUAL"
            and previous is not None
            and previous.type == "NAME"
            and ctx.frames
            and ctx.frames[-1].opener == "LPAR"
        ):
            ctx.given.add(str(previous))
            ctx.frames[-1].argument = "keyword"
        elif token.type == "COMMA" and ctx.frames and ctx.frames[-1].opener == "LPAR":
            frame = ctx.frames[-1]
            frame.positional += frame.argument == "value"
            frame.argument = ""
        if (
            ctx.frames
            and ctx.frames[-1].opener == "LPAR"
            and token.type not in ("LPAR", "COMMA", "EQUAL")
            and not ctx.frames[-1].argument
        ):
            ctx.frames[-1].argument = "value"  # a keyword's name turns it into "keyword" at its '='
        ctx.before_previous, previous = previous, token
    ctx.previous = previous
    return ctx


def _in_train(ctx: Context) -> bool:
    return any(frame.kind == "train" for frame in ctx.frames)


@dataclass(frozen=True)
class Declared:
    """The blocks and networks a text declares, read from its tokens (the text need not parse)."""

    blocks: dict[str, list[tuple[str, str | None]]]  # name -> [(parameter, default as written)]
    networks: list[str]


def declared(tokens: list[Token]) -> Declared:
    blocks: dict[str, list[tuple[str, str | None]]] = {}
    networks: list[str] = []
    for index, token in enumerate(tokens[:-1]):
        following = tokens[index + 1]
        if token.type == "NETWORK" and following.type == "NAME":
            networks.append(str(following))
        elif token.type == "BLOCK" and following.type == "NAME":
            blocks[str(following)] = _params(tokens, index + 2)
    return Declared(blocks, networks)


def _params(tokens: list[Token], start: int) -> list[tuple[str, str | None]]:
    """`(a, b=2)` from tokens[start]: each parameter and its default's text."""
    if start >= len(tokens) or tokens[start].type != "LPAR":
        return []
    params: list[tuple[str, str | None]] = []
    current: list[str] = []
    depth = 0
    for token in tokens[start + 1 :]:
        if token.type in ("LBRACE", "_NL") or (token.type == "RPAR" and depth == 0):
            break
        if token.type == "COMMA" and depth == 0:
            params.append(_param(current))
            current = []
            continue
        depth += {"LPAR": 1, "RPAR": -1}.get(token.type, 0)
        current.append(str(token))
    if current:
        params.append(_param(current))
    return [p for p in params if p[0]]


def _param(words: list[str]) -> tuple[str, str | None]:
    if len(words) > 2 and words[1] == "=":
        return words[0], " ".join(words[2:])
    return (words[0] if words else ""), None


def completions(text: str, offset: int) -> list[types.CompletionItem]:
    """What may be written at `offset` of `text`, which need not parse."""
    prefix = text[:offset]
    line = prefix[prefix.rfind("\n") + 1 :]
    if _in_comment_or_string(line):
        return []
    tokens = tolerant_tokens(prefix)
    if tokens and tokens[-1].type in _WORDS and prefix.endswith(str(tokens[-1])):
        tokens = tokens[:-1]  # the word being typed
    ctx = context(tokens)
    known = declared(tolerant_tokens(text))
    blocks = known.blocks
    previous = ctx.previous.type if ctx.previous is not None else None
    frame = ctx.frames[-1] if ctx.frames else None
    if frame is not None and frame.opener == "LPAR":
        if frame.kind == "call" and previous in ("LPAR", "COMMA") and frame.callee:
            return _argument_items(frame.callee, ctx, blocks)
        return []
    if frame is not None and frame.kind == "train":
        if previous in ("LBRACE", "_NL"):
            return _setting_items()
        if previous == "EQUAL" and ctx.before_previous is not None:
            return _value_items(str(ctx.before_previous))
        return []
    if previous == "TRAIN":
        return [
            types.CompletionItem(name, kind=types.CompletionItemKind.Module, detail="network")
            for name in known.networks
        ]
    if previous not in _LAYER_STARTS:
        return []
    items = _op_items() + _block_items(blocks)
    if frame is None and previous in (None, "_NL"):
        items += [types.CompletionItem(k, kind=types.CompletionItemKind.Keyword) for k in KEYWORDS]
    return items


def _in_comment_or_string(line: str) -> bool:
    quotes = 0
    for char in line:
        if char == '"':
            quotes += 1
        elif char == "#" and quotes % 2 == 0:
            return True
    return quotes % 2 == 1


def _op_items() -> list[types.CompletionItem]:
    items = []
    for op in catalog.op_catalog():
        items.append(
            types.CompletionItem(
                op.name, kind=types.CompletionItemKind.Function, detail=op.signature(), sort_text=f"1{op.name}"
            )
        )
        for alias in op.aliases:
            items.append(
                types.CompletionItem(
                    alias,
                    kind=types.CompletionItemKind.Function,
                    detail=f"alias of {op.signature()}",
                    sort_text=f"2{alias}",
                )
            )
    return items


def _block_items(blocks: dict[str, list[tuple[str, str | None]]]) -> list[types.CompletionItem]:
    return [
        types.CompletionItem(
            name,
            kind=types.CompletionItemKind.Class,
            sort_text=f"0{name}",
            detail=f"block {name}({', '.join(_arg_text(p, d) for p, d in params)})",
        )
        for name, params in blocks.items()
    ]


def _arg_text(name: str, default: str | None) -> str:
    return name if default is None else f"{name}={default}"


def _argument_items(
    callee: str, ctx: Context, blocks: dict[str, list[tuple[str, str | None]]]
) -> list[types.CompletionItem]:
    """`name=` for each argument not yet given, by name or by position, with its default."""
    by_position = ctx.frames[-1].positional
    if _in_train(ctx):
        args = catalog.optimizers().get(callee.lower(), {})
        pairs = list(args.items())
    elif callee in blocks:
        pairs = blocks[callee]
    else:
        op = catalog.find_op(callee)
        pairs = [(a.name, a.default) for a in op.args] if op else []
        by_position = 0 if op is None or op.variadic else by_position  # input(1, 28, 28): the dimensions
    return [
        types.CompletionItem(
            name,
            kind=types.CompletionItemKind.Property,
            insert_text=f"{name}=",
            detail="required" if default is None else f"default {default}",
            sort_text=f"{index:03d}",
        )
        for index, (name, default) in enumerate(pairs)
        if name not in ctx.given and index >= by_position
    ]


def _setting_items() -> list[types.CompletionItem]:
    return [
        types.CompletionItem(
            key,
            kind=types.CompletionItemKind.Property,
            insert_text=f"{key} = ",
            detail=f"default {default}",
            documentation=catalog.SETTING_DOCS.get(key),
        )
        for key, default in catalog.train_defaults().items()
    ]


def _value_items(key: str) -> list[types.CompletionItem]:
    if key == "optimizer":
        return [
            types.CompletionItem(
                name,
                kind=types.CompletionItemKind.Function,
                detail=f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})",
                documentation=catalog.optimizer_doc(name),
            )
            for name, args in catalog.optimizers().items()
        ]
    return [
        types.CompletionItem(value, kind=types.CompletionItemKind.EnumMember, detail=key)
        for value in catalog.setting_values(key)
    ]
