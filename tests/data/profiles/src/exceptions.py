# Raises and handles exceptions in a loop, so exception mode has samples.
import time


class AppError(Exception):
    pass


def fail(n):
    raise AppError(n)


def handle():
    try:
        fail(1)
    except AppError:
        total = 0
        for i in range(2000):
            total += i
        return total


def main():
    end = time.monotonic() + 0.8
    while time.monotonic() < end:
        handle()
        sum(range(1000))


if __name__ == "__main__":
    main()
