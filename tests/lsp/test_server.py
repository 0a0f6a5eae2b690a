"""End to end: a real LSP client over stdio, on the examples and on files broken mid-edit."""

from __future__ import annotations

import re

import pytest
from helpers import EXAMPLES
from lsp_helpers import Document, apply_edits
from lsprotocol import types

pytestmark = pytest.mark.asyncio(loop_scope="module")

RESNET50 = EXAMPLES / "resnet50.net"
LENET = EXAMPLES / "lenet5.net"


def _figures(markdown: str) -> dict[str, str]:
    """The `- key: value` lines of a hover."""
    return dict(re.findall(r"^- ([a-zA-Z -]+): (.+)$", markdown, re.MULTILINE))


async def test_diagnostics_are_those_of_check(client, check_json, tmp_path) -> None:
    for path in sorted(EXAMPLES.glob("*.net")):
        document = Document(client, path)
        found = await document.open()
        expected = check_json(path)["diagnostics"]
        assert [
            (d.message.split("\nhint: ")[0], d.range.start.line + 1, d.range.start.character + 1) for d in found
        ] == [(e["message"], e["line"], e["column"]) for e in expected], path
        assert all(d.severity == types.DiagnosticSeverity.Warning and d.source == "netdsl" for d in found)
        document.close()
    broken = tmp_path / "broken.net"
    broken.write_text(LENET.read_text().replace("conv(16, 5)", "conv(16, 5, strid=2)"))
    document = Document(client, broken)
    [error] = await document.open()
    [expected] = check_json(broken)["diagnostics"]
    assert error.severity == types.DiagnosticSeverity.Error
    assert error.message == f"{expected['message']}\nhint: {expected['hint']}"
    assert (error.range.start.line + 1, error.range.start.character + 1) == (expected["line"], expected["column"])
    document.close()


async def test_columns_are_utf16_units_by_default(client, tmp_path) -> None:
    text = 'network n {\n    input(1, 8, 8)\n    conv(8, "😀é", strid=1)\n}\n'
    (tmp_path / "wide.net").write_text(text)
    document = Document(client, tmp_path / "wide.net")
    [error] = await document.open()
    line = text.split("\n")[2]
    assert error.range.start == types.Position(2, len(line[: line.index("strid")].encode("utf-16-le")) // 2)
    document.close()


async def test_typo_is_underlined_and_fixed_by_one_action(client) -> None:
    document = Document(client, RESNET50)
    assert await document.open() == []
    where = document.position_of("    globalavgpool", delta=4)
    [error] = await document.edit((where.line, 4), (where.line, 17), "globalavgpol")  # a typo, as in an edit
    assert error.message.startswith("unknown op 'globalavgpol'\nhint: did you mean 'globalavgpool'?")
    assert error.range == types.Range(where, types.Position(where.line, 16))
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(document.ident, error.range, types.CodeActionContext([error]))
    )
    [action] = actions
    assert action.kind == types.CodeActionKind.QuickFix and action.is_preferred
    fixed = apply_edits(document.text, action.edit.changes[document.uri])
    assert fixed == RESNET50.read_text()
    assert await document.replace_all(fixed) == []
    document.close()


async def test_shapes_inline_are_those_of_check(client, check_json) -> None:
    document = Document(client, RESNET50)
    await document.open()
    lines = document.text.split("\n")
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(document.ident, types.Range(types.Position(0, 0), types.Position(len(lines), 0)))
    )
    by_line = {h.position.line: h for h in hints}
    layers = check_json(RESNET50)["layers"]
    # each line of the network's body, and the layer (or block use) that ends it
    ends = {
        "input(3": "input_1",
        "conv(64, 7": "maxpool_1",
        "bottleneck_down(64": "bottleneck_2",
        "bottleneck_down(128)": "bottleneck_5",
        "bottleneck_down(256)": "bottleneck_10",
        "bottleneck_down(512)": "bottleneck_12",
        "globalavgpool": "globalavgpool_1",
        "output(1000)": "output_1_softmax",
    }
    for needle, name in ends.items():
        line = document.position_of(needle).line
        last = [layer for layer in layers if layer["name"] == name or layer["name"].startswith(name + ".")][-1]
        assert by_line[line].label == "→ " + "x".join(map(str, last["shape"])), needle
        assert by_line[line].position.character == len(lines[line].rstrip())
    body = document.position_of("network").line
    assert {line for line in by_line if line > body} == {document.position_of(n).line for n in ends}
    relu = document.position_of("    relu").line  # bottleneck's last layer: one shape per distinct use
    assert by_line[relu].label == "→ 256x56x56 | 512x28x28 | 1024x14x14 | 2048x7x7"
    document.close()


