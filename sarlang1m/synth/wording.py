"""The words questions and captions share, and what they read off a scene to choose them.

Questions and captions must say the same thing the same way: "three cars", "the top left", "a
residential area", where the largest object lies, which surfaces are seen. Those words and the
geometry behind them (which cell a point falls in, where one target lies from another) are defined
here once; `templates`, `questions` and `captions` only combine them. `Text` is what both return.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .scene_model import Scene, Target


@dataclass(frozen=True, slots=True)
class Text:
    """One caption (question None) or one question with its answer, and the labels it was made with."""

    question: str | None
    answer: str
    application: str
    subtype: str = ""
    answer_type: str = ""
    style: str = ""
    bbox: tuple[int, int, int, int] | None = None


# ----------------------------------------------------------------------------------------- words

PLURALS = {
    "tank": "tanks",
    "car": "cars",
    "aircraft": "aircraft",
    "harbor": "harbors",
    "bridge": "bridges",
    "ship": "ships",
    "building": "buildings",
    "storage tank": "storage tanks",
}
_NUMBER_WORDS = "zero one two three four five six seven eight nine".split()
SUPERLATIVES: dict[str, Callable[[Target], float]] = {
    "largest": lambda t: t.area,
    "smallest": lambda t: -t.area,
    "leftmost": lambda t: -t.center[0],
    "rightmost": lambda t: t.center[0],
    "topmost": lambda t: -t.center[1],
    "bottommost": lambda t: t.center[1],
}
#: SARVQA2 position phrases of the cells of a 3 x 3 grid; the first is the canonical one.
CELL_PHRASES = {
    (0, 0): ("top left", "upper left"),
    (0, 1): ("top center", "upper middle", "top"),
    (0, 2): ("top right", "upper right"),
    (1, 0): ("center left", "left side"),
    (1, 1): ("near center", "center", "middle"),
    (1, 2): ("center right", "right side"),
    (2, 0): ("bottom left", "lower left"),
    (2, 1): ("bottom center", "lower middle", "bottom"),
    (2, 2): ("bottom right", "lower right"),
}
COMPASS = ("east", "northeast", "north", "northwest", "west", "southwest", "south", "southeast")
ROAD_ORIENTATIONS = {0: "east-west", 90: "north-south", 45: "northwest-southeast", 135: "northeast-southwest"}


def article(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def plural(noun: str, n: int = 2) -> str:
    return noun if n == 1 else PLURALS.get(noun, noun + "s")


def number_phrase(n: int, noun: str) -> str:
    """'one building', 'three cars', '12 buildings'."""
    word = _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else str(n)
    return f"{word} {plural(noun, n)}"


def joined(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def superlative(targets: Sequence[Target], which: str) -> Target:
    return max(targets, key=SUPERLATIVES[which])


def sarvqa1_position(target: Target, width: int, height: int) -> str:
    """SARVQA1's closed position word of a box: `center` within the middle third on both axes, else
    the side of the larger offset from the centre (relative to the image size; ties go to left/right)."""
    cx, cy = target.center
    dx, dy = cx / width - 0.5, cy / height - 0.5
    if abs(dx) < 1 / 6 and abs(dy) < 1 / 6:
        return "center"
    if abs(dx) >= abs(dy):
        return "left" if dx < 0 else "right"
    return "top" if dy < 0 else "bottom"


def cell_of(x: float, y: float, width: int, height: int) -> tuple[int, int]:
    return (min(2, int(3 * y / height)), min(2, int(3 * x / width)))


def side_of(a: Target, b: Target) -> str | None:
    """Where `a` lies from `b` in SARVQA1's words (left/right/top/bottom); None if same centre."""
    dx, dy = a.center[0] - b.center[0], a.center[1] - b.center[1]
    if dx == 0 and dy == 0:
        return None
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "bottom" if dy > 0 else "top"


def compass_of(a: Target, b: Target) -> str | None:
    """The 8-point compass direction from `b` to `a` (north is the top of the image)."""
    dx, dy = a.center[0] - b.center[0], a.center[1] - b.center[1]
    if dx == 0 and dy == 0:
        return None
    sector = round(math.degrees(math.atan2(-dy, dx)) / 45.0) % 8
    return COMPASS[sector]


def road_orientation(angle: float) -> str:
    return ROAD_ORIENTATIONS[round(math.degrees(angle)) % 180]


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def box_text(box: tuple[int, int, int, int]) -> str:
    """A box as the paper writes it in a question: [x, y, w, h] with one decimal."""
    return "[" + ", ".join(f"{float(v):.1f}" for v in box) + "]"


#: How a scene type reads inside a sentence, where "a" + its name would not.
SCENE_PHRASES = {
    "Bare land": "an area of bare land",
    "Farmland": "farmland",
    "Grassland": "grassland",
    "Forest/park": "a wooded park",
}
#: Cell names inside questions ("covers the top left of the image").
CELL_NAMES = {
    (0, 0): "top left",
    (0, 1): "top",
    (0, 2): "top right",
    (1, 0): "left",
    (1, 1): "center",
    (1, 2): "right",
    (2, 0): "bottom left",
    (2, 1): "bottom",
    (2, 2): "bottom right",
}
#: Where a cell is, inside caption sentences.
CELL_PLACES = {
    (0, 0): "in the top left corner of the image",
    (0, 1): "at the top of the image",
    (0, 2): "in the top right corner of the image",
    (1, 0): "on the left side of the image",
    (1, 1): "in the center of the image",
    (1, 2): "on the right side of the image",
    (2, 0): "in the bottom left corner of the image",
    (2, 1): "at the bottom of the image",
    (2, 2): "in the bottom right corner of the image",
}


def scene_phrase(scene_type: str) -> str:
    """'a residential area', 'farmland', ... for a profile's scene type."""
    return SCENE_PHRASES.get(scene_type, article(scene_type.lower()))


# ---------------------------------------------------------------------------- read off a scene


def grounds(scene: Scene) -> set[str]:
    """Grounds (surfaces, water, road) seen on an 8 x 8 grid of sample points."""
    return {
        scene.ground_at((i + 0.5) * scene.width / 8, (j + 0.5) * scene.height / 8) for i in range(8) for j in range(8)
    }


def shape_of(target: Target) -> str:
    if target.category == "storage tank":
        return "circular"
    if target.category == "ship":
        return "elongated"
    if target.category == "bridge":
        return "long and narrow"
    ratio = max(target.w, target.h) / min(target.w, target.h)
    return "square" if ratio <= 1.25 else "rectangular"


def water_cell(scene: Scene) -> tuple[int, int] | None:
    points = [((i + 0.5) * scene.width / 12, (j + 0.5) * scene.height / 12) for i in range(12) for j in range(12)]
    wet = [(x, y) for x, y in points if scene.is_water(x, y)]
    if not wet:
        return None
    mean_x = sum(x for x, _ in wet) / len(wet)
    mean_y = sum(y for _, y in wet) / len(wet)
    return cell_of(mean_x, mean_y, scene.width, scene.height)


def brightest_category(scene: Scene) -> str:
    for category in ("building", "ship", "storage tank", "car", "bridge"):
        if scene.count(category):
            return category
    raise ValueError("a SARVQA2 scene has targets")
