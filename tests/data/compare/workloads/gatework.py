"""Deterministic CPU workload for the comparison tests: a driver calls five functions whose
work is fixed iteration counts (so making one slower adds work, it does not steal time from
the others - the compositional case). GATEWORK_SLOW=name[=factor] multiplies one function's
work (factor default 2); GATEWORK_SCALE scales all work (default 1.0, ~0.9 s here)."""
import os

SCALE = float(os.environ.get("GATEWORK_SCALE", "1.0"))
SLOW = os.environ.get("GATEWORK_SLOW", "")


def factor(name):
    for item in SLOW.split(","):
        key, _, value = item.partition("=")
        if key.strip() == name:
            return float(value) if value else 2.0
    return 1.0


# Each function loops itself (no shared helper): its samples are its own self samples.
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


WEIGHTS = {"alpha": 30, "beta": 20, "gamma": 15, "delta": 10, "epsilon": 10}
FUNCS = {"alpha": alpha, "beta": beta, "gamma": gamma, "delta": delta, "epsilon": epsilon}


def driver(rounds, unit):
    total = 0
    for _ in range(rounds):
        for name, weight in WEIGHTS.items():
            total += FUNCS[name](int(weight * unit * factor(name)))
    return total


def main():
    rounds = 40
    unit = int(5000 * SCALE)
    print("gatework", driver(rounds, unit))


if __name__ == "__main__":
    main()
