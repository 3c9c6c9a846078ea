"""Sorting records with key functions (deterministic: fixed seed).

Hot functions: make_records, name_key, composite_key, sort_records, top_k.
"""

import heapq
import random

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
    for _ in range(demo_knobs.factor("sort_records")):
        by_name = sorted(records, key=name_key)
        by_composite = sorted(records, key=composite_key)
    return by_name, by_composite


def top_k(records, k):
    best = []
    for _ in range(demo_knobs.factor("top_k")):
        best = heapq.nlargest(k, records, key=lambda r: r["score"] * r["age"])
    return best


def main():
    rng = random.Random(99)
    rounds = max(1, int(6 * demo_knobs.scale()))
    checksum = 0
    for _ in range(rounds):
        records = make_records(rng, 20000)
        by_name, by_composite = sort_records(records)
        best = top_k(records, 100)
        checksum ^= hash(by_name[0]["name"]) ^ hash(by_composite[-1]["name"]) ^ hash(best[0]["name"])
    print(f"sorting: {rounds} rounds, checksum {checksum & 0xFFFF}")


if __name__ == "__main__":
    main()
