"""A uniform latitude/longitude grid for nearest-point queries."""

from collections import defaultdict
from math import floor

from .distance import haversine_km


class GridIndex:
    """Buckets points into cells of `cell_deg` degrees; `nearest` searches outwards ring by ring."""

    def __init__(self, points, cell_deg=1.0):
        if cell_deg <= 0:
            raise ValueError("cell_deg must be positive")
        self.cell_deg = cell_deg
        self.cells = defaultdict(list)
        self.size = 0
        for p in points:
            self.add(p)

    def _cell(self, point):
        lat, lon = point
        return (floor(lat / self.cell_deg), floor(lon / self.cell_deg))

    def add(self, point):
        self.cells[self._cell(point)].append(point)
        self.size += 1

    def _ring(self, centre, r):
        ci, cj = centre
        for i in range(ci - r, ci + r + 1):
            for j in range(cj - r, cj + r + 1):
                if max(abs(i - ci), abs(j - cj)) == r:
                    yield (i, j)

    def nearest(self, query):
        """The indexed point closest to `query`, and its distance in km (None if empty)."""
        if self.size == 0:
            return None
        centre = self._cell(query)
        best, best_d = None, float("inf")
        r = 0
        # One ring past the first hit: a closer point can sit in the next ring's corner cells.
        found_at = None
        while found_at is None or r <= found_at + 1:
            for cell in self._ring(centre, r):
                for p in self.cells.get(cell, ()):
                    d = haversine_km(query, p)
                    if d < best_d:
                        best, best_d = p, d
            if best is not None and found_at is None:
                found_at = r
            r += 1
            if r > 360 / self.cell_deg:
                break
        return best, best_d
