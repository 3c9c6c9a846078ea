# tachygate's wrapper around `python -m profiling.sampling`: identical behaviour, plus it
# records the workload's exit status, which the profiler itself does not report (it exits 0
# whatever the workload did). The status goes to the file named by TACHYGATE_STATUS_FILE,
# which is removed from the environment before the workload starts.
#
# With --blocking the profiler ptrace-stops the workload for every sample and its tracer reaps
# the workload's exit, so Popen sees ECHILD and reports 0 for a workload that failed. The
# workload therefore also reports its own status: it is started through a small runner whose
# file name ends in `_sync_coordinator.py`, a suffix the profiler filters out of every stack,
# so profiles look exactly as without it.
import os, runpy, sys, tempfile
_status_file = os.environ.pop("TACHYGATE_STATUS_FILE", None)
_procs = []
_RUNNER = r'''
import os, runpy, sys, types
_status, _target = sys.argv[1], sys.argv[2:]
def _report(code):
    try:
        with open(_status, "w") as f:
            f.write(str(code))
    except OSError:
        pass
def _exit_code(e):
    if e.code is None:
        return 0
    return e.code & 0xFF if isinstance(e.code, int) else 1
def _run():
    here = os.path.dirname(os.path.realpath(__file__))
    if here in sys.path:
        sys.path.remove(here)
    if _target[0] == "-m":
        sys.argv = [_target[1]] + _target[2:]
        runpy.run_module(_target[1], run_name="__main__", alter_sys=True)
        return
    path = os.path.abspath(_target[0])
    sys.path.insert(0, os.path.dirname(os.path.realpath(path)))
    sys.argv = [path] + _target[1:]
    with open(path, "rb") as f:
        source = f.read()
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = sys.modules["__mp_main__"] = main
    exec(compile(source, path, "exec", module="__main__"), main.__dict__)
try:
    _run()
except SystemExit as e:
    _report(_exit_code(e))
    raise
except BaseException:
    _report(1)
    raise
else:
    _report(0)
'''
_dir = None
_child_status = None
try:
    import profiling.sampling.cli as _cli
    _orig = _cli._run_with_sync
    def _run_with_sync(original_cmd, *a, **k):
        global _dir, _child_status
        cmd = original_cmd
        if _status_file and len(original_cmd) >= 2:
            _dir = tempfile.mkdtemp(prefix="tachygate-")
            runner = os.path.join(_dir, "tachygate_sync_coordinator.py")
            with open(runner, "w") as f:
                f.write(_RUNNER)
            _child_status = os.path.join(_dir, "status")
            cmd = type(original_cmd)([original_cmd[0], runner, _child_status]) + original_cmd[1:]
        p = _orig(cmd, *a, **k)
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
        _reported = None
        if _child_status:
            try:
                with open(_child_status) as _f:
                    _reported = int(_f.read().strip())
            except (OSError, ValueError):
                pass
        # A signal (negative status) ends the workload before it can report; otherwise its own
        # report wins (Popen's 0 can be a reaped-by-the-tracer exit).
        if _reported is not None and (_rc is None or _rc >= 0):
            _rc = _reported
        with open(_status_file, "w") as _f:
            _f.write("" if _rc is None else str(_rc))
    if _dir:
        import shutil
        shutil.rmtree(_dir, ignore_errors=True)
