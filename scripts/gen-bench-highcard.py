"""Write a high-cardinality synthetic Tachyon profile with CPython's own writer.

Each thread's stack is a random walk over 400 functions in 40 files (push a random function at a
random line, pop, or move the leaf to another line; depth 1-40), so most samples land on a stack
never seen before: about half of the collapsed lines are distinct. This is the shape of long CI
workloads, deep recursion and fast sampling, where the decoder's memory must follow the number of
distinct stacks, not the rendered text.

With --pool N the walk first builds N distinct stacks per thread, then every sample picks one of
them (a neighbour of the previous one half the time, any of them otherwise): the distinct stacks
stay fixed while the sample count grows, for the memory-versus-samples benchmark row.

Deterministic (fixed seed).

Usage: python3.15 gen-bench-highcard.py OUT.bin [SAMPLES] [THREADS] [--pool N]
"""
import random
import sys

import _remote_debugging as rd

args = [a for a in sys.argv[1:] if not a.startswith("--")]
pool_size = None
if "--pool" in sys.argv:
    pool_size = int(sys.argv[sys.argv.index("--pool") + 1])
    args.remove(str(pool_size))
out = args[0]
samples = int(args[1]) if len(args) > 1 else 300_000
nthreads = int(args[2]) if len(args) > 2 else 2
passes = samples // nthreads
rng = random.Random(20261130)

files = [f"/srv/app/src/pkg{i // 8}/mod{i}.py" for i in range(34)] + [
    "/usr/lib/python3.15/json/encoder.py",
    "/usr/lib/python3.15/threading.py",
    "/usr/lib/python3.15/re/_compiler.py",
    "/venv/lib/python3.15/site-packages/requests/sessions.py",
    "/venv/lib/python3.15/site-packages/numpy/core/numeric.py",
    "<frozen runpy>",
]
names = ["handle", "parse", "render", "compute", "Klass.meth", "main.<locals>.<lambda>", "load",
         "dump", "visit", "walk"]
funcs = [(files[i % len(files)], f"{rng.choice(names)}_{i}") for i in range(400)]
frame_cache = {}


def frame(fn, line):
    key = (fn, line)
    f = frame_cache.get(key)
    if f is None:
        file, name = funcs[fn]
        f = rd.FrameInfo((file, rd.LocationInfo((line, line, 4, 30)), name, None))
        frame_cache[key] = f
    return f


def step(stack):
    """One random-walk move on a stack of (function, line), root first."""
    r = rng.random()
    if len(stack) < 2 or (r < 0.45 and len(stack) < 40):
        stack.append((rng.randrange(400), rng.randint(1, 600)))
    elif r < 0.85:
        stack.pop()
    else:
        fn, _ = stack[-1]
        stack[-1] = (fn, rng.randint(1, 600))


def frames(stack):
    return [frame(fn, line) for fn, line in reversed(stack)]  # innermost first


w = rd.BinaryWriter(out, 1000, 1_000_000, compression=1, mode=1, capture_features=4 | 1)
walks = [[(rng.randrange(400), rng.randint(1, 600))] for _ in range(nthreads)]
if pool_size is not None:
    pools = []
    for t in range(nthreads):
        seen = set()
        pool = []
        while len(pool) < pool_size:
            step(walks[t])
            key = tuple(walks[t])
            if key not in seen:
                seen.add(key)
                pool.append(frames(walks[t]))
        pools.append(pool)
    cursor = [0] * nthreads
ts = 1_000_000
for p in range(passes):
    ts += 1000
    threads = []
    for t in range(nthreads):
        if pool_size is None:
            step(walks[t])
            stack = frames(walks[t])
        else:
            if rng.random() < 0.5:
                cursor[t] = (cursor[t] + rng.choice((-1, 1))) % pool_size
            else:
                cursor[t] = rng.randrange(pool_size)
            stack = pools[t][cursor[t]]
        status = 1 | 2 | (32 if t == 0 else 0)
        threads.append(rd.ThreadInfo((10_000 + t, status, stack)))
    w.write_sample([rd.InterpreterInfo((0, threads))], ts)
w.set_stats(passes / 1000.0, 1000.0, 0.5, 0.0)
w.finalize()
