# Recursion deeper than the 256-frame cap, to exercise stack truncation.
import sys
import time

sys.setrecursionlimit(5000)


def descend(n):
    if n == 0:
        return spin()
    return descend(n - 1)


def spin():
    x = 0
    for i in range(3000):
        x += i
    return x


def main():
    end = time.monotonic() + 0.8
    while time.monotonic() < end:
        descend(400)
        descend(100)


if __name__ == "__main__":
    main()
