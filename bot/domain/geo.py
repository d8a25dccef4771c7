"""Distances on the Earth's surface, for "near me" and for matching."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
# On the same sphere as distance_km (so the box never cuts off a point inside the radius).
KM_PER_DEGREE_LATITUDE = math.pi * EARTH_RADIUS_KM / 180


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ValueError(f"not a position on Earth: {self.latitude}, {self.longitude}")


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine); good to a fraction of a percent at city scale."""
    phi1, phi2 = math.radians(a.latitude), math.radians(b.latitude)
    d_phi = phi2 - phi1
    d_lambda = math.radians(b.longitude - a.longitude)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class BoundingBox:
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float


def bounding_box(centre: Point, radius_km: float) -> BoundingBox:
    """A box containing every point within ``radius_km``: a cheap index-friendly pre-filter
    before the exact distance. Longitude degrees shrink towards the poles."""
    d_lat = radius_km / KM_PER_DEGREE_LATITUDE
    cos_lat = max(0.01, math.cos(math.radians(centre.latitude)))
    d_lon = min(180.0, radius_km / (KM_PER_DEGREE_LATITUDE * cos_lat))
    return BoundingBox(
        min_latitude=max(-90.0, centre.latitude - d_lat),
        max_latitude=min(90.0, centre.latitude + d_lat),
        min_longitude=max(-180.0, centre.longitude - d_lon),
        max_longitude=min(180.0, centre.longitude + d_lon),
    )
