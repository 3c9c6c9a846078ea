"""Call-heavy: a sudoku solver with constraint propagation over small Cell/Unit objects."""

import os

PUZZLES = [
    "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......",
    "52...6.........7.13...........4..8..6......5...........418.........3..2...87.....",
    "6.....8.3.4.7.................5.4.7.3..2.....1.6.......2.....5.....8.6......1....",
    "48.3............71.2.......7.5....6....2..8.............1.76...3.....4......5....",
]


class Cell:
    __slots__ = ("index", "options", "peers")

    def __init__(self, index):
        self.index = index
        self.options = set(range(1, 10))
        self.peers = ()

    def fixed(self):
        return len(self.options) == 1

    def value(self):
        return next(iter(self.options))

    def allows(self, v):
        return v in self.options


class Grid:
    def __init__(self, cells):
        self.cells = cells

    @classmethod
    def empty(cls):
        cells = [Cell(i) for i in range(81)]
        for cell in cells:
            r, c = divmod(cell.index, 9)
            peers = set()
            for k in range(9):
                peers.add(r * 9 + k)
                peers.add(k * 9 + c)
            br, bc = 3 * (r // 3), 3 * (c // 3)
            for dr in range(3):
                for dc in range(3):
                    peers.add((br + dr) * 9 + bc + dc)
            peers.discard(cell.index)
            cell.peers = tuple(sorted(peers))
        return cls(cells)

    def copy(self):
        cells = []
        for cell in self.cells:
            n = Cell(cell.index)
            n.options = set(cell.options)
            n.peers = cell.peers
            cells.append(n)
        return Grid(cells)

    def assign(self, i, v):
        for other in list(self.cells[i].options - {v}):
            if not self.eliminate(i, other):
                return False
        return True

    def eliminate(self, i, v):
        cell = self.cells[i]
        if not cell.allows(v):
            return True
        cell.options.discard(v)
        if not cell.options:
            return False
        if cell.fixed():
            w = cell.value()
            for p in cell.peers:
                if not self.eliminate(p, w):
                    return False
        return True

    def choose(self):
        best = None
        for cell in self.cells:
            if not cell.fixed() and (best is None or len(cell.options) < len(best.options)):
                best = cell
        return best

    def solved(self):
        return all(c.fixed() for c in self.cells)


def solve(grid, counter):
    counter[0] += 1
    if grid.solved():
        return grid
    cell = grid.choose()
    for v in sorted(cell.options):
        g = grid.copy()
        if g.assign(cell.index, v):
            result = solve(g, counter)
            if result is not None:
                return result
    return None


def main():
    rounds = int(os.environ.get("SOLVER_ROUNDS", "1"))
    counter = [0]
    out = []
    for _ in range(rounds):
        for text in PUZZLES:
            g = Grid.empty()
            for i, ch in enumerate(text):
                if ch != ".":
                    g.assign(i, int(ch))
            r = solve(g, counter)
            out.append("".join(str(c.value()) for c in r.cells)[:9])
    print(f"solver: {counter[0]} nodes, {out[:4]}")


if __name__ == "__main__":
    main()
