"""C-heavy: sorted/list.sort with C key functions (operator.itemgetter), min/max, set ops."""

import os
import random
from operator import itemgetter


def main():
    rng = random.Random(3)
    rows = [(rng.random(), rng.randrange(1000), f"n{rng.randrange(10**6)}") for _ in range(200000)]
    total = 0
    for _ in range(int(os.environ.get("SORT_ROUNDS", "4"))):
        a = sorted(rows, key=itemgetter(1, 0))
        b = sorted(rows, key=itemgetter(2))
        c = sorted(r[0] for r in rows)
        s = set(map(itemgetter(1), rows))
        total += len(a) + len(b) + len(c) + len(s) + int(max(c) > min(c))
    print(f"c_sort: {total}")


if __name__ == "__main__":
    main()
