"""The netdsl language server (`netdsl lsp`): pygls over stdio, on top of the compiler's front end.

Modules: analysis (one compile per edit), positions (spans to LSP ranges), catalog (what the
language knows: ops, settings, optimizers), and one module per feature; server wires them to pygls.
"""
