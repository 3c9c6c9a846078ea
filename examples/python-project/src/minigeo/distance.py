"""Great-circle distance on a spherical Earth."""

from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0088


def haversine_km(a, b):
    """Distance in km between two (latitude, longitude) points given in degrees."""
    lat1, lon1 = a
    lat2, lon2 = b
    phi1 = radians(lat1)
    phi2 = radians(lat2)
    dphi = phi2 - phi1
    dlam = radians(lon2 - lon1)
    h = sin(dphi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def path_length_km(points):
    """Length of the path visiting `points` in order."""
    return sum(haversine_km(p, q) for p, q in zip(points, points[1:]))
