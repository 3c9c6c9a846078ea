#!/usr/bin/env bash
# Harness overhead of `tachygate run`: wall time per profiled run when tachygate launches the
# bundled scenarios, divided by wall time per run of the same profiler commands launched
# directly by a shell loop. Both run in this one invocation and alternate scenario by scenario
# (tachygate on S1, shell on S1, tachygate on S2, ...) so machine drift hits both alike.
# Per-run rather than total time, because tachygate re-runs unhealthy runs (retries) and the
# shell loop does not. tachygate is started once per scenario, so its fixed start-up cost
# (interpreter probe, discovery) is counted six times rather than once: a conservative figure.
#
# usage: scripts/bench-runner.sh [ROUNDS (default 2)] [REPEATS per scenario (default 3)]
# Holds the profiler lock (/tmp/tachygate-tests-profiler.lock) for the whole benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
repeats=${2:-3}

cargo build --release --quiet
if [[ -z "${TACHYGATE_BENCH_LOCKED:-}" ]]; then
    export TACHYGATE_BENCH_LOCKED=1
    exec flock /tmp/tachygate-tests-profiler.lock "$0" "$@"
fi

bin=$PWD/target/release/tachygate
py=${TACHYGATE_PYTHON:-$PWD/.tachygate/python/usr/bin/python3.15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One shell script per scenario with the direct commands: what the runner launches, minus
# tachygate (plain `-m profiling.sampling` instead of the exit-status launcher).
"$bin" list --json > "$work/scenarios.json"
python3 - "$work/scenarios.json" "$py" "$repeats" "$work" <<'PY'
import json, shlex, sys
scenarios, py, repeats, work = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3]), sys.argv[4]
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
    with open(f"{work}/direct-{s['name']}.sh", "w") as f:
        for _ in range(repeats):
            f.write(f"(cd {shlex.quote(w['cwd'])} && env {envs} {shlex.join(cmd)} >{work}/direct.out 2>&1)\n")
    print(s["name"], file=open(f"{work}/names", "a"))
PY

now() { date +%s.%N; }
t_tg=0; t_direct=0; n_tg=0; n_direct=0; t_inside=0
for r in $(seq 1 "$rounds"); do
    while read -r name; do
        rm -rf "$work/res"
        a=$(now)
        "$bin" run -q -s "$name" --repeats "$repeats" --out "$work/res" >/dev/null 2>&1 || true
        b=$(now)
        attempts=$(python3 -c 'import json,glob,sys; print(sum(json.load(open(f))["attempts"] for f in glob.glob(sys.argv[1] + "/*/run-*.json")))' "$work/res")
        # Time inside the profiled commands of the final attempts (records keep only those):
        # scaled by attempts/records it estimates all profiled time, the rest is tachygate's.
        inside=$(python3 -c 'import json,glob,sys; r=[json.load(open(f)) for f in glob.glob(sys.argv[1] + "/*/run-*.json")]; print(sum(x["wall_time_s"] for x in r) / len(r) * sum(x["attempts"] for x in r))' "$work/res")
        c=$(now)
        bash "$work/direct-$name.sh"
        d=$(now)
        tg=$(echo "$b - $a" | bc -l); di=$(echo "$d - $c" | bc -l)
        printf 'round %d %-18s tachygate %6.2f s / %2d runs = %.3f s/run   direct %6.2f s / %d runs = %.3f s/run\n' \
            "$r" "$name" "$tg" "$attempts" "$(echo "$tg / $attempts" | bc -l)" "$di" "$repeats" "$(echo "$di / $repeats" | bc -l)"
        t_tg=$(echo "$t_tg + $tg" | bc -l); t_direct=$(echo "$t_direct + $di" | bc -l)
        n_tg=$((n_tg + attempts)); n_direct=$((n_direct + repeats))
        t_inside=$(echo "$t_inside + $inside" | bc -l)
    done < "$work/names"
done
ratio=$(echo "($t_tg / $n_tg) / ($t_direct / $n_direct)" | bc -l)
printf 'harness overhead (tachygate s/run / direct s/run): %.3f over %d + %d runs (target <= 1.05); load average: %s\n' \
    "$ratio" "$n_tg" "$n_direct" "$(cut -d' ' -f1-3 /proc/loadavg)"
# Less sensitive to machine noise: tachygate's own time outside the profiled commands.
printf 'tachygate time outside profiled commands: %.3f s per run = %.1f%% of profiled time\n' \
    "$(echo "($t_tg - $t_inside) / $n_tg" | bc -l)" "$(echo "100 * ($t_tg - $t_inside) / $t_inside" | bc -l)"
