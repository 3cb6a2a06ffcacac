"""SAR-like scenes: a layout of surfaces and targets, then reflectivity times multiplicative speckle.

A `Scene` is drawn with Python's `random` (a few dozen draws, cheap enough to redo in every process)
and is all the texts need: the captions, the questions and the COCO boxes are read off the same layout
the pixels are rendered from, so they agree with the image. Rendering is vectorised numpy: a
reflectivity map (fields of different backscatter, dark water and roads, buildings with a bright
double-bounce edge and a shadow, bright compact ships, tanks, aircraft, cars, bridges and piers)
multiplied by unit-mean gamma speckle of L looks, then converted to each source's radiometry.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from dataclasses import dataclass, replace

import numpy as np

from .. import schema
from ..sar.preprocess import box_mean

#: Radiometric floor (linear intensity) so that dB stays finite.
_FLOOR = 1e-6
#: Amplitude scale of the synthetic DFC2023 uint16 files and OpenEarthMap-SAR uint8 files.
DFC2023_AMPLITUDE_SCALE = 1500.0
OPENEARTHMAP_AMPLITUDE_SCALE = 110.0
SPACENET6_BANDS = schema.SOURCES["spacenet6"].polarizations

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


# ------------------------------------------------------------------------------------------ layout


class _Placer:
    """Adds boxes inside the image such that no two are equal and the largest, smallest, leftmost,
    rightmost, topmost and bottommost box are each one box, so every question has one answer."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.targets: list[Target] = []
        self._metrics: list[list[int]] = [[], [], []]  # doubled centre x, doubled centre y, area

    def add(self, category: str, x: float, y: float, w: int, h: int) -> bool:
        w, h = max(2, min(int(w), self.width)), max(2, min(int(h), self.height))
        x = min(max(round(x), 0), self.width - w)
        y = min(max(round(y), 0), self.height - h)
        if any(t.box == (x, y, w, h) for t in self.targets):  # a box names one object in region questions
            return False
        values = (2 * x + w, 2 * y + h, w * h)
        for value, seen in zip(values, self._metrics, strict=True):
            if seen and value in (min(seen), max(seen)):
                return False
        for value, seen in zip(values, self._metrics, strict=True):
            seen.append(value)
        self.targets.append(Target(category, x, y, w, h))
        return True

    def scatter(self, rng: random.Random, category: str, size: tuple[int, int], accept=None, tries: int = 60) -> bool:
        """Place one target of a random size in `size` where `accept(cx, cy)` holds."""
        for attempt in range(tries):
            # small targets have few distinct areas: let later attempts grow, so a new extreme can be found
            w, h = _target_shape(rng, category, (size[0], size[1] + attempt // 10))
            x, y = rng.uniform(0, self.width - w), rng.uniform(0, self.height - h)
            ok = accept is None or accept(x + w / 2, y + h / 2) or attempt >= tries - 10
            if ok and self.add(category, x, y, w, h):
                return True
        return False


#: Width over length of elongated targets; None: independent sides.
_ELONGATION = {"ship": (0.25, 0.45), "car": (0.45, 0.6), "aircraft": (0.8, 1.0), "tank": (1.0, 1.0)}
_ELONGATION["storage tank"] = _ELONGATION["tank"]


def _target_shape(rng: random.Random, category: str, size: tuple[int, int]) -> tuple[int, int]:
    """(w, h) of a target: ships and cars elongated along a random axis, tanks round."""
    length = rng.randint(*size)
    if category not in _ELONGATION:
        return length, rng.randint(*size)
    width = max(2, round(length * rng.uniform(*_ELONGATION[category])))
    return (length, width) if rng.random() < 0.5 else (width, length)


def _sizes(extent: int, low: float, high: float) -> tuple[int, int]:
    lo = max(2, round(extent * low))
    return lo, max(lo, round(extent * high))


def _parcels(rng: random.Random, width: int, height: int, choices: tuple[str, ...]):
    cols, rows = rng.randint(1, 4), rng.randint(1, 4)
    x_edges = tuple(sorted(round(rng.uniform(0.15, 0.85) * width, 1) for _ in range(cols - 1)))
    y_edges = tuple(sorted(round(rng.uniform(0.15, 0.85) * height, 1) for _ in range(rows - 1)))
    surfaces = tuple(rng.choice(choices) for _ in range(cols * rows))
    levels = tuple(rng.uniform(*SURFACES[s][:2]) for s in surfaces)
    return surfaces, levels, x_edges, y_edges


def _coast(rng: random.Random, width: int, height: int, water_fraction: float) -> Line:
    angle = rng.uniform(0, 2 * math.pi)
    offset = (water_fraction - 0.5) * 1.2 * max(width, height)
    # the point sits `offset` behind the centre along the normal, so the centre is water iff offset > 0
    px = width / 2 + math.sin(angle) * offset
    py = height / 2 - math.cos(angle) * offset
    return Line(angle, px, py)


def _axis_line(rng: random.Random, width: int, height: int, half_width: float) -> Line:
    if rng.random() < 0.5:  # horizontal
        return Line(0.0, 0.0, rng.uniform(0.3, 0.7) * height, half_width)
    return Line(math.pi / 2, rng.uniform(0.3, 0.7) * width, 0.0, half_width)


def _road(rng: random.Random, width: int, height: int) -> Line:
    angle = rng.choice((0.0, math.pi / 2, math.pi / 4, 3 * math.pi / 4))
    half_width = max(0.6, min(width, height) / rng.uniform(40, 70))
    return Line(angle, rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height, half_width)


def _bridge(placer: _Placer, rng: random.Random, river: Line, extent: int) -> bool:
    span = int(2 * river.half_width) + 4
    for _ in range(40):
        thickness = rng.randint(*_sizes(extent, 0.04, 0.09))
        if river.angle == 0.0:  # horizontal river: a vertical bridge
            x, y, w, h = rng.uniform(0, placer.width - thickness), river.py - span / 2, thickness, span
        else:
            x, y, w, h = river.px - span / 2, rng.uniform(0, placer.height - thickness), span, thickness
        if placer.add("bridge", x, y, w, h):
            return True
    return False


def make_sardet_scene(rng: random.Random, width: int, height: int, n_objects: int) -> Scene:
    """A SARDet-100K-like chip: one main class (ships on sea, aircraft on an apron, ...), `n_objects` boxes."""
    extent = min(width, height)
    primary = rng.choices(list(SARDET_PRIMARY), weights=list(SARDET_PRIMARY.values()))[0]
    coast = river = None
    roads: list[Line] = []
    land: tuple[str, ...] = ("bare soil", "urban", "vegetation", "grass")
    if primary in ("ship", "harbor"):
        coast = _coast(rng, width, height, rng.uniform(0.6, 1.0) if primary == "ship" else rng.uniform(0.35, 0.6))
    elif primary == "bridge":
        river = _axis_line(rng, width, height, rng.uniform(0.08, 0.16) * extent)
    elif primary == "aircraft":
        land = ("pavement", "grass")
        roads.append(Line(rng.choice((0.0, math.pi / 2)), width / 2, rng.uniform(0.1, 0.3) * height, extent / 14))
    else:
        land = ("pavement", "bare soil", "urban")
    surfaces, levels, x_edges, y_edges = _parcels(rng, width, height, land)
    scene = Scene(width, height, "", surfaces, levels, x_edges, y_edges, coast, river, tuple(roads), (), "", 1, 0.0)
    placer = _Placer(width, height)

    def on_water(cx: float, cy: float) -> bool:
        return bool(scene.is_water(cx, cy))

    def on_land(cx: float, cy: float) -> bool:
        return not scene.is_water(cx, cy) and not scene.on_road(cx, cy)

    plan = [primary] * n_objects
    if primary == "harbor":
        plan = ["harbor"] + ["ship"] * (n_objects - 1)
    elif primary == "bridge":
        plan = ["bridge"] * min(n_objects, rng.randint(1, 2))
        plan += [rng.choice(("ship", "car")) for _ in range(n_objects - len(plan))]
    elif primary in ("aircraft", "tank") and n_objects > 1 and rng.random() < 0.25:
        plan[-1] = "car"
    size = {
        "ship": (0.08, 0.22),
        "aircraft": (0.12, 0.3),
        "tank": (0.07, 0.16),
        "car": (0.04, 0.08),
        "harbor": (0.25, 0.45),
        "bridge": (0.04, 0.09),
    }
    for category in plan:
        if category == "bridge" and river is not None and _bridge(placer, rng, river, extent):
            continue
        if category == "harbor" and coast is not None:
            w, h = rng.randint(*_sizes(extent, *size["harbor"])), rng.randint(*_sizes(extent, *size["harbor"]))
            t = rng.uniform(-0.3, 0.3) * extent  # along the coastline
            cx = coast.px + math.cos(coast.angle) * t
            cy = coast.py + math.sin(coast.angle) * t
            if placer.add("harbor", cx - w / 2, cy - h / 2, w, h):
                continue
        accept = on_water if category == "ship" and (coast or river) else on_land
        for _ in range(5):
            if placer.scatter(rng, category, _sizes(extent, *size[category]), accept):
                break
        else:
            raise RuntimeError(f"could not place {n_objects} distinct boxes in a {width}x{height} image")
    looks = rng.choice((1, 1, 2, 3, 4))
    return _finish(scene, placer.targets, "", looks, rng)


def make_sarvqa2_scene(rng: random.Random, width: int, height: int, looks: int) -> Scene:
    """A SpaceNet6 / DFC2023 / OpenEarthMap-SAR-like scene of one of the 16 land-cover classes."""
    extent = min(width, height)
    land_cover = rng.choice(schema.LAND_COVER_CLASSES)
    profile = PROFILES[land_cover]
    surfaces, levels, x_edges, y_edges = _parcels(rng, width, height, profile.surfaces)
    coast = river = None
    if rng.random() < profile.water:
        if rng.random() < 0.5:
            coast = _coast(rng, width, height, rng.uniform(0.15, 0.4))
        else:
            river = _axis_line(rng, width, height, rng.uniform(0.05, 0.12) * extent)
    roads = tuple(_road(rng, width, height) for _ in range(rng.randint(*profile.roads)))
    scene = Scene(
        width, height, land_cover, surfaces, levels, x_edges, y_edges, coast, river, roads, (), "", looks, 0.0
    )

    def on_land(cx: float, cy: float) -> bool:
        return not scene.is_water(cx, cy) and not scene.on_road(cx, cy)

    def on_water(cx: float, cy: float) -> bool:
        return bool(scene.is_water(cx, cy))

    placer = _Placer(width, height)
    buildings = rng.randint(*profile.buildings)
    pattern = rng.choice(profile.patterns) if buildings >= 3 else "scattered"
    _place_buildings(placer, rng, buildings, pattern, extent, on_land)
    for _ in range(rng.randint(*profile.tanks)):
        placer.scatter(rng, "storage tank", _sizes(extent, 0.06, 0.12), on_land)
    for _ in range(rng.randint(*profile.cars)):
        placer.scatter(rng, "car", _sizes(extent, 0.03, 0.05), on_land)
    if coast is not None or river is not None:
        for _ in range(rng.randint(0, 3)):
            placer.scatter(rng, "ship", _sizes(extent, 0.06, 0.16), on_water)
        if river is not None and roads:
            _bridge(placer, rng, river, extent)
    while len(placer.targets) < 2:  # every question type needs two distinct targets
        placer.scatter(rng, "building", _sizes(extent, 0.08, 0.18), on_land)
    actual = sum(1 for t in placer.targets if t.category == "building")
    return _finish(scene, placer.targets, pattern if actual >= 3 else "scattered", looks, rng)


def _place_buildings(placer: _Placer, rng: random.Random, count: int, pattern: str, extent: int, accept) -> None:
    size = _sizes(extent, 0.07, 0.16)
    if pattern == "scattered" or count < 3:
        for _ in range(count):
            placer.scatter(rng, "building", size, accept)
        return
    if pattern == "regular grid":
        cols = math.ceil(math.sqrt(count))
        rows = math.ceil(count / cols)
        pitch_x, pitch_y = placer.width / (cols + 1), placer.height / (rows + 1)
        spots = [((c + 1) * pitch_x, (r + 1) * pitch_y) for r in range(rows) for c in range(cols)][:count]
    elif pattern == "in rows":
        y0 = rng.uniform(0.25, 0.75) * placer.height
        spots = [((i + 1) * placer.width / (count + 1), y0 + (i % 2) * 0.08 * placer.height) for i in range(count)]
    else:  # clustered
        cx, cy = rng.uniform(0.3, 0.7) * placer.width, rng.uniform(0.3, 0.7) * placer.height
        spots = [(rng.gauss(cx, 0.12 * placer.width), rng.gauss(cy, 0.12 * placer.height)) for _ in range(count)]
    for sx, sy in spots:
        for _ in range(30):
            w, h = rng.randint(*size), rng.randint(*size)
            jitter_x, jitter_y = rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5)
            if placer.add("building", sx - w / 2 + jitter_x, sy - h / 2 + jitter_y, w, h):
                break


def _finish(scene: Scene, targets: list[Target], pattern: str, looks: int, rng: random.Random) -> Scene:
    return replace(scene, targets=tuple(targets), pattern=pattern, looks=looks, water_level=rng.uniform(0.002, 0.008))


# ------------------------------------------------------------------------------------------ pixels


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int = 6) -> np.ndarray:
    """Unit-variance noise correlated over about `cell` pixels (coarse noise, repeated, box-blurred)."""
    coarse = rng.standard_normal((height // cell + 2, width // cell + 2))
    fine = np.repeat(np.repeat(coarse, cell, axis=0), cell, axis=1)[:height, :width]
    window = min(2 * (cell // 2) + 1, 2 * ((min(height, width) - 1) // 2) + 1)
    smooth = box_mean(fine, window) if window > 1 else fine
    return smooth / max(float(smooth.std()), 1e-9)


def reflectivity(scene: Scene, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free sigma0 (linear) and the cross-pol ratio of every pixel."""
    height, width = scene.height, scene.width
    xs, ys = np.arange(width) + 0.5, np.arange(height) + 0.5
    parcel = (
        np.searchsorted(scene.y_edges, ys)[:, None] * (len(scene.x_edges) + 1)
        + np.searchsorted(scene.x_edges, xs)[None, :]
    )
    sigma = np.asarray(scene.levels)[parcel]
    cross = np.asarray([SURFACES[s][2] for s in scene.surfaces])[parcel]
    rough = np.asarray([0.6 if s == "vegetation" else 0.25 for s in scene.surfaces])[parcel]
    sigma = sigma * np.exp(rough * _smooth_noise(rng, height, width))
    grid_x, grid_y = np.meshgrid(xs, ys)
    water = np.asarray(scene.is_water(grid_x, grid_y), dtype=bool)
    if water.any():
        clutter = scene.water_level * np.exp(0.4 * _smooth_noise(rng, height, width, cell=4))
        sigma = np.where(water, clutter, sigma)
        cross = np.where(water, 0.02, cross)
    for road in scene.roads:
        on_road = np.abs(road.distance(grid_x, grid_y)) < road.half_width
        sigma = np.where(on_road, 0.006 * (1 + 0.3 * rng.random()), sigma)
        cross = np.where(on_road, 0.05, cross)
    for target in scene.targets:
        _draw_target(sigma, cross, target, rng)
    return sigma, cross


def _draw_target(sigma: np.ndarray, cross: np.ndarray, target: Target, rng: np.random.Generator) -> None:
    """Paint one target inside its box (the sensor looks from the bottom of the image)."""
    x, y, w, h = target.box
    window = sigma[y : y + h, x : x + w]
    jj, ii = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    category = target.category
    if category == "building":
        window[:] = rng.uniform(0.08, 0.3)
        window[-1, :] = rng.uniform(8, 25)  # double bounce at the wall facing the sensor
        shadow = slice(max(0, y - max(1, h // 4)), y)
        sigma[shadow, x : x + w] = 0.003
    elif category == "car":
        window[:] = rng.uniform(1, 3)
        window[h // 2, w // 2] = rng.uniform(6, 12)
    elif category == "ship":
        hull = ((jj - w / 2) / (w / 2)) ** 2 + ((ii - h / 2) / (h / 2)) ** 2 <= 1.0
        window[hull] = rng.uniform(2, 6)
        rows, cols = np.nonzero(hull)
        picks = rng.integers(0, rows.size, size=min(rows.size, int(rng.integers(2, 5))))
        window[rows[picks], cols[picks]] = rng.uniform(15, 60)
    elif category in ("tank", "storage tank"):
        radius = min(w, h) / 2
        rim = max(0.8, 0.3 * radius)
        distance = np.hypot(jj - w / 2, ii - h / 2)
        window[distance < radius - rim] = 0.1
        window[(distance <= radius) & (distance >= radius - rim)] = rng.uniform(4, 10)
    elif category == "aircraft":
        along_w = w >= h
        length, span = (w, h) if along_w else (h, w)
        u, v = (jj, ii) if along_w else (ii, jj)
        fuselage = np.abs(v - span / 2) < max(0.6, 0.12 * span)
        wings = np.abs(u - 0.45 * length) < max(0.6, 0.1 * length)
        tail = (u > 0.85 * length) & (np.abs(v - span / 2) < 0.25 * span)
        window[fuselage | wings | tail] = rng.uniform(1.5, 4)
    elif category == "bridge":
        window[:] = rng.uniform(0.8, 2)
        if w >= h:
            window[[0, -1], :] = rng.uniform(4, 9)
        else:
            window[:, [0, -1]] = rng.uniform(4, 9)
    elif category == "harbor":
        window[:] = np.maximum(window, 0.05)
        if w >= h:
            window[:, ::3] = rng.uniform(1, 3)
            window[0, :] = rng.uniform(3, 8)
        else:
            window[::3, :] = rng.uniform(1, 3)
            window[:, 0] = rng.uniform(3, 8)
    else:
        raise ValueError(f"no way to draw a {category!r}")
    cross[y : y + h, x : x + w] = 0.12


def speckle(intensity: np.ndarray, looks: int, rng: np.random.Generator) -> np.ndarray:
    """Fully developed speckle: intensity times unit-mean gamma noise of `looks` looks."""
    return intensity * rng.gamma(looks, 1.0 / looks, size=intensity.shape)


def sar_raster(scene: Scene, source: str, rng: np.random.Generator) -> np.ndarray:
    """The original GeoTIFF pixels of a SARVQA2 source, in its documented radiometry.

    SpaceNet6: (4, H, W) float32 dB in the band order HH, HV, VH, VV. DFC2023: (H, W) uint16
    amplitude. OpenEarthMap-SAR: (H, W) uint8 amplitude.
    """
    sigma, cross = reflectivity(scene, rng)
    if source == "spacenet6":
        hh = speckle(sigma, scene.looks, rng)
        vv = speckle(sigma * 0.85, scene.looks, rng)
        hv = speckle(sigma * cross, scene.looks, rng)
        vh = hv * rng.gamma(20.0, 1.0 / 20.0, size=hv.shape)  # reciprocity: VH is HV up to a little noise
        bands = {"HH": hh, "HV": hv, "VH": vh, "VV": vv}
        stacked = np.stack([bands[p] for p in SPACENET6_BANDS])
        return (10.0 * np.log10(np.maximum(stacked, _FLOOR))).astype(np.float32)
    amplitude = np.sqrt(speckle(sigma, scene.looks, rng))
    if source == "dfc2023":
        return np.clip(np.rint(amplitude * DFC2023_AMPLITUDE_SCALE), 0, 65535).astype(np.uint16)
    if source == "openearthmap_sar":
        return np.clip(np.rint(amplitude * OPENEARTHMAP_AMPLITUDE_SCALE), 0, 255).astype(np.uint8)
    raise ValueError(f"{source!r} has no original GeoTIFF")


def display_image(scene: Scene, rng: np.random.Generator, channels: int) -> np.ndarray:
    """An 8-bit SARDet-100K-like image: speckled, then a dB or an amplitude stretch; grey or grey-as-RGB."""
    sigma, _ = reflectivity(scene, rng)
    intensity = np.maximum(speckle(sigma, scene.looks, rng), _FLOOR)
    if rng.random() < 0.5:
        values = 10.0 * np.log10(intensity)
        low, high = np.percentile(values, (1.0, 99.5))
    else:
        values = np.sqrt(intensity)
        low, high = 0.0, float(np.percentile(values, 99.0))
    grey = np.clip(np.rint((values - low) * (255.0 / max(high - low, 1e-9))), 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2) if channels == 3 else grey
