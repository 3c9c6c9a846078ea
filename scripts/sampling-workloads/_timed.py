"""Runs a workload script as __main__ and reports its own wall time on stderr, so the
harness measures the workload, not interpreter or profiler start-up."""

import runpy
import sys
import time

script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, __import__("os").path.dirname(script))
t0 = time.perf_counter()
try:
    runpy.run_path(script, run_name="__main__")
finally:
    print(f"TACHYGATE_WORKLOAD_SECONDS {time.perf_counter() - t0:.4f}", file=sys.stderr)
