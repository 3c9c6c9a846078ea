"""A minimal stand-in for pyperf so pyperformance benchmarks run once, in-process, under the
sampling profiler: `bench_func`/`bench_time_func` call the benchmark PYPERF_STUB_LOOPS times
(default 1) instead of spawning calibrated worker processes."""

import argparse
import os
import time

perf_counter = time.perf_counter


def _loops():
    return max(1, int(os.environ.get("PYPERF_STUB_LOOPS", "1")))


class Runner:
    def __init__(self, *args, add_cmdline_args=None, **kwargs):
        self.argparser = argparse.ArgumentParser()
        self.metadata = {}
        self.args = None

    def parse_args(self, args=None):
        self.args = self.argparser.parse_args(args)
        return self.args

    def bench_func(self, name, func, *args, **kwargs):
        if self.args is None:
            self.parse_args()
        for _ in range(_loops()):
            func(*args)

    def bench_time_func(self, name, func, *args, **kwargs):
        if self.args is None:
            self.parse_args()
        return func(_loops(), *args)
