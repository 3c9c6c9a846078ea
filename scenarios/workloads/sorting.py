"""Sorting records by computed keys (deterministic: fixed seed).

Keys are computed by Python functions in comprehensions and the sort itself compares
ready-made tuples (decorate-sort-undecorate): `sorted(key=python_function)` calls back into
Python from C once per element, and CPython 3.15's sampler fails to read about 7-16% of such
stacks, which would push every run over the default `max_error_rate`.

Hot functions: make_records, name_key, composite_key, sort_records, top_k.
"""

import heapq
import random
from operator import itemgetter

import demo_knobs

FIRST = ["ada", "grace", "alan", "edsger", "barbara", "donald", "ken", "dennis", "guido", "linus"]
CITIES = ["oslo", "lima", "kyiv", "pune", "rome", "nice", "bern", "gent"]


def make_records(rng, n):
    return [
        {
            "name": f"{rng.choice(FIRST)}-{rng.randrange(100000):05d}",
            "city": rng.choice(CITIES),
            "age": rng.randrange(18, 90),
            "score": rng.random(),
        }
        for _ in range(n)
    ]


def name_key(record):
    return record["name"].lower()


def composite_key(record):
    return (record["city"], -record["age"], round(record["score"], 2), record["name"])


def sort_records(records):
    by_name, by_composite = [], []
    first = itemgetter(0)
    for _ in range(demo_knobs.factor("sort_records")):
        decorated = [(name_key(r), i) for i, r in enumerate(records)]
        decorated.sort(key=first)
        by_name = [records[i] for _, i in decorated]
        decorated = [(composite_key(r), i) for i, r in enumerate(records)]
        decorated.sort(key=first)
        by_composite = [records[i] for _, i in decorated]
    return by_name, by_composite


def top_k(records, k):
    best = []
    for _ in range(demo_knobs.factor("top_k")):
        weighted = [(r["score"] * r["age"], i) for i, r in enumerate(records)]
        best = [records[i] for _, i in heapq.nlargest(k, weighted)]
    return best


def main():
    rng = random.Random(99)
    records = make_records(rng, 20000)
    rounds = max(1, int(14 * demo_knobs.scale()))
    checksum = 0
    for _ in range(rounds):
        by_name, by_composite = sort_records(records)
        best = top_k(records, 100)
        checksum ^= hash(by_name[0]["name"]) ^ hash(by_composite[-1]["name"]) ^ hash(best[0]["name"])
    print(f"sorting: {rounds} rounds, checksum {checksum & 0xFFFF}")


if __name__ == "__main__":
    main()
