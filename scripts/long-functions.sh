#!/usr/bin/env bash
# Lists functions in src/ longer than a limit (default 120 lines), outside `mod tests` blocks
# and `tests.rs` files. Relies on rustfmt layout: a function's closing brace sits at the
# indentation of its `fn` line. Exits 1 when any is found.
set -euo pipefail
limit="${1:-120}"
cd "$(dirname "$0")/.."
found=$(find src -name '*.rs' ! -name tests.rs ! -name testutil.rs | sort | while read -r f; do
  awk -v file="$f" -v limit="$limit" '
    /^[[:space:]]*#\[cfg\(test\)\]/ { cfgtest = 1; next }
    cfgtest && /^[[:space:]]*mod [a-z_]+ \{/ { exit }
    { cfgtest = 0 }
    match($0, /^[[:space:]]*(pub(\([a-z]+\))? )?(const )?(async )?(unsafe )?fn [A-Za-z0-9_]+/) && !open {
      ind = match($0, /[^ ]/) - 1
      name = $0; sub(/^[[:space:]]*/, "", name); sub(/\(.*/, "", name); sub(/<.*/, "", name)
      if ($0 ~ /;[[:space:]]*$/) next
      start = NR; open = 1; next
    }
    open {
      if (match($0, /^[[:space:]]*\}/) && (match($0, /[^ ]/) - 1) == ind) {
        len = NR - start + 1
        if (len > limit) printf "%s:%d: %s (%d lines)\n", file, start, name, len
        open = 0
      }
    }
  ' "$f"
done)
[ -z "$found" ] || { echo "$found"; exit 1; }
