"""A two-level call tree for the cause-grouping test (tests/compare_real.rs): main calls
ingest (alpha, beta) and process, which calls transform (gamma, delta) and epsilon. Work is
fixed iteration counts. LAYERED_SLOW=name[=factor] multiplies one leaf's work (factor
default 1.5), so its callers transform and process carry the change while ingest does not."""
import os

SLOW = os.environ.get("LAYERED_SLOW", "")


def factor(name):
    for item in SLOW.split(","):
        key, _, value = item.partition("=")
        if key.strip() == name:
            return float(value) if value else 1.5
    return 1.0


# Each leaf loops itself: its samples are its own self samples.
def alpha(n):
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1000003
    return acc


def beta(n):
    acc = 0
    for i in range(n):
        acc = (acc * 37 + i) % 1000003
    return acc


def gamma(n):
    acc = 0
    for i in range(n):
        acc = (acc * 41 + i) % 1000003
    return acc


def delta(n):
    acc = 0
    for i in range(n):
        acc = (acc * 43 + i) % 1000003
    return acc


def epsilon(n):
    acc = 0
    for i in range(n):
        acc = (acc * 47 + i) % 1000003
    return acc


def ingest(unit):
    return alpha(int(30 * unit * factor("alpha"))) + beta(int(20 * unit * factor("beta")))


def transform(unit):
    return gamma(int(15 * unit * factor("gamma"))) + delta(int(10 * unit * factor("delta")))


def process(unit):
    return transform(unit) + epsilon(int(10 * unit * factor("epsilon")))


def main():
    total = 0
    for _ in range(40):
        total += ingest(5000) + process(5000)
    print("layered", total)


if __name__ == "__main__":
    main()
