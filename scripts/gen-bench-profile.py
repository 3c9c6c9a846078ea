"""Write a synthetic Tachyon profile for scripts/bench-decoder.sh with CPython's own writer.

Realistic shape: ~150 functions in 20 files, ~320 distinct stacks of depth 10-38 sharing
prefixes, several threads whose stacks change between consecutive samples about as often and as
little as in recorded CPU profiles (mostly POP_PUSH near the leaf, some REPEAT, some jumps), GC
frames now and then. Deterministic (fixed seed).

Usage: python3.15 gen-bench-profile.py OUT.bin [PASSES] [THREADS]
"""
import random
import sys

import _remote_debugging as rd

out = sys.argv[1]
passes = int(sys.argv[2]) if len(sys.argv) > 2 else 250_000
nthreads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
rng = random.Random(20261122)

files = [f"/srv/app/src/pkg{i // 5}/mod{i}.py" for i in range(14)] + [
    "/usr/lib/python3.15/json/encoder.py",
    "/usr/lib/python3.15/threading.py",
    "/usr/lib/python3.15/re/_compiler.py",
    "/venv/lib/python3.15/site-packages/requests/sessions.py",
    "/venv/lib/python3.15/site-packages/numpy/core/numeric.py",
    "<frozen runpy>",
]
funcs = []
for i in range(150):
    f = rng.choice(files)
    name = rng.choice(["handle", "parse", "render", "compute", "Klass.meth", "main.<locals>.<lambda>",
                       "load", "dump", "visit", "walk"]) + f"_{i}"
    line = rng.randint(1, 900)
    funcs.append(rd.FrameInfo((f, rd.LocationInfo((line, line, 4, 30)), name, None)))
gc = rd.FrameInfo(("~", None, "<GC>", None))

# Stack pool: 20 base stacks (depth 10-35, sharing a trunk), each with ~15 variants that differ
# near the leaf the way consecutive real samples do: the leaf at another line, a call 1-3 frames
# deeper, a return 1-3 frames up. ~320 distinct stacks in all.
def at_line(frame, line):
    return rd.FrameInfo((frame.filename, rd.LocationInfo((line, line, 4, 30)), frame.funcname, None))

trunk = funcs[:6]
families = []
for _ in range(20):
    depth = rng.randint(10, 35)
    base = list(trunk)
    node = rng.randrange(6, 40)
    while len(base) < depth:
        base.append(funcs[node])
        node = (node * 7 + rng.randrange(1, 12)) % len(funcs)
    variants = [base]
    for _ in range(15):
        kind = rng.random()
        v = list(base)
        if kind < 0.4:
            v[-1] = at_line(v[-1], v[-1].location.lineno + rng.randint(1, 40))
        elif kind < 0.7:
            v += [funcs[rng.randrange(len(funcs))] for _ in range(rng.randint(1, 3))]
        elif kind < 0.9:
            v = v[: len(v) - rng.randint(1, 3)]
        else:
            v.append(gc)
        variants.append(v)
    families.append([list(reversed(v)) for v in variants])  # innermost first
n_stacks = sum(len(f) for f in families)

# Per thread: stay on the same stack 15% of passes (REPEAT records), move within the current
# family 65% (small POP_PUSH/SUFFIX changes, as in recorded CPU profiles where ~85% of samples
# differ from the previous one), jump to another family 20%.
w = rd.BinaryWriter(out, 1000, 1_000_000, compression=1, mode=1, capture_features=4 | 1)
state = [(rng.randrange(20), 0) for _ in range(nthreads)]
ts = 1_000_000
for p in range(passes):
    ts += 1000 + (rng.randrange(50) if p % 10 == 0 else 0)
    threads = []
    for t in range(nthreads):
        fam, var = state[t]
        r = rng.random()
        if r < 0.15:
            pass
        elif r < 0.80:
            var = rng.randrange(len(families[fam]))
        else:
            fam, var = rng.randrange(20), rng.randrange(len(families[0]))
        state[t] = (fam, var)
        status = 1 | 2 | (32 if t == 0 else 0)
        threads.append(rd.ThreadInfo((10_000 + t, status, families[fam][var])))
    w.write_sample([rd.InterpreterInfo((0, threads))], ts)
w.set_stats(passes / 1000.0, 1000.0, 0.5, 0.0)
w.finalize()
