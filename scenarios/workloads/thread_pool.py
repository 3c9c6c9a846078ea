"""A thread pool mixing CPU work, hashing and simulated I/O waits; profiled in wall mode with
all threads (deterministic work; thread interleaving is not).

Hot functions: handle_request, render_page, digest_payload, fake_io.
"""

import hashlib
import random
import time
from concurrent.futures import ThreadPoolExecutor

import demo_knobs


def render_page(rng_seed):
    rows = []
    for _ in range(demo_knobs.factor("render_page")):
        rng = random.Random(rng_seed)
        rows = [f"<tr><td>{i}</td><td>{rng.random():.5f}</td></tr>" for i in range(1500)]
    return "".join(rows)


def digest_payload(payload):
    digest = b""
    for _ in range(demo_knobs.factor("digest_payload")):
        digest = hashlib.sha256(payload.encode()).digest()
        for _ in range(20):
            digest = hashlib.sha256(digest + payload[:256].encode()).digest()
    return digest.hex()


def fake_io(seconds):
    time.sleep(seconds * demo_knobs.factor("fake_io"))


def handle_request(i):
    page = render_page(i)
    fake_io(0.003)
    return digest_payload(page)


def main():
    requests = max(1, int(1000 * demo_knobs.scale()))
    with ThreadPoolExecutor(max_workers=4) as pool:
        digests = list(pool.map(handle_request, range(requests)))
    print(f"thread_pool: {len(digests)} requests, first {digests[0][:12]}")


if __name__ == "__main__":
    main()
