"""Great-circle distances, a grid index for nearest-point queries and greedy tours."""

from .distance import EARTH_RADIUS_KM, haversine_km, path_length_km
from .grid import GridIndex
from .tour import greedy_tour

__all__ = ["EARTH_RADIUS_KM", "GridIndex", "greedy_tour", "haversine_km", "path_length_km"]
