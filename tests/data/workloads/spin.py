"""Tiny deterministic CPU workload for tests: spins for SPIN_SECONDS (default 0.4) split
between two named functions, then exits with EXIT_CODE (default 0). SPIN_IGNORE_TERM=1 makes
it ignore SIGTERM (to test escalation to SIGKILL). Arguments are ignored: tests pass a unique
marker argument to find leftover processes in /proc."""
import os
import signal
import sys
import time


def hot_loop(deadline):
    n = 0
    while time.perf_counter() < deadline:
        n += sum(i * i for i in range(200))
    return n


def cold_loop(deadline):
    n = 0
    while time.perf_counter() < deadline:
        n += len(str(n))
    return n


def main():
    if os.environ.get("SPIN_IGNORE_TERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    seconds = float(os.environ.get("SPIN_SECONDS", "0.4"))
    start = time.perf_counter()
    hot_loop(start + seconds * 0.7)
    cold_loop(start + seconds)
    if os.environ.get("SPIN_ECHO"):
        print("marker", os.environ.get("SPIN_ECHO"), os.environ.get("PYTHONHASHSEED"))
    sys.exit(int(os.environ.get("EXIT_CODE", "0")))


if __name__ == "__main__":
    main()
