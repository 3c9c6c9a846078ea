#!/usr/bin/env python3
"""Measure CPython's sampling profiler on call-heavy and C-heavy workloads, for every
mode (cpu, wall, gil) x blocking (off, on): sampler error rate, recorded samples, overhead and
run-to-run stability of the top functions' self shares. docs/sampling-protocol.md holds the
committed results and how the defaults were chosen from them.

Usage (from the repository root):

    python3 scripts/measure-sampling.py --runs 5 --out target/sampling/results.jsonl
    python3 scripts/measure-sampling.py --table target/sampling/results.jsonl   # table only

Workloads: eight of our own in scripts/sampling-workloads/ (and the two call-heavy bundled
scenario workloads), plus third-party ones from the `pyperformance` package on PyPI. Their
sources are not committed: the script runs `python3 -m pip download --no-deps
pyperformance==1.14.0` into the cache directory and unpacks the wheel (or pass
--pyperformance DIR pointing at an unpacked `pyperformance/data-files/benchmarks`). They run
under a tiny pyperf stand-in (scripts/sampling-workloads/pyperf_stub) that calls the benchmark a
fixed number of times in-process.

Every run (profiled or not) holds the machine-wide profiler lock (flock), so that the runs of
other tachygate tests never overlap a measurement. The 1-minute load average is recorded for each
run: on a shared machine other work (compiles) raises it, and the error rate with it.
"""

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "scripts" / "sampling-workloads"
BUNDLED = ROOT / "scenarios" / "workloads"
LOCK = "/tmp/tachygate-tests-profiler.lock"
PYPERFORMANCE = "pyperformance==1.14.0"

# name -> (kind, script path or pyperformance benchmark, extra env)
OWN = {
    "warehouse": ("call", BUNDLED / "warehouse.py", {}),
    "stack_vm": ("call", BUNDLED / "stack_vm.py", {}),
    "search_game": ("call", HERE / "search_game.py", {}),
    "solver": ("call", HERE / "solver.py", {}),
    "c_json": ("c", HERE / "c_json.py", {}),
    "c_regex": ("c", HERE / "c_regex.py", {}),
    "c_sort": ("c", HERE / "c_sort.py", {}),
    "c_bytes": ("c", HERE / "c_bytes.py", {}),
}
# Loops chosen so that one run takes ~1-1.5 s on the development machine.
THIRD_PARTY = {
    "pp_richards": ("bm_richards", 30),
    "pp_hexiom": ("bm_hexiom", 100),
    "pp_raytrace": ("bm_raytrace", 3),
    "pp_go": ("bm_go", 7),
    "pp_deltablue": ("bm_deltablue", 150),
    "pp_chaos": ("bm_chaos", 5),
}
CONFIGS = [(m, b) for m in ("cpu", "wall", "gil") for b in (False, True)]
TIMER = HERE / "_timed.py"


def default_python():
    p = ROOT / ".tachygate" / "python" / "usr" / "bin" / "python3.15"
    return str(p) if p.exists() else "python3.15"


