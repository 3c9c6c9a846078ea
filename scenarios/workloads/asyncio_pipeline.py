"""An asyncio producer/consumer pipeline with simulated network waits, profiled in wall mode
(CPython 3.15's --async-aware cannot be combined with --binary, so stacks are thread stacks).

Hot functions: produce, parse_message, consume, fake_network.
"""

import asyncio
import json
import random

import demo_knobs


async def fake_network(seconds):
    await asyncio.sleep(seconds * demo_knobs.factor("fake_network"))


async def produce(queue, rng, count):
    for i in range(count):
        body = {"id": i, "values": [rng.random() for _ in range(50)]}
        if i % 50 == 0:
            await fake_network(0.002)
        await queue.put(json.dumps(body))
    await queue.put(None)


def parse_message(text):
    msg = {}
    for _ in range(demo_knobs.factor("parse_message")):
        msg = json.loads(text)
        msg["total"] = sum(msg["values"])
        msg["peak"] = max(msg["values"])
    return msg


async def consume(queue, results):
    while (text := await queue.get()) is not None:
        results.append(parse_message(text)["total"])


async def main():
    rng = random.Random(5)
    count = max(1, int(9000 * demo_knobs.scale()))
    queue = asyncio.Queue(maxsize=64)
    results = []
    await asyncio.gather(produce(queue, rng, count), consume(queue, results))
    print(f"asyncio_pipeline: {len(results)} messages, sum {sum(results):.3f}")


if __name__ == "__main__":
    asyncio.run(main())