async def test_hover_on_a_layer_equals_check_json(client, check_json) -> None:
    document = Document(client, RESNET50)
    await document.open()
    report = {layer["name"]: layer for layer in check_json(RESNET50)["layers"]}
    for needle, name in (
        ("conv(64, 7", "conv_1"),
        ("maxpool", "maxpool_1"),
        ("globalavgpool", "globalavgpool_1"),
        ("- bn - relu - maxpool", "batchnorm_1"),
    ):
        hover = await client.text_document_hover_async(
            types.HoverParams(document.ident, document.position_of(needle, occurrence=0, delta=2))
        )
        text = hover.contents.value
        figures = _figures(text)
        layer = report[name]
        assert text.startswith(f"**{name}**: `{layer['display']}`"), text
        assert figures["output"] == "x".join(map(str, layer["shape"]))
        assert figures["params"] == f"{layer['params']:,}" and figures["MACs"] == f"{layer['macs']:,}"
        size, stride = layer["receptive_field"]
        assert figures["receptive field"] == f"{size} /{stride}"
    hover = await client.text_document_hover_async(types.HoverParams(document.ident, document.position_of("conv(64")))
    assert "filters=64, kernel=7x7, stride=2x2, pad=3x3, dilation=1x1, groups=1, bias=false" in hover.contents.value
    output = await client.text_document_hover_async(
        types.HoverParams(document.ident, document.position_of("output(1000)"))
    )
    fc, softmax = output.contents.value.split("**output_1_softmax**")
    assert "**output_1_flatten**" in fc and "implicit: fc flattens its input" in fc
    assert _figures(fc.split("**output_1**")[1])["params"] == f"{report['output_1']['params']:,}"
    assert _figures(softmax)["params"] == "0"
    document.close()


async def test_hover_on_a_block_use_shows_its_expansion(client, check_json) -> None:
    document = Document(client, RESNET50)
    await document.open()
    layers = check_json(RESNET50)["layers"]
    hover = await client.text_document_hover_async(
        types.HoverParams(document.ident, document.position_of("bottleneck_down(128)", delta=3))
    )
    text = hover.contents.value
    inside = [layer for layer in layers if layer["name"].startswith("bottleneck_down_2.")]
    params, macs = sum(layer["params"] for layer in inside), sum(layer["macs"] for layer in inside)
    assert f"→ {len(inside)} layers, {params:,} params, {macs:,} MACs, output 512x28x28" in text, text
    for layer in inside:
        assert (
            f"| `{layer['name']}` | `{layer['display']}` | {'x'.join(map(str, layer['shape']))} | "
            f"{layer['params']:,} | {layer['macs']:,} |" in text
        )
    repeated = await client.text_document_hover_async(
        types.HoverParams(document.ident, document.position_of("bottleneck(256) * 5", delta=3))
    )
    first = [layer for layer in layers if layer["name"].startswith("bottleneck_7.")]
    assert f"→ {len(first)} layers, {sum(x['params'] for x in first):,} params" in repeated.contents.value
    assert "(first of 5 uses)" in repeated.contents.value
    document.close()


async def test_hover_on_a_train_setting_documents_it(client) -> None:
    document = Document(client, LENET)
    await document.open()
    hover = await client.text_document_hover_async(types.HoverParams(document.ident, document.position_of("epochs")))
    assert (
        "**epochs** (train setting)" in hover.contents.value
        and "passes over the training data" in hover.contents.value
        and "default: `10`" in hover.contents.value
    )
    optimizer = await client.text_document_hover_async(
        types.HoverParams(document.ident, document.position_of("optimizer"))
    )
    assert "`sgd(lr=0.01, momentum=0.0, nesterov=false, weight_decay=0.0)`" in optimizer.contents.value
    assert "`radam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.0)`: RAdam" in optimizer.contents.value
    assert "(torch.optim.RAdam)" in optimizer.contents.value
    document.close()


async def _labels(client, document: Document, position: types.Position) -> dict[str, types.CompletionItem]:
    result = await client.text_document_completion_async(types.CompletionParams(document.ident, position))
    return {item.label: item for item in result.items}