def pyperformance_dir(cache: Path) -> Path:
    bench = cache / "pyperformance" / "pyperformance" / "data-files" / "benchmarks"
    if bench.is_dir():
        return bench
    dl = cache / "download"
    dl.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dl), PYPERFORMANCE],
        check=True,
    )
    wheel = next(dl.glob("pyperformance-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extractall(cache / "pyperformance")
    return bench


def workloads(args):
    out = {}
    for name, (kind, script, env) in OWN.items():
        env = dict(env)
        env["PYTHONPATH"] = str(BUNDLED)
        out[name] = ("call" if kind == "call" else "c", "own", script, env)
    if not args.no_third_party:
        bench = Path(args.pyperformance) if args.pyperformance else pyperformance_dir(Path(args.cache))
        for name, (bm, loops) in THIRD_PARTY.items():
            env = {"PYTHONPATH": str(HERE / "pyperf_stub"), "PYPERF_STUB_LOOPS": str(loops)}
            out[name] = ("call", "pyperformance", bench / bm / "run_benchmark.py", env)
    if args.only:
        keep = set(args.only.split(","))
        out = {k: v for k, v in out.items() if k in keep}
    return out


def loadavg():
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float("nan")


def workload_seconds(stderr: str):
    m = re.findall(r"^TACHYGATE_WORKLOAD_SECONDS (\S+)$", stderr, re.M)
    return float(m[-1]) if m else None


def run_once(python, name, script, env, mode, blocking, rate, tmp: Path):
    """One run. mode None = unprofiled. Returns a dict with the measurements."""
    e = dict(os.environ)
    e.update(env)
    e["PYTHONHASHSEED"] = "0"
    out_bin = tmp / f"{name}.bin"
    if mode is None:
        cmd = [python, str(TIMER), str(script)]
    else:
        cmd = [python, "-m", "profiling.sampling", "run", "--binary", "-o", str(out_bin),
               "-r", rate, "--mode", mode]
        if blocking:
            cmd.append("--blocking")
        cmd += [str(TIMER), str(script)]
    load = loadavg()
    p = subprocess.run(["flock", LOCK] + cmd, env=e, cwd=str(Path(script).parent),
                       capture_output=True, text=True)
    rec = {"workload": name, "mode": mode or "none", "blocking": blocking, "load1": load,
           "exit": p.returncode, "seconds": workload_seconds(p.stderr)}
    if p.returncode != 0:
        rec["stderr_tail"] = p.stderr[-800:]
    if mode is None:
        return rec
    m = re.findall(r"^Error rate:\s*([0-9.,]+)", p.stdout, re.M)
    rec["error_rate"] = float(m[-1].replace(",", "")) if m else None
    m = re.findall(r"^Captured (\d+) samples", p.stdout, re.M)
    rec["attempts"] = int(m[-1]) if m else None
    m = re.findall(r"written to .* \((\d+) samples\)", p.stdout)
    rec["samples"] = int(m[-1]) if m else 0
    rec["self"] = {}
    if out_bin.exists() and rec["samples"]:
        txt = tmp / f"{name}.txt"
        subprocess.run([python, "-m", "profiling.sampling", "replay", "--collapsed", "-o",
                        str(txt), str(out_bin)], capture_output=True, check=True)
        counts = {}
        total = 0
        for line in txt.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if not stack:
                continue
            leaf = stack.rsplit(";", 1)[-1].rsplit(":", 1)[0]
            counts[leaf] = counts.get(leaf, 0) + int(n)
            total += int(n)
        rec["self"] = {k: v / total for k, v in counts.items() if v / total >= 0.002}
        txt.unlink()
    if out_bin.exists():
        out_bin.unlink()
    return rec


def measure(args):
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wl = workloads(args)
    configs = [(None, False)] + CONFIGS
    if args.modes:
        keep = set(args.modes.split(","))
        configs = [c for c in configs if (c[0] or "none") in keep]
    with tempfile.TemporaryDirectory() as tmp, out.open("a") as f:
        # Interleave configurations run by run, so that slow drift in machine load hits all of
        # them alike instead of one configuration's whole block.
        for r in range(args.runs):
            for name, (kind, origin, script, env) in wl.items():
                for mode, blocking in configs:
                    if mode == "cpu" and blocking and r >= args.cpu_blocking_runs:
                        continue
                    rec = run_once(args.python, name, script, env, mode, blocking, args.rate, Path(tmp))
                    rec.update(kind=kind, origin=origin, run=r, rate=args.rate, time=time.time())
                    f.write(json.dumps(rec) + "\n")
                    f.flush()
                    print(f"[{r}] {name:13} {rec['mode']:4} blocking={int(blocking)} "
                          f"err={rec.get('error_rate')} samples={rec.get('samples')} "
                          f"t={rec['seconds']} load={rec['load1']}", flush=True)


def sd(xs):
    return statistics.stdev(xs) if len(xs) >= 2 else float("nan")


def fmt(x, spec=".1f"):
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def load_records(paths):
    """Records from results files; a workload measured in a later file replaces its records from
    earlier ones (a re-measurement, e.g. with a longer run)."""
    recs = []
    for path in paths:
        new = [json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()]
        redone = {r["workload"] for r in new}
        recs = [r for r in recs if r["workload"] not in redone] + new
    return recs


def summarize(paths):
    recs = load_records(paths)
    by = {}
    for r in recs:
        by.setdefault((r["workload"], r["mode"], r["blocking"]), []).append(r)
    names = list(dict.fromkeys(r["workload"] for r in recs))
    kinds = {r["workload"]: (r["kind"], r["origin"]) for r in recs}
    rows = []
    for name in names:
        base = [r["seconds"] for r in by.get((name, "none", False), []) if r["seconds"]]
        base_t = statistics.median(base) if base else None
        # Reference profile for the bias column: wall mode with blocking, the configuration whose
        # attempts almost all succeed (every other configuration is compared with it).
        ref_runs = by.get((name, "wall", True), [])
        ref = mean_shares(ref_runs)
        for mode, blocking in CONFIGS:
            runs = by.get((name, mode, blocking), [])
            if not runs:
                continue
            errs = [r["error_rate"] for r in runs if r.get("error_rate") is not None]
            samples = [r["samples"] for r in runs]
            secs = [r["seconds"] for r in runs if r["seconds"]]
            shares = mean_shares(runs)
            top = sorted(shares, key=shares.get, reverse=True)[:5]
            sds = [100 * sd([r["self"].get(fn, 0.0) for r in runs]) for fn in top]
            bias = tv(ref, shares)
            # Noise floor of that distance: the same configuration's even runs vs odd runs.
            floor = tv(mean_shares(runs[0::2]), mean_shares(runs[1::2])) if len(runs) >= 2 else None
            rows.append({
                "workload": name, "kind": kinds[name][0], "origin": kinds[name][1],
                "mode": mode, "blocking": blocking, "runs": len(runs),
                "err_median": statistics.median(errs) if errs else None,
                "err_max": max(errs) if errs else None,
                "samples_median": statistics.median(samples) if samples else 0,
                "overhead": (statistics.median(secs) / base_t) if secs and base_t else None,
                "top_sd_mean": statistics.mean(sds) if sds and not any(map(math.isnan, sds)) else None,
                "top_sd_max": max(sds) if sds and not any(map(math.isnan, sds)) else None,
                "tv_vs_ref": bias,
                "tv_floor": floor,
                "load_median": statistics.median([r["load1"] for r in runs]),
            })
    return rows


def tv(a, b):
    """Total-variation distance between two share maps, in percentage points."""
    if not a or not b:
        return None
    keys = set(a) | set(b)
    return 100 * 0.5 * sum(abs(a.get(k, 0) - b.get(k, 0)) for k in keys)


def mean_shares(runs):
    runs = [r for r in runs if r.get("self")]
    if not runs:
        return {}
    keys = set().union(*(r["self"] for r in runs))
    return {k: sum(r["self"].get(k, 0.0) for r in runs) / len(runs) for k in keys}


def table(rows):
    head = ("| workload | kind | mode | blocking | error rate % median (max) | recorded samples "
            "(median) | overhead × | top-5 self-share sd, pp mean (max) | distance to wall+blocking, pp "
            "| even vs odd runs, pp | load |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        kind = ("call-heavy" if r["kind"] == "call" else "C-heavy") + (
            " (pyperformance)" if r["origin"] == "pyperformance" else "")
        lines.append(
            f"| {r['workload']} | {kind} | {r['mode']} | {'on' if r['blocking'] else 'off'} | "
            f"{fmt(r['err_median'])} ({fmt(r['err_max'])}) | {fmt(r['samples_median'], '.0f')} | "
            f"{fmt(r['overhead'], '.2f')} | {fmt(r['top_sd_mean'], '.2f')} ({fmt(r['top_sd_max'], '.2f')}) | "
            f"{fmt(r['tv_vs_ref'])} | {fmt(r['tv_floor'])} | {fmt(r['load_median'], '.1f')} |")
    return "\n".join(lines)


def aggregate_table(rows):
    """Per (kind, mode, blocking): median over workloads of the per-workload medians."""
    groups = {}
    for r in rows:
        groups.setdefault((r["kind"], r["mode"], r["blocking"]), []).append(r)
    lines = ["| code | mode | blocking | error rate % (median of workloads; range) | recorded samples "
             "(median) | overhead × (median; max) | top-5 sd pp (median) | distance to wall+blocking pp (median; max) "
             "| even vs odd runs pp (median) |",
             "|" + "---|" * 9]

    def med(xs):
        xs = [x for x in xs if x is not None]
        return statistics.median(xs) if xs else None

    def mx(xs):
        xs = [x for x in xs if x is not None]
        return max(xs) if xs else None

    def mn(xs):
        xs = [x for x in xs if x is not None]
        return min(xs) if xs else None

    for kind in ("call", "c"):
        for mode, blocking in CONFIGS:
            g = groups.get((kind, mode, blocking))
            if not g:
                continue
            e = [r["err_median"] for r in g]
            lines.append(
                f"| {'call-heavy' if kind == 'call' else 'C-heavy'} ({len(g)}) | {mode} | "
                f"{'on' if blocking else 'off'} | {fmt(med(e))} ({fmt(mn(e))}–{fmt(mx(e))}) | "
                f"{fmt(med([r['samples_median'] for r in g]), '.0f')} | "
                f"{fmt(med([r['overhead'] for r in g]), '.2f')}; {fmt(mx([r['overhead'] for r in g]), '.2f')} | "
                f"{fmt(med([r['top_sd_mean'] for r in g]), '.2f')} | "
                f"{fmt(med([r['tv_vs_ref'] for r in g]))}; {fmt(mx([r['tv_vs_ref'] for r in g]))} | "
                f"{fmt(med([r['tv_floor'] for r in g]))} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=default_python())
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rate", default="1khz")
    ap.add_argument("--out", default=str(ROOT / "target" / "sampling" / "results.jsonl"))
    ap.add_argument("--cache", default=str(ROOT / "target" / "sampling" / "cache"))
    ap.add_argument("--pyperformance", help="an unpacked pyperformance data-files/benchmarks directory")
    ap.add_argument("--no-third-party", action="store_true")
    ap.add_argument("--only", help="comma-separated workload names")
    ap.add_argument("--modes", help="comma-separated: none,cpu,wall,gil")
    ap.add_argument("--cpu-blocking-runs", type=int, default=1,
                    help="runs of cpu+blocking per workload (it records no samples at all on "
                    "CPython 3.15, so one run per workload shows it; default 1)")
    ap.add_argument("--table", metavar="RESULTS", nargs="+",
                    help="print the tables from results files and exit (a workload in a later "
                    "file replaces its records from earlier ones)")
    args = ap.parse_args()
    if shutil.which("flock") is None:
        sys.exit("measure-sampling: needs flock(1) (util-linux) to hold the profiler lock")
    if not args.table:
        measure(args)
    rows = summarize(args.table or [args.out])
    print(aggregate_table(rows))
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
