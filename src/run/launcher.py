# tachygate's wrapper around `python -m profiling.sampling`: identical behaviour, plus it
# records the workload's exit status, which the profiler itself does not report (it exits 0
# whatever the workload did). The status goes to the file named by TACHYGATE_STATUS_FILE,
# which is removed from the environment before the workload starts.
import os, runpy, sys
_status_file = os.environ.pop("TACHYGATE_STATUS_FILE", None)
_procs = []
try:
    import profiling.sampling.cli as _cli
    _orig = _cli._run_with_sync
    def _run_with_sync(*a, **k):
        p = _orig(*a, **k)
        _procs.append(p)
        return p
    _cli._run_with_sync = _run_with_sync
except (ImportError, AttributeError):
    pass
sys.argv[0] = "profiling.sampling"
try:
    runpy.run_module("profiling.sampling", run_name="__main__", alter_sys=True)
finally:
    if _status_file and _procs:
        _rc = _procs[0].poll()
        with open(_status_file, "w") as _f:
            _f.write("" if _rc is None else str(_rc))