async def test_completion_of_ops_arguments_blocks_and_settings(client) -> None:
    document = Document(client, RESNET50)
    await document.open()
    globalavg = document.position_of("globalavgpool")
    items = await _labels(client, document, globalavg)
    assert {"conv", "conv2d", "maxpool", "fc", "dense", "add", "concat", "bottleneck", "branch"} <= set(items)
    assert items["conv"].detail.startswith("conv(filters, kernel, stride=1, pad=valid")
    assert items["bottleneck_down"].detail == "block bottleneck_down(c, stride=2)"
    await document.edit((globalavg.line, 4), (globalavg.line, 4), "conv(32, 3, s")  # mid-edit: does not parse
    items = await _labels(client, document, types.Position(globalavg.line, 4 + len("conv(32, 3, s")))
    assert {"stride", "pad", "dilation", "groups", "bias", "activation"} <= set(items)
    assert items["stride"].insert_text == "stride=" and items["stride"].detail == "default 1"
    assert items["pad"].detail == "default valid" and items["bias"].detail == "default true"
    await document.edit((globalavg.line, 4), (globalavg.line, 4 + len("conv(32, 3, s")), "bottleneck_down(64, ")
    items = await _labels(client, document, types.Position(globalavg.line, 4 + len("bottleneck_down(64, ")))
    assert set(items) == {"stride"} and items["stride"].detail == "default 2"  # c is given by position
    document.close()

    document = Document(client, LENET)
    await document.open()
    seed = document.position_of("    seed")
    items = await _labels(client, document, seed)
    assert {"data", "loss", "optimizer", "epochs", "batch", "seed", "val_split"} <= set(items)
    assert items["epochs"].insert_text == "epochs = " and items["epochs"].detail == "default 10"
    optimizer = document.position_of("adam(lr", delta=0)
    items = await _labels(client, document, optimizer)
    assert {"sgd", "adam", "rmsprop", "nadam"} <= set(items)
    assert items["sgd"].detail == "sgd(lr=0.01, momentum=0.0, nesterov=false, weight_decay=0.0)"
    items = await _labels(client, document, document.position_of("lr=0.001"))
    assert {"lr", "beta1", "beta2", "eps", "weight_decay"} <= set(items)
    items = await _labels(client, document, document.position_of("digits"))
    assert {"digits", "mnist", "fashion_mnist", "cifar10"} <= set(items)
    document.close()


async def test_definition_references_and_rename_of_a_block(client) -> None:
    document = Document(client, RESNET50)
    await document.open()
    use = document.position_of("branch(c, stride)", delta=2)
    [definition] = await client.text_document_definition_async(types.DefinitionParams(document.ident, use))
    assert definition.range.start == document.position_of("branch(c, stride=1)")
    references = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=document.ident, position=use, context=types.ReferenceContext(include_declaration=True)
        )
    )
    assert len(references) == 3
    prepared = await client.text_document_prepare_rename_async(types.PrepareRenameParams(document.ident, use))
    assert prepared.start == document.position_of("branch(c, stride)")
    edit = await client.text_document_rename_async(types.RenameParams(document.ident, use, "residual"))
    renamed = apply_edits(document.text, edit.changes[document.uri])
    assert "block residual(c, stride=1)" in renamed and "add { residual(c) | identity }" in renamed
    assert "residual(c, stride)" in renamed and "branch" not in renamed.split("\n", 1)[1]
    assert await document.replace_all(renamed) == []
    with pytest.raises(Exception, match="name of an op"):
        await client.text_document_rename_async(
            types.RenameParams(document.ident, document.position_of("residual"), "conv")
        )
    document.close()


async def test_labels_and_block_parameters_navigate_and_rename(client) -> None:
    document = Document(client, LENET)
    await document.open()
    label = document.position_of("c3:")
    [definition] = await client.text_document_definition_async(types.DefinitionParams(document.ident, label))
    assert definition.range.start == label
    edit = await client.text_document_rename_async(types.RenameParams(document.ident, label, "conv2"))
    assert "conv2: conv(16, 5)" in apply_edits(document.text, edit.changes[document.uri])
    with pytest.raises(Exception, match="exists already"):
        await client.text_document_rename_async(types.RenameParams(document.ident, label, "c1"))
    document.close()

    document = Document(client, RESNET50)
    await document.open()
    param = document.position_of("c * 4, 1, bias")
    [definition] = await client.text_document_definition_async(types.DefinitionParams(document.ident, param))
    assert definition.range.start == document.position_of("c, stride=1)")
    edit = await client.text_document_rename_async(types.RenameParams(document.ident, param, "width"))
    renamed = apply_edits(document.text, edit.changes[document.uri])
    assert "block branch(width, stride=1)" in renamed and "conv(width * 4, 1, bias=false)" in renamed
    assert "block bottleneck(c)" in renamed  # another block's parameter of the same name is untouched
    document.close()


