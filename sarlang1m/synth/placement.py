"""Drawing a `Scene`: parcels of surfaces, water, roads, and targets placed so every question has one answer.

A scene is drawn with Python's `random` (a few dozen draws, cheap enough to redo in every process, so
a scene is seeded by its image alone). Boxes are placed by `_Placer`, which refuses a box that would
make "the largest", "the leftmost", ... ambiguous or name two objects with one box. SARDet-100K chips
have one main class (ships on sea, aircraft on an apron, ...); SARVQA2 scenes follow the profile of
one of the 16 land-cover classes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import replace

from .. import schema
from .scene_model import PROFILES, SARDET_PRIMARY, SURFACES, Line, Scene, Target


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
    coast, river, roads, land = _sardet_ground(rng, primary, width, height, extent)
    surfaces, levels, x_edges, y_edges = _parcels(rng, width, height, land)
    scene = Scene(width, height, "", surfaces, levels, x_edges, y_edges, coast, river, tuple(roads), (), "", 1, 0.0)
    placer = _Placer(width, height)
    for category in _sardet_plan(rng, primary, n_objects):
        if not _place_sardet_target(placer, rng, scene, category, extent):
            raise RuntimeError(f"could not place {n_objects} distinct boxes in a {width}x{height} image")
    looks = rng.choice((1, 1, 2, 3, 4))
    return _finish(scene, placer.targets, "", looks, rng)


#: Side of each SARDet-100K class's box, as a share of the image's shorter side (low, high).
_SARDET_SIZES = {
    "ship": (0.08, 0.22),
    "aircraft": (0.12, 0.3),
    "tank": (0.07, 0.16),
    "car": (0.04, 0.08),
    "harbor": (0.25, 0.45),
    "bridge": (0.04, 0.09),
}


def _sardet_ground(
    rng: random.Random, primary: str, width: int, height: int, extent: int
) -> tuple[Line | None, Line | None, list[Line], tuple[str, ...]]:
    """Coast, river, roads and land surfaces where the main class of a chip is found."""
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
    return coast, river, roads, land


def _sardet_plan(rng: random.Random, primary: str, n_objects: int) -> list[str]:
    """The class of each of a chip's `n_objects` boxes: mostly the main class, with its usual companions."""
    plan = [primary] * n_objects
    if primary == "harbor":
        plan = ["harbor"] + ["ship"] * (n_objects - 1)
    elif primary == "bridge":
        plan = ["bridge"] * min(n_objects, rng.randint(1, 2))
        plan += [rng.choice(("ship", "car")) for _ in range(n_objects - len(plan))]
    elif primary in ("aircraft", "tank") and n_objects > 1 and rng.random() < 0.25:
        plan[-1] = "car"
    return plan


def _place_sardet_target(placer: _Placer, rng: random.Random, scene: Scene, category: str, extent: int) -> bool:
    """Place one box of `category` where it belongs (bridges across the river, harbours on the coast)."""
    coast, river = scene.coast, scene.river
    if category == "bridge" and river is not None and _bridge(placer, rng, river, extent):
        return True
    if category == "harbor" and coast is not None:
        size = _sizes(extent, *_SARDET_SIZES["harbor"])
        w, h = rng.randint(*size), rng.randint(*size)
        t = rng.uniform(-0.3, 0.3) * extent  # along the coastline
        cx = coast.px + math.cos(coast.angle) * t
        cy = coast.py + math.sin(coast.angle) * t
        if placer.add("harbor", cx - w / 2, cy - h / 2, w, h):
            return True
    accept = _on_water(scene) if category == "ship" and (coast or river) else _on_land(scene)
    size = _sizes(extent, *_SARDET_SIZES[category])
    return any(placer.scatter(rng, category, size, accept) for _ in range(5))


def _on_water(scene: Scene) -> Callable[[float, float], bool]:
    """Whether a box centred at (cx, cy) lies on the scene's water."""
    return lambda cx, cy: bool(scene.is_water(cx, cy))


def _on_land(scene: Scene) -> Callable[[float, float], bool]:
    """Whether a box centred at (cx, cy) lies on land, off the roads."""
    return lambda cx, cy: not scene.is_water(cx, cy) and not scene.on_road(cx, cy)


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

    on_land, on_water = _on_land(scene), _on_water(scene)
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
