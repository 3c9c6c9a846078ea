#!/usr/bin/env bash
# Decoder benchmark: tachygate against CPython's `replay --collapsed`, in the same invocation,
# on two synthetic profiles written with CPython's own BinaryWriter:
#   low-card   scripts/gen-bench-profile.py: 1,000,000 thread-samples, ~320 distinct stacks
#   high-card  scripts/gen-bench-highcard.py: 300,000 thread-samples, 2 threads, random walk
#              over 400 functions (~170,000 distinct collapsed lines, ~140 MB of text)
# For each: `inspect --collapsed` (output must equal replay's byte for byte) and the aggregate
# path (`inspect --top`, the same `aggregate` that `check` runs), best wall time of RUNS and
# max peak RSS of RUNS (GNU time), against the best of REPLAY_RUNS replay runs (their spread,
# min-max, is printed: replay's own variance moved single-run ratios by tens of percent);
# ratios are best replay time / best time. The floor: `zstd -dc` decompressing the profile's
# sample region alone (extracted from the file), best of RUNS, and decoder time / floor.
# Then the memory rows: `inspect --top` on 100k / 1M / 5M samples drawn from one fixed set of
# 10,000 distinct stacks (MEMORY_ROWS=0 skips them).
#
# Replay takes tens of seconds and busy-uses a core, so every timed run holds the machine-wide
# profiler lock. BIN=path/to/tachygate measures another build (default: cargo build --release).
#
# Usage: scripts/bench-decoder.sh [PYTHON] [PASSES] [THREADS]   (low-card: 250000 x 4 threads)
# Environment: RUNS (15), REPLAY_RUNS (3), HC_SAMPLES (300000), MEMORY_ROWS (1)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
py="${1:-$root/.tachygate/python/usr/bin/python3.15}"
passes="${2:-250000}"
threads="${3:-4}"
runs="${RUNS:-15}"
replay_runs="${REPLAY_RUNS:-3}"
hc_samples="${HC_SAMPLES:-300000}"
memory_rows="${MEMORY_ROWS:-1}"
lock="${TMPDIR:-/tmp}/tachygate-tests-profiler.lock"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ -z "${BIN:-}" ]; then
  (cd "$root" && cargo build --release --quiet)
  bin="$root/target/release/tachygate"
else
  bin="$BIN"
fi

echo "generating profiles ..."
"$py" "$root/scripts/gen-bench-profile.py" "$work/low.bin" "$passes" "$threads"
"$py" "$root/scripts/gen-bench-highcard.py" "$work/high.bin" "$hc_samples" 2
if [ "$memory_rows" = 1 ]; then
  for n in 100000 1000000 5000000; do
    "$py" "$root/scripts/gen-bench-highcard.py" "$work/pool-$n.bin" "$n" 2 --pool 5000
  done
fi

# Runs a command with stdout to $OUT; sets SECS (wall), CPU (user + sys) and RSS_KIB.
run_measured() {
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$work/time.txt" "$@" > "$OUT"
  end=$(date +%s.%N)
  SECS=$(echo "$end - $start" | bc -l)
  RSS_KIB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  CPU=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u + s}' "$work/time.txt")
}

# Best wall time (BEST, its CPU in BEST_CPU) and max RSS (MAX_RSS) of $runs runs; output in $OUT.
best_of() {
  "$@" > /dev/null # warm the page cache
  BEST=""
  MAX_RSS=0
  for _ in $(seq "$runs"); do
    run_measured "$@"
    if [ -z "$BEST" ] || [ "$(echo "$SECS < $BEST" | bc -l)" = 1 ]; then BEST=$SECS; BEST_CPU=$CPU; fi
    if [ "$RSS_KIB" -gt "$MAX_RSS" ]; then MAX_RSS=$RSS_KIB; fi
  done
}

mib() { printf '%.1f' "$(echo "$1 / 1024" | bc -l)"; }

# The zstd-compressed sample region of a profile (header 64 bytes, then samples up to the
# string table, whose offset is the u64 at 0x28) as a standalone .zst file.
sample_region() {
  local off
  off=$(od -An -t u8 -j 40 -N 8 "$1" | tr -d ' ')
  dd if="$1" of="$2" bs=64K iflag=skip_bytes,count_bytes skip=64 count=$((off - 64)) status=none
}

