"""Greedy nearest-neighbour tours."""

from .distance import haversine_km


def greedy_tour(points):
    """Visits every point, always moving to the closest unvisited one; returns the order."""
    if not points:
        return []
    remaining = list(points[1:])
    tour = [points[0]]
    while remaining:
        here = tour[-1]
        i = min(range(len(remaining)), key=lambda k: haversine_km(here, remaining[k]))
        tour.append(remaining.pop(i))
    return tour
