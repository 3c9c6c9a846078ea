"""C-heavy: re.findall / re.sub / re.split over a large text (the C regex engine does the work)."""

import os
import re

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NUM = re.compile(r"\d+(?:\.\d+)?")
SPACE = re.compile(r"\s+")


def main():
    line = "alpha_1 = beta2 * 3.25 + gamma(delta, 42) - epsilon_zeta / 7 ; # comment here\n"
    text = line * 20000
    total = 0
    for _ in range(int(os.environ.get("REGEX_ROUNDS", "12"))):
        total += len(WORD.findall(text))
        total += len(NUM.findall(text))
        total += len(SPACE.sub(" ", text))
        total += len(re.split(r"[;=+*/-]", text))
    print(f"c_regex: {total}")


if __name__ == "__main__":
    main()
