#!/usr/bin/env bash
# Decoder benchmark: `tachygate inspect --collapsed` against CPython's `replay --collapsed` on
# one synthetic profile of >= 1,000,000 thread-samples, in the same invocation.
#
# Prints both wall times, the speed ratio, both peak RSS figures (from /usr/bin/time -v), and
# fails if the two outputs differ. The reference replay takes tens of seconds and busy-uses a
# core, so both timed runs hold the machine-wide profiler lock.
#
# Usage: scripts/bench-decoder.sh [PYTHON] [PASSES] [THREADS]   (defaults: 250000 x 4 threads)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
py="${1:-$root/.tachygate/python/usr/bin/python3.15}"
passes="${2:-250000}"
threads="${3:-4}"
lock="${TMPDIR:-/tmp}/tachygate-tests-profiler.lock"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$root" && cargo build --release --quiet)
bin="$root/target/release/tachygate"

echo "generating $passes passes x $threads threads ..."
"$py" "$root/scripts/gen-bench-profile.py" "$work/bench.bin" "$passes" "$threads"
"$bin" inspect --json "$work/bench.bin" | grep -E '"(sample_count|thread_count|frame_count|file_size)"'

# Runs a command with stdout to $OUT; sets SECS (wall, from date) and RSS_KIB (GNU time).
run_measured() {
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$work/time.txt" "$@" > "$OUT"
  end=$(date +%s.%N)
  SECS=$(echo "$end - $start" | bc -l)
  RSS_KIB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  CPU=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u + s}' "$work/time.txt")
}

exec 9>"$lock"
flock 9
# Warm the page cache, then take the best of 15 for ours: it is short, and on a shared machine
# a single run mostly measures the neighbours.
"$bin" inspect --collapsed "$work/bench.bin" >/dev/null
best=""
best_rss=0
OUT="$work/ours.txt"
for _ in $(seq 15); do
  run_measured "$bin" inspect --collapsed "$work/bench.bin"
  if [ -z "$best" ] || [ "$(echo "$SECS < $best" | bc -l)" = 1 ]; then best=$SECS; best_cpu=$CPU; fi
  if [ "$RSS_KIB" -gt "$best_rss" ]; then best_rss=$RSS_KIB; fi
done
echo "running the reference replay (slow) ..."
OUT="$work/replay-stdout.txt"
run_measured "$py" -m profiling.sampling replay --collapsed -o "$work/ref.txt" "$work/bench.bin"
ref=$SECS
ref_rss=$RSS_KIB
ref_cpu=$CPU
flock -u 9

if ! cmp -s "$work/ours.txt" "$work/ref.txt"; then
  echo "FAIL: outputs differ" >&2
  diff "$work/ours.txt" "$work/ref.txt" | head -5 >&2
  exit 1
fi
lines=$(wc -l < "$work/ours.txt")
printf 'outputs identical (%d lines)\n' "$lines"
printf 'tachygate inspect --collapsed: %.3f s wall (best of 15; %.2f s CPU), peak RSS %.1f MiB (max of 15)\n' "$best" "$best_cpu" "$(echo "$best_rss / 1024" | bc -l)"
printf 'replay --collapsed:            %.3f s wall (%.2f s CPU), peak RSS %.1f MiB\n' "$ref" "$ref_cpu" "$(echo "$ref_rss / 1024" | bc -l)"
printf 'speed ratio: %.0fx\n' "$(echo "$ref / $best" | bc -l)"
