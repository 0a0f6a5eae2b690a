// The netdsl extension: starts `netdsl lsp` (stdio) for .net files. Highlighting comes from the grammar.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration().get("netdsl.server.path");
  const server = { command: command || "netdsl", args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "netdsl",
    "netdsl language server",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "netdsl" }, { scheme: "untitled", language: "netdsl" }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