exec 9>"$lock"
flock 9
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
for name in low high; do
  f="$work/$name.bin"
  lines_meta=$("$bin" inspect --json "$f" | tr -d ' ,"' | grep -E '^(sample_count|frame_count|file_size):' | tr '\n' ' ')
  echo "$name: $lines_meta"
  OUT="$work/$name.ours"
  best_of "$bin" inspect --collapsed "$f"
  c_best=$BEST c_cpu=$BEST_CPU c_rss=$MAX_RSS
  OUT="$work/$name.top"
  best_of "$bin" inspect --top 20 "$f"
  t_best=$BEST t_cpu=$BEST_CPU t_rss=$MAX_RSS
  floor=""
  if command -v zstd > /dev/null; then
    sample_region "$f" "$work/$name.zst"
    OUT=/dev/null
    best_of zstd -dcq "$work/$name.zst"
    floor=$BEST floor_cpu=$BEST_CPU
  fi
  echo "running the reference replay on $name $replay_runs times (slow) ..."
  OUT="$work/replay-stdout.txt"
  r_secs="" r_max=0
  for _ in $(seq "$replay_runs"); do
    run_measured "$py" -m profiling.sampling replay --collapsed -o "$work/$name.ref" "$f"
    if [ -z "$r_secs" ] || [ "$(echo "$SECS < $r_secs" | bc -l)" = 1 ]; then r_secs=$SECS r_cpu=$CPU; fi
    if [ "$(echo "$SECS > $r_max" | bc -l)" = 1 ]; then r_max=$SECS; fi
    r_rss=$RSS_KIB
  done
  if ! cmp -s "$work/$name.ours" "$work/$name.ref"; then
    flock -u 9
    echo "FAIL: $name: outputs differ" >&2
    diff "$work/$name.ours" "$work/$name.ref" | head -5 >&2
    exit 1
  fi
  n_lines=$(wc -l < "$work/$name.ours")
  n_bytes=$(wc -c < "$work/$name.ours")
  vs_floor() { if [ -n "$floor" ]; then printf '%.1fx' "$(echo "$1 / $floor" | bc -l)"; else echo "n/a"; fi; }
  rows+=("| $name-card | $n_lines lines, $((n_bytes / 1000000)) MB | replay --collapsed | $(printf '%.2f' "$r_secs") s (max $(printf '%.2f' "$r_max") s; $(printf '%.2f' "$r_cpu") s CPU) | $(mib "$r_rss") MiB | 1x | |")
  rows+=("| | | inspect --collapsed | $(printf '%.3f' "$c_best") s ($(printf '%.2f' "$c_cpu") s CPU) | $(mib "$c_rss") MiB | **$(printf '%.0f' "$(echo "$r_secs / $c_best" | bc -l)")x** | $(vs_floor "$c_best") |")
  rows+=("| | | inspect --top (aggregate) | $(printf '%.3f' "$t_best") s ($(printf '%.2f' "$t_cpu") s CPU) | $(mib "$t_rss") MiB | **$(printf '%.0f' "$(echo "$r_secs / $t_best" | bc -l)")x** | $(vs_floor "$t_best") |")
  if [ -n "$floor" ]; then
    rows+=("| | | floor: \`zstd -dc\` of the sample region | $(printf '%.3f' "$floor") s ($(printf '%.2f' "$floor_cpu") s CPU) | | $(printf '%.0f' "$(echo "$r_secs / $floor" | bc -l)")x | 1x |")
  fi
done

mem_rows=()
if [ "$memory_rows" = 1 ]; then
  for n in 100000 1000000 5000000; do
    f="$work/pool-$n.bin"
    OUT="$work/pool.top"
    best_of "$bin" inspect --top 20 "$f"
    t_best=$BEST t_rss=$MAX_RSS
    OUT="$work/pool.col"
    best_of "$bin" inspect --collapsed "$f"
    c_rss=$MAX_RSS
    size=$(stat -c %s "$f")
    mem_rows+=("| $n | $((size / 1000)) KB | $(wc -l < "$work/pool.col") | $(printf '%.3f' "$t_best") s | $(mib "$t_rss") MiB | $(mib "$c_rss") MiB |")
  done
fi
flock -u 9

echo
echo "outputs identical to replay --collapsed on both profiles"
echo "wall: best of $runs (tachygate, zstd), best of $replay_runs (replay, max shown); peak RSS: max of the runs; load at the start: $load_before, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| profile | output | command | wall | peak RSS | vs replay | vs floor |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if [ "$memory_rows" = 1 ]; then
  echo
  echo "Fixed set of 10,000 distinct stacks (2 threads x 5,000), growing sample count:"
  echo
  echo "| samples | file | collapsed lines | inspect --top wall | inspect --top peak RSS | inspect --collapsed peak RSS |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${mem_rows[@]}"
fi
