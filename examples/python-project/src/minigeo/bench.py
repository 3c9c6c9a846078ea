"""Workload for tachygate (`python -m minigeo.bench`): greedy tours over fixed random points.

Same work on every run: a seeded generator, fixed sizes. About 0.4 s of CPU on CPython 3.15.
"""

import random
import sys

from .distance import path_length_km
from .tour import greedy_tour


def points(n, seed):
    rng = random.Random(seed)
    return [(rng.uniform(35.0, 60.0), rng.uniform(-10.0, 30.0)) for _ in range(n)]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else 900
    total = 0.0
    for seed in range(2):
        total += path_length_km(greedy_tour(points(n, seed)))
    print(f"{2} tours of {n} points: {total:.1f} km")


if __name__ == "__main__":
    main()
