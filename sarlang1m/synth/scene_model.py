"""What a synthetic image shows: land-cover profiles, surfaces, targets, water and roads as a `Scene`.

A `Scene` is all the pixels and the texts of one image are made from: `placement` draws one, `render`
turns it into SAR-like pixels, and the captions, the questions and the COCO boxes are read off the
same scene, so they agree with the image. This module only describes scenes (what a land-cover class
looks like, what lies where); it draws nothing and renders nothing.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from .. import schema

#: Backscatter (linear sigma0 range) and cross-pol ratio of each surface.
SURFACES: dict[str, tuple[float, float, float]] = {
    "field": (0.02, 0.25, 0.10),
    "vegetation": (0.08, 0.20, 0.30),
    "grass": (0.03, 0.08, 0.15),
    "bare soil": (0.015, 0.05, 0.05),
    "pavement": (0.005, 0.02, 0.03),
    "urban": (0.10, 0.30, 0.10),
}
#: How a surface is named in texts.
SURFACE_NAMES = {
    "field": "Farmland",
    "vegetation": "Vegetation",
    "grass": "Grass",
    "bare soil": "Bare soil",
    "pavement": "Pavement",
    "urban": "Built-up area",
    "water": "Water",
    "road": "Road",
}
#: Object categories of SARVQA2 scenes (SARDet scenes use `schema.SARVQA1_CLASSES`).
SARVQA2_TARGETS = ("building", "car", "ship", "storage tank", "bridge")
PATTERNS = ("regular grid", "in rows", "clustered", "scattered")


@dataclass(frozen=True)
class Profile:
    """What a land-cover class looks like: its surfaces, targets, water and roads."""

    scene: str
    surfaces: tuple[str, ...]
    buildings: tuple[int, int]
    cars: tuple[int, int]
    tanks: tuple[int, int]
    water: float
    roads: tuple[int, int]
    patterns: tuple[str, ...]


PROFILES: dict[str, Profile] = {
    "Residential": Profile(
        "Residential area", ("urban", "grass"), (6, 12), (0, 4), (0, 0), 0.2, (1, 2), ("regular grid", "in rows")
    ),
    "Industrial": Profile(
        "Industrial area", ("pavement", "bare soil"), (2, 6), (0, 3), (1, 5), 0.4, (1, 2), ("clustered", "scattered")
    ),
    "Urban": Profile("Urban area", ("urban", "pavement"), (8, 14), (1, 6), (0, 1), 0.3, (2, 3), ("regular grid",)),
    "Mixed-use": Profile(
        "Mixed-use area",
        ("urban", "grass", "pavement"),
        (4, 10),
        (1, 5),
        (0, 2),
        0.3,
        (1, 2),
        ("scattered", "clustered"),
    ),
    "Park": Profile("Forest/park", ("vegetation", "grass"), (0, 2), (0, 2), (0, 0), 0.4, (0, 1), ("scattered",)),
    "Recreational": Profile(
        "Recreational area", ("grass", "pavement"), (1, 3), (0, 4), (0, 0), 0.3, (1, 1), ("scattered",)
    ),
    "Residential and construction": Profile(
        "Construction site", ("bare soil", "urban"), (3, 8), (0, 3), (0, 0), 0.2, (1, 2), ("in rows", "scattered")
    ),
    "Forest": Profile("Forest/park", ("vegetation",), (0, 1), (0, 1), (0, 0), 0.3, (0, 1), ("scattered",)),
    "Minimal": Profile("Bare land", ("bare soil", "grass"), (0, 2), (0, 1), (0, 0), 0.3, (0, 1), ("scattered",)),
    "Parking area": Profile("Parking lot", ("pavement",), (1, 2), (6, 12), (0, 0), 0.1, (1, 2), ("in rows",)),
    "Commercial": Profile(
        "Commercial area", ("pavement", "urban"), (3, 8), (2, 8), (0, 0), 0.2, (1, 3), ("clustered", "regular grid")
    ),
    "Farming": Profile("Farmland", ("field",), (0, 2), (0, 1), (0, 1), 0.2, (0, 1), ("scattered",)),
    "Urban development": Profile(
        "Construction site", ("bare soil", "pavement"), (2, 6), (0, 3), (0, 0), 0.3, (1, 2), ("in rows", "scattered")
    ),
    "Agricultural field": Profile("Farmland", ("field",), (0, 1), (0, 1), (0, 0), 0.3, (0, 1), ("scattered",)),
    "Energy generation and agriculture": Profile(
        "Solar farm", ("field", "pavement"), (1, 3), (0, 1), (2, 5), 0.2, (0, 1), ("in rows",)
    ),
    "Vegetation": Profile("Grassland", ("grass", "vegetation"), (0, 1), (0, 1), (0, 0), 0.3, (0, 1), ("scattered",)),
}
if set(PROFILES) != set(schema.LAND_COVER_CLASSES):
    raise AssertionError("every land-cover class needs a profile")

#: Which SARDet-100K class an image shows most (its share of images).
SARDET_PRIMARY = {"ship": 0.45, "aircraft": 0.15, "bridge": 0.15, "tank": 0.12, "car": 0.08, "harbor": 0.05}


@dataclass(frozen=True)
class Target:
    """A compact object with its COCO box (x, y, w, h in whole pixels, inside the image)."""

    category: str
    x: int
    y: int
    w: int
    h: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    @property
    def area(self) -> int:
        return self.w * self.h


@dataclass(frozen=True)
class Line:
    """A straight feature: direction `angle` (radians, image axes, y down) through (px, py)."""

    angle: float
    px: float
    py: float
    half_width: float = 0.0

    def distance(self, x, y):
        """Signed distance (pixels) of points from the line; works on floats and arrays."""
        return (x - self.px) * -math.sin(self.angle) + (y - self.py) * math.cos(self.angle)


@dataclass(frozen=True)
class Scene:
    """Everything the pixels and the texts of one image are made from."""

    width: int
    height: int
    land_cover: str
    surfaces: tuple[str, ...]  # per parcel, row-major
    levels: tuple[float, ...]  # sigma0 per parcel
    x_edges: tuple[float, ...]
    y_edges: tuple[float, ...]
    coast: Line | None  # water where the signed distance is positive
    river: Line | None  # water within half_width of the line
    roads: tuple[Line, ...]
    targets: tuple[Target, ...]
    pattern: str
    looks: int
    water_level: float

    def is_water(self, x, y):
        """Whether points are water: a bool for numbers, a boolean array for arrays."""
        water = np.zeros(np.broadcast(x, y).shape, dtype=bool) if isinstance(x, np.ndarray) else False
        if self.coast is not None:
            water = water | (self.coast.distance(x, y) > 0)
        if self.river is not None:
            water = water | (abs(self.river.distance(x, y)) < self.river.half_width)
        return water

    def on_road(self, x: float, y: float) -> bool:
        return any(abs(road.distance(x, y)) < road.half_width for road in self.roads)

    def ground_at(self, x: float, y: float) -> str:
        """What the ground is at a point, targets ignored: water, road or the parcel's surface."""
        if self.is_water(x, y):
            return "water"
        if self.on_road(x, y):
            return "road"
        col, row = bisect_left(self.x_edges, x), bisect_left(self.y_edges, y)
        return self.surfaces[row * (len(self.x_edges) + 1) + col]

    def surface_at(self, x: float, y: float) -> str:
        """What covers a point: a target's category, else `ground_at`."""
        for target in self.targets:
            if target.x <= x < target.x + target.w and target.y <= y < target.y + target.h:
                return target.category
        return self.ground_at(x, y)

    @property
    def has_water(self) -> bool:
        step_x, step_y = self.width / 8, self.height / 8
        return any(self.is_water((i + 0.5) * step_x, (j + 0.5) * step_y) for i in range(8) for j in range(8))

    def count(self, category: str) -> int:
        return sum(1 for t in self.targets if t.category == category)
