"""A dataclass- and dict-heavy particle simulation on a grid (deterministic: fixed seed).

Hot functions: Particle.advance, bucket_by_cell, resolve_collisions, summarize.
"""

import random
from dataclasses import dataclass

import demo_knobs

SIZE = 100.0
CELL = 5.0


@dataclass
class Particle:
    x: float
    y: float
    vx: float
    vy: float
    hits: int = 0

    def advance(self, dt):
        # Repeats (the A/B knob) recompute the same step, so results do not depend on them.
        x, y = self.x, self.y
        for _ in range(demo_knobs.factor("advance")):
            x = (self.x + self.vx * dt) % SIZE
            y = (self.y + self.vy * dt) % SIZE
        self.x, self.y = x, y


def bucket_by_cell(particles):
    cells = {}
    for _ in range(demo_knobs.factor("bucket_by_cell")):
        cells = {}
        for p in particles:
            cells.setdefault((int(p.x // CELL), int(p.y // CELL)), []).append(p)
    return cells


def resolve_collisions(cells):
    # Find all colliding pairs first (repeatable work), then apply them once.
    pairs = []
    for _ in range(demo_knobs.factor("resolve_collisions")):
        pairs = []
        for members in cells.values():
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    if (a.x - b.x) ** 2 + (a.y - b.y) ** 2 < 1.0:
                        pairs.append((a, b))
    for a, b in pairs:
        a.vx, b.vx = b.vx, a.vx
        a.hits += 1
    return len(pairs)


def summarize(particles):
    stats = {}
    for _ in range(demo_knobs.factor("summarize")):
        stats = {"hits": 0, "speed": 0.0}
        for p in particles:
            stats["hits"] += p.hits
            stats["speed"] += (p.vx * p.vx + p.vy * p.vy) ** 0.5
    return stats


def main():
    rng = random.Random(7)
    particles = [
        Particle(rng.uniform(0, SIZE), rng.uniform(0, SIZE), rng.uniform(-5, 5), rng.uniform(-5, 5))
        for _ in range(1500)
    ]
    steps = max(1, int(550 * demo_knobs.scale()))
    total = 0
    stats = {}
    for _ in range(steps):
        for p in particles:
            p.advance(0.1)
        total += resolve_collisions(bucket_by_cell(particles))
        stats = summarize(particles)
    print(f"particles: {steps} steps, {total} collisions, {stats['hits']} hits")


if __name__ == "__main__":
    main()
