#!/usr/bin/env bash
# The test command: provisions CPython 3.15 if needed (idempotent), then runs every test.
# Tests that need Python 3.15 fail loudly when CI is set and the interpreter is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/provision-python.sh >/dev/null
cargo test --all-targets "$@"
