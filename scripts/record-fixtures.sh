#!/usr/bin/env bash
# Re-record the golden decoder fixtures under tests/data/profiles/ with the provisioned CPython.
#
# Each fixture NAME gets NAME.bin (the profile), NAME.collapsed (`replay --collapsed`, the oracle
# tests/decoder_golden.rs compares against) and NAME.jsonl (`replay --jsonl`, per-frame self and
# cumulative counts). Runs are short and low-rate so every file stays small. Profiled runs hold the
# machine-wide profiler lock so they never overlap another profiled workload.
#
# Profiles store the absolute path of every source file, the interpreter's stdlib included. So
# that no checkout path (a user's home, a CI workspace) is committed, the workloads are copied to
# a fixed neutral directory ($TACHYGATE_FIXTURES_TMP, default /tmp/tachygate-fixtures/src) and
# the interpreter is run through a link there (<tmp>/python -> its installation prefix).
#
# Usage: scripts/record-fixtures.sh [PYTHON] [NAME...]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
py="${1:-$root/.tachygate/python/usr/bin/python3.15}"
shift || true
out="$root/tests/data/profiles"
lock="${TMPDIR:-/tmp}/tachygate-tests-profiler.lock"

# The neutral copy: workloads in $tmp/src, the interpreter as $tmp/python/bin/<name>. CPython
# derives its prefix from the path it was started by, so the stdlib shows under $tmp/python.
tmp="${TACHYGATE_FIXTURES_TMP:-/tmp/tachygate-fixtures}"
src="$tmp/src"
prefix="$(cd "$(dirname "$(readlink -f "$py")")/.." && pwd)"
rm -rf "$tmp"
mkdir -p "$tmp"
cp -R "$out/src" "$src"
ln -s "$prefix" "$tmp/python"
py="$tmp/python/bin/$(basename "$(readlink -f "$py")")"
"$py" -c 'import sys; assert sys.version_info[:2] == (3, 15) and sys.prefix.startswith(sys.argv[1]), (sys.version, sys.prefix)' "$tmp/python"

# name | profiler flags | workload script
fixtures=(
  "cpu_zstd|--mode cpu -r 1khz --compression zstd|cpu_basic.py"
  "cpu_raw|--mode cpu -r 1khz --compression none|cpu_basic.py"
  "wall_threads|-a -r 500|threads.py"
  "gil_threads|--mode gil -a -r 500|threads.py"
  "exception|--mode exception -r 1khz|exceptions.py"
  "native_opcodes|-a --native --opcodes -r 500|cpu_basic.py"
  "deep_recursion|--mode cpu -r 500|deep_recursion.py"
  "unicode_names|-r 1khz|unicode_names.py"
  "same_basename|-r 1khz|same_basename.py"
)

want=("$@")
for entry in "${fixtures[@]}"; do
  IFS='|' read -r name flags script <<<"$entry"
  if [ "${#want[@]}" -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then
    continue
  fi
  echo "recording $name ($flags $script)"
  # shellcheck disable=SC2086
  (cd "$src" && flock "$lock" "$py" -m profiling.sampling run --binary $flags -d 2 \
      -o "$out/$name.bin" "$script" >/dev/null)
  "$py" -m profiling.sampling replay --collapsed -o "$out/$name.collapsed" "$out/$name.bin" >/dev/null
  "$py" -m profiling.sampling replay --jsonl -o "$out/$name.jsonl" "$out/$name.bin" >/dev/null
  ls -l "$out/$name".* | awk '{print "  " $5 "\t" $9}'
done
if grep -l "$root" "$out"/*.bin "$out"/*.jsonl "$out"/*.collapsed 2>/dev/null; then
  echo "record-fixtures: the files above contain the checkout path $root" >&2
  exit 1
fi
