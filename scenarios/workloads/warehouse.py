"""An object-oriented warehouse simulation: robots pick orders from shelves (deterministic).

Call-heavy pure Python in the style of pyperformance's richards/deltablue: many small methods
calling small methods, the code CPython's sampler reads unreliably without `blocking = true`.
Hot functions: Robot.step, Robot.distance_to, Shelf.take, Order.remaining, Warehouse.assign,
Warehouse.tick.
"""

import random

import demo_knobs

# Read once: a lookup per call would put demo_knobs itself among the hot functions.
SLOW_STEP = demo_knobs.factor("step")
SLOW_DISTANCE = demo_knobs.factor("distance_to")
SLOW_TAKE = demo_knobs.factor("take")
SLOW_REMAINING = demo_knobs.factor("remaining")
SLOW_ASSIGN = demo_knobs.factor("assign")


class Position:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def manhattan(self, other):
        return abs(self.x - other.x) + abs(self.y - other.y)

    def toward(self, other):
        dx = (other.x > self.x) - (other.x < self.x)
        dy = (other.y > self.y) - (other.y < self.y) if dx == 0 else 0
        return Position(self.x + dx, self.y + dy)


class Shelf:
    def __init__(self, ident, pos, stock):
        self.ident = ident
        self.pos = pos
        self.stock = stock

    def has(self, item):
        return self.stock.get(item, 0) > 0

    def take(self, item):
        # Repeats (the A/B knob) recheck the same stock, so results do not depend on them.
        ok = False
        for _ in range(SLOW_TAKE):
            ok = self.has(item)
        if ok:
            self.stock[item] -= 1
        return ok

    def restock(self, item, count):
        self.stock[item] = self.stock.get(item, 0) + count


class Order:
    def __init__(self, ident, items):
        self.ident = ident
        self.items = list(items)
        self.picked = []

    def remaining(self):
        left = None
        for _ in range(SLOW_REMAINING):
            left = [i for i in self.items if i not in self.picked]
        return left

    def done(self):
        return not self.remaining()

    def pick(self, item):
        self.picked.append(item)


class Robot:
    def __init__(self, ident, pos):
        self.ident = ident
        self.pos = pos
        self.order = None
        self.target = None
        self.moves = 0

    def idle(self):
        return self.order is None

    def distance_to(self, pos):
        d = 0
        for _ in range(SLOW_DISTANCE):
            d = self.pos.manhattan(pos)
        return d

    def step(self, warehouse):
        if self.target is None:
            return
        for _ in range(SLOW_STEP - 1):
            self.pos.toward(self.target.pos)
        if self.distance_to(self.target.pos) == 0:
            self.arrive(warehouse)
        else:
            self.pos = self.pos.toward(self.target.pos)
            self.moves += 1

    def arrive(self, warehouse):
        item = self.wanted()
        if item is not None and self.target.take(item):
            self.order.pick(item)
        if self.order.done():
            warehouse.complete(self)
        else:
            self.target = warehouse.nearest_shelf(self, self.wanted())

    def wanted(self):
        left = self.order.remaining()
        return left[0] if left else None


class Warehouse:
    def __init__(self, rng, n_shelves, n_robots, items):
        self.rng = rng
        self.items = items
        self.shelves = [
            Shelf(i, Position(rng.randrange(40), rng.randrange(40)), {it: 3 for it in rng.sample(items, 6)})
            for i in range(n_shelves)
        ]
        self.robots = [Robot(i, Position(0, i)) for i in range(n_robots)]
        self.queue = []
        self.completed = 0
        self.next_order = 0

    def new_order(self):
        self.next_order += 1
        return Order(self.next_order, self.rng.sample(self.items, 3))

    def nearest_shelf(self, robot, item):
        best, best_d = None, None
        for shelf in self.shelves:
            if shelf.has(item):
                d = robot.distance_to(shelf.pos)
                if best_d is None or d < best_d:
                    best, best_d = shelf, d
        if best is None:
            best = self.shelves[int(item[4:]) % len(self.shelves)]
            best.restock(item, 5)
        return best

    def assign(self, robot):
        for _ in range(SLOW_ASSIGN - 1):
            self.nearest_shelf(robot, self.queue[0].items[0]) if self.queue else None
        if not self.queue:
            return
        robot.order = self.queue.pop(0)
        robot.target = self.nearest_shelf(robot, robot.wanted())

    def complete(self, robot):
        self.completed += 1
        robot.order = None
        robot.target = None

    def tick(self):
        if len(self.queue) < 10:
            self.queue.append(self.new_order())
        for robot in self.robots:
            if robot.idle():
                self.assign(robot)
            else:
                robot.step(self)


def main():
    rng = random.Random(11)
    items = [f"item{i}" for i in range(40)]
    w = Warehouse(rng, 60, 12, items)
    ticks = max(1, int(130000 * demo_knobs.scale()))
    for _ in range(ticks):
        w.tick()
    moves = sum(r.moves for r in w.robots)
    print(f"warehouse: {ticks} ticks, {w.completed} orders, {moves} moves")


if __name__ == "__main__":
    main()
