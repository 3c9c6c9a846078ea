"""Write a synthetic Tachyon profile for scripts/bench-decoder.sh with CPython's own writer.

Realistic shape: a call tree of ~150 functions in 20 files, a few hundred distinct stacks of
depth 10-40 that share prefixes (so the writer uses SUFFIX/POP_PUSH records as well as FULL),
several threads that each linger on a stack for a while (REPEAT records), GC frames now and
then. Deterministic (fixed seed).

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

# A trunk shared by every stack, then a random descent: stacks share long prefixes.
trunk = funcs[:6]
stacks = []
for _ in range(320):
    depth = rng.randint(10, 40)
    path = list(trunk)
    node = rng.randrange(6, 40)
    while len(path) < depth:
        path.append(funcs[node])
        node = (node * 7 + rng.randrange(1, 12)) % len(funcs)
    if rng.random() < 0.05:
        path.append(gc)
    stacks.append(list(reversed(path)))  # innermost first

hot = [rng.randrange(len(stacks)) for _ in range(40)]
w = rd.BinaryWriter(out, 1000, 1_000_000, compression=1, mode=1, capture_features=4 | 1)
current = [rng.randrange(len(stacks)) for _ in range(nthreads)]
ts = 1_000_000
for p in range(passes):
    ts += 1000 + (rng.randrange(50) if p % 10 == 0 else 0)
    threads = []
    for t in range(nthreads):
        if rng.random() < 0.35:
            current[t] = rng.choice(hot) if rng.random() < 0.7 else rng.randrange(len(stacks))
        status = 1 | 2 | (32 if t == 0 else 0)
        threads.append(rd.ThreadInfo((10_000 + t, status, stacks[current[t]])))
    w.write_sample([rd.InterpreterInfo((0, threads))], ts)
w.set_stats(passes / 1000.0, 1000.0, 0.5, 0.0)
w.finalize()
