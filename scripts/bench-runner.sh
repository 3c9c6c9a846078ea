#!/usr/bin/env bash
# Harness overhead of `tachygate run`: wall time per profiled run when tachygate launches the
# bundled scenarios, divided by wall time per run of the same profiler commands launched
# directly by a shell loop. The two alternate within one invocation (A B A B ...) so machine
# drift hits both alike. Per-run rather than total time, because tachygate re-runs unhealthy
# runs (retries) and the shell loop does not.
#
# usage: scripts/bench-runner.sh [ROUNDS (default 3)] [REPEATS per scenario (default 3)]
# Holds the profiler lock (/tmp/tachygate-tests-profiler.lock) for the whole benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
repeats=${2:-3}

if [[ -z "${TACHYGATE_BENCH_LOCKED:-}" ]]; then
    export TACHYGATE_BENCH_LOCKED=1
    exec flock /tmp/tachygate-tests-profiler.lock "$0" "$@"
fi

cargo build --release --quiet
bin=target/release/tachygate
py=${TACHYGATE_PYTHON:-$PWD/.tachygate/python/usr/bin/python3.15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The direct commands: what the runner launches, minus tachygate (plain -m profiling.sampling).
"$bin" list --json > "$work/scenarios.json"
python3 - "$work/scenarios.json" "$py" "$repeats" "$work" > "$work/direct.sh" <<'PY'
import json, shlex, sys
scenarios, py, repeats, work = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3]), sys.argv[4]
print("set -u")
for s in scenarios:
    w, sm = s["workload"], s["sampler"]
    cmd = [py, "-m", "profiling.sampling", "run", "--binary", "--compression", "zstd",
           "-o", f"{work}/direct.bin", "-r", str(sm["rate_hz"]), "--mode", sm["mode"]]
    if sm["duration_s"] is not None:
        cmd += ["-d", str(int(sm["duration_s"]))]
    for on, flag in [(sm["all_threads"], "--all-threads"), (sm["native"], "--native"),
                     (not sm["gc"], "--no-gc"), (sm["opcodes"], "--opcodes"), (sm["blocking"], "--blocking")]:
        if on:
            cmd.append(flag)
    t = w["target"]
    cmd += (["-m", t["module"]] if "module" in t else [t["script"]]) + w["args"]
    env = {"PYTHONHASHSEED": "0", **w["env"]}
    envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    for k in range(repeats):
        print(f"(cd {shlex.quote(w['cwd'])} && env {envs} {shlex.join(cmd)} >{work}/direct.out 2>&1)")
PY
direct_runs=$(grep -c '^(cd' "$work/direct.sh")

now() { date +%s.%N; }
t_tg=0; t_direct=0; attempts_total=0
for r in $(seq 1 "$rounds"); do
    rm -rf "$work/res"
    a=$(now)
    "$bin" run -q --repeats "$repeats" --out "$work/res" >/dev/null || true
    b=$(now)
    attempts=$(python3 -c 'import json,glob,sys; print(sum(json.load(open(f))["attempts"] for f in glob.glob(sys.argv[1] + "/*/run-*.json")))' "$work/res")
    c=$(now)
    bash "$work/direct.sh"
    d=$(now)
    tg=$(echo "$b - $a" | bc -l); di=$(echo "$d - $c" | bc -l)
    printf 'round %d: tachygate %.2f s for %d runs (%.3f s/run), direct %.2f s for %d runs (%.3f s/run)\n' \
        "$r" "$tg" "$attempts" "$(echo "$tg / $attempts" | bc -l)" "$di" "$direct_runs" "$(echo "$di / $direct_runs" | bc -l)"
    t_tg=$(echo "$t_tg + $tg" | bc -l); t_direct=$(echo "$t_direct + $di" | bc -l)
    attempts_total=$((attempts_total + attempts))
done
ratio=$(echo "($t_tg / $attempts_total) / ($t_direct / ($direct_runs * $rounds))" | bc -l)
printf 'harness overhead (tachygate s/run / direct s/run): %.3f  (target <= 1.05)\n' "$ratio"