async def test_document_symbols(client) -> None:
    document = Document(client, LENET)
    await document.open()
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(document.ident))
    assert [(s.name, s.kind) for s in symbols] == [
        ("lenet5", types.SymbolKind.Class),
        ("train", types.SymbolKind.Namespace),
    ]
    assert symbols[0].detail == "61,706 params"
    assert [c.name for c in symbols[0].children] == ["c1", "s2", "c3", "s4", "f5", "f6", "out"]
    assert [c.name for c in symbols[1].children] == ["data", "loss", "optimizer", "epochs", "batch", "seed"]
    document.close()
    document = Document(client, RESNET50)
    await document.open()
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(document.ident))
    assert [s.name for s in symbols] == ["branch", "bottleneck", "bottleneck_down", "resnet50"]
    assert [c.name for c in symbols[0].children] == ["c", "stride"]
    document.close()


async def test_formatting_gives_the_formatter_output(client, tmp_path) -> None:
    from netdsl.frontend.fmt import format_source

    messy = tmp_path / "messy.net"
    messy.write_text("network  n{\ninput( 1,28,28 )\n  conv(8,3)-relu   # first\nfc(10)}\n")
    document = Document(client, messy)
    await document.open()
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(document.ident, types.FormattingOptions(4, True))
    )
    assert apply_edits(document.text, edits) == format_source(messy.read_text())
    await document.replace_all(apply_edits(document.text, edits))
    assert (
        list(
            await client.text_document_formatting_async(
                types.DocumentFormattingParams(document.ident, types.FormattingOptions(4, True))
            )
        )
        == []
    )
    await document.edit((1, 0), (1, 0), "conv(")  # broken: left as it is
    assert (
        list(
            await client.text_document_formatting_async(
                types.DocumentFormattingParams(document.ident, types.FormattingOptions(4, True))
            )
        )
        == []
    )
    document.close()


async def test_typing_a_layer_keystroke_by_keystroke(client) -> None:
    """Every intermediate text gets its diagnostics; every feature answers without an error."""
    document = Document(client, RESNET50)
    await document.open()
    start = document.position_of("    globalavgpool")
    typed = "conv(2048, 3, pad=1) - "
    for index, char in enumerate(typed):
        found = await document.edit((start.line, 4 + index), (start.line, 4 + index), char)
        assert all(d.range.start.line >= 0 for d in found)
        cursor = types.Position(start.line, 5 + index)
        await client.text_document_completion_async(types.CompletionParams(document.ident, cursor))
        await client.text_document_hover_async(types.HoverParams(document.ident, cursor))
        await client.text_document_inlay_hint_async(
            types.InlayHintParams(document.ident, types.Range(types.Position(0, 0), types.Position(40, 0)))
        )
        await client.text_document_document_symbol_async(types.DocumentSymbolParams(document.ident))
        if char == "(":
            assert any("syntax error" in d.message for d in found)
    assert not client.messages, [m.message for m in client.messages]
    final = await document.edit((start.line, 4 + len(typed)), (start.line, 4 + len(typed)), "")
    assert final == []
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            document.ident, types.Range(types.Position(start.line, 0), types.Position(start.line, 200))
        )
    )
    assert [h.label for h in hints] == ["→ 2048x1x1"]
    document.close()


async def test_unclosed_braces_and_strings_mid_edit(client, tmp_path) -> None:
    path = tmp_path / "draft.net"
    path.write_text("block b(c, k=3) {\n    conv(c, k) - relu\n\nnetwork n {\n    input(1, 8, 8)\n    b(4, \n")
    document = Document(client, path)
    [error] = await document.open()
    assert error.severity == types.DiagnosticSeverity.Error and "syntax error" in error.message
    items = await _labels(client, document, types.Position(5, 9))
    assert set(items) == {"k"} and items["k"].detail == "default 3"  # from a text that never parsed; c given
    items = await _labels(client, document, types.Position(2, 0))
    assert items["b"].detail == "block b(c, k=3)" and "conv" in items
    await document.edit((5, 9), (5, 9), ')\n}\ntrain n {\n    data = "file')
    items = await _labels(client, document, types.Position(8, len('    data = "file')))
    assert items == {}  # inside a string
    assert not client.messages
    document.close()
