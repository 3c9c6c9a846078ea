# CPU-bound workload with a few hot functions and garbage cycles (for <GC> frames).
import time


class Node:
    def __init__(self):
        self.ref = self


def churn():
    # Reference cycles make the cyclic collector run, so <GC> frames appear.
    for _ in range(2000):
        Node()


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def parse(text):
    return [int(x) for x in text.split(",")]


def main(seconds=0.8):
    end = time.monotonic() + seconds
    text = ",".join(str(i) for i in range(500))
    while time.monotonic() < end:
        fib(16)
        parse(text)
        churn()
        sorted(range(3000), key=lambda v: -v)


if __name__ == "__main__":
    main()
