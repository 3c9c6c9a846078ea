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
# NAME `golden` records the inputs of tests/report_golden.rs instead: tests/data/golden/{base,head}/
# run-{0..3}.bin, four short runs of tests/data/compare/workloads/gatework.py each, the head with
# gamma doing twice the work. After re-recording them, re-bless the golden outputs with
# `TACHYGATE_BLESS=1 cargo test --test report_golden` and review the diff.
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

golden="$root/tests/data/golden"
if [[ " ${want[*]} " == *" golden "* ]]; then
  cp "$root/tests/data/compare/workloads/gatework.py" "$src/gatework.py"
  for side in base head; do
    slow=""
    [ "$side" = head ] && slow="gamma=2"
    mkdir -p "$golden/$side"
    for i in 0 1 2 3; do
      echo "recording golden $side run $i"
      (cd "$src" && GATEWORK_SCALE=0.25 GATEWORK_SLOW="$slow" flock "$lock" "$py" \
          -m profiling.sampling run --binary --mode cpu -r 1khz -d 2 \
          -o "$golden/$side/run-$i.bin" gatework.py >/dev/null)
    done
  done
  ls -l "$golden"/*/*.bin | awk '{print "  " $5 "\t" $9}'
fi

if grep -rl "$root" "$out"/*.bin "$out"/*.jsonl "$out"/*.collapsed "$golden" 2>/dev/null; then
  echo "record-fixtures: the files above contain the checkout path $root" >&2
  exit 1
fi
