# Two different files named util.py with a function of the same name.
import time

from pkg_a import util as util_a
from pkg_b import util as util_b


def main():
    end = time.monotonic() + 0.8
    while time.monotonic() < end:
        util_a.work()
        util_b.work()


if __name__ == "__main__":
    main()
