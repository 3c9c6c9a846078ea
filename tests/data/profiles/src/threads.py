# Several threads: two spin, one sleeps, one waits on a lock; the main thread joins.
import threading
import time

END = time.monotonic() + 0.8


def spin():
    x = 0
    while time.monotonic() < END:
        x += sum(i * i for i in range(200))


def sleeper():
    while time.monotonic() < END:
        time.sleep(0.01)


def waiter(lock):
    while time.monotonic() < END:
        with lock:
            time.sleep(0.001)


def main():
    lock = threading.Lock()
    ts = [threading.Thread(target=spin, name="spin-1"),
          threading.Thread(target=spin, name="spin-2"),
          threading.Thread(target=sleeper, name="sleeper"),
          threading.Thread(target=waiter, args=(lock,), name="waiter")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


if __name__ == "__main__":
    main()
