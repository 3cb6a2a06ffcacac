"""Captions and questions in the style of the paper's examples, read off a `Scene`.

Every answer is computed from the scene the pixels are rendered from: SARVQA1 questions come from the
COCO boxes (classes `schema.SARVQA1_CLASSES`, positions `schema.SARVQA1_POSITIONS`), SARVQA2 questions
and captions from the scene's land cover, surfaces and targets. A kind of question is a set of templates
times a set of slots (a class, a box, "the largest object", ...); the distinct (template, slot) pairs an
image always offers are its capacity (`question_capacity`), which the planner respects, so an image never
gets the same question twice.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import schema
from .plan import KINDS
from .scenes import PROFILES, SARVQA2_TARGETS, SURFACE_NAMES, Scene, Target

#: Share of short answers written with their final period ("answers often end with a period").
PERIOD_SHARE = 0.9


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


@dataclass(frozen=True, slots=True)
class Slot:
    """What fills a template: its fields, the answer and the answer's type."""

    fields: dict[str, str]
    answer: str
    answer_type: str
    bbox: tuple[int, int, int, int] | None = None
    sentence: bool = False  # a full sentence always keeps its period


#: A group of templates that all take the same slots.
Group = tuple[Sequence[str], list[Slot]]

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


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _finish_answer(slot: Slot, rng: random.Random) -> str:
    answer = _sentence_case(slot.answer)
    if slot.sentence or rng.random() < PERIOD_SHARE:
        return answer + "."
    return answer


def box_text(box: tuple[int, int, int, int]) -> str:
    """A box as the paper writes it in a question: [x, y, w, h] with one decimal."""
    return "[" + ", ".join(f"{float(v):.1f}" for v in box) + "]"


# ------------------------------------------------------------------------------------- templates

IDENT1 = (
    "Is there {a} in this image?",
    "Are there any {pl} in the image?",
    "Does this image contain {a}?",
    "Is {a} present in this SAR image?",
    "Can you see any {pl} in this image?",
    "Does the image show any {pl}?",
    "Is there at least one {sg} in the scene?",
    "Are any {pl} visible in this image?",
)
CLASS1 = (
    "What is the category of the {sup} object in the image?",
    "What type of object is the {sup} target in this image?",
    "What kind of target is the {sup} one in this image?",
    "Which category does the {sup} object belong to?",
    "What class is the {sup} object in this SAR image?",
)
CLASS1_COMMON = (
    "What is the most common type of object in this image?",
    "Which kind of target appears most often in the image?",
)
COUNT = (
    "How many {pl} are there in the image?",
    "How many {pl} can be seen in this image?",
    "What is the number of {pl} in the image?",
    "Count the {pl} in this image.",
    "How many {pl} does this image contain?",
    "How many {pl} are visible in this SAR image?",
)
COUNT1_PART = (
    "How many objects are in the {pos} part of the image?",
    "How many targets can be found in the {pos} region of the image?",
)
REGION1 = (
    "What is the object in the region {box}?",
    "What category does the object in {box} belong to?",
    "Identify the object within the bounding box {box}.",
    "What is inside the box {box}?",
    "Which class does the target at {box} belong to?",
    "What type of object is shown in {box}?",
    "What can be seen in the area {box}?",
    "Classify the object in the region {box}.",
)
POSITION1 = (
    "Where is {phrase} located in the image?",
    "In which part of the image is {phrase}?",
    "Which part of the image contains {phrase}?",
    "Where can {phrase} be found in this image?",
)
DIRECTION = (
    "In which direction is {a} from {b}?",
    "What is the direction of {a} relative to {b}?",
    "Relative to {b}, in which direction does {a} lie?",
)
IDENT2 = (
    "Is there {a} in this image?",
    "Does this image contain {a}?",
    "Are there any {pl} in the scene?",
    "Is {a} visible in this SAR image?",
    "Can {a} be seen in the image?",
    "Does the scene include {a}?",
)
CLASS2_SCENE = (
    "What type of area is shown in this image?",
    "What kind of scene does this SAR image show?",
    "What type of region is depicted in the image?",
    "Which category best describes this scene?",
    "What kind of area is this?",
)
CLASS2_OBJECT = (
    "What is the {sup} object in the image?",
    "What type of object is the {sup} one in this scene?",
    "What kind of structure is the {sup} target?",
)
CLASS2_SURFACE = (
    "What type of surface covers the {cell} of the image?",
    "What kind of ground is found in the {cell} part of the image?",
)
POSITION2 = (
    "Where is {phrase} located in the image?",
    "In which part of the image is {phrase}?",
    "Where can {phrase} be found?",
)
SHAPE2 = (
    "What is the shape of {phrase}?",
    "What shape does {phrase} have?",
    "Describe the shape of {phrase}.",
)
ROAD2 = (
    "In which direction does the road run?",
    "What is the orientation of the main road?",
)
PATTERN2 = (
    "How are the structures arranged in this image?",
    "What is the spatial pattern of the objects in the scene?",
    "What arrangement do the man-made structures show?",
    "What is the layout of the targets in the image?",
    "What is the distribution of the objects in the image?",
    "What pattern do the structures form?",
)
LAND_COVER2 = (
    "What is the land cover type of this area?",
    "What is the land use category of this image?",
    "Which land cover class best describes this scene?",
    "What is the dominant land cover in this image?",
    "What type of land cover is shown here?",
    "Classify the land cover of this area.",
)
#: SARVQA2 identification vocabulary: (noun, whether the scene has it); the last ones never occur.
ABSENT2 = ("aircraft", "runway", "wind turbine", "swimming pool", "railway", "tennis court", "greenhouse", "helicopter")
PRESENCE2: dict[str, Callable[[Scene], bool]] = {
    "building": lambda s: s.count("building") > 0,
    "car": lambda s: s.count("car") > 0,
    "ship": lambda s: s.count("ship") > 0,
    "storage tank": lambda s: s.count("storage tank") > 0,
    "bridge": lambda s: s.count("bridge") > 0,
    "road": lambda s: bool(s.roads),
    "water body": lambda s: s.has_water,
    "farm field": lambda s: "field" in _grounds(s),
    "forest": lambda s: "vegetation" in _grounds(s),
    **{noun: (lambda s: False) for noun in ABSENT2},
}
_PLURAL_EXTRA = {"water body": "water bodies", "forest": "forests", "farm field": "farm fields"}
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


ALWAYS_REASONS2 = 6


# --------------------------------------------------------------------------------- capacities


def question_capacity(subset: str, n_objects: int) -> list[int]:
    """Distinct questions of each kind (in `plan.KINDS` order) every image of a subset can take."""
    pairs = 2 * len(DIRECTION) if n_objects >= 2 else 0  # leftmost vs rightmost, both ways
    if subset == "sarvqa1":
        capacity = {
            "object_identification": len(schema.SARVQA1_CLASSES) * len(IDENT1),
            "object_classification": len(SUPERLATIVES) * len(CLASS1),
            "instance_counting": len(schema.SARVQA1_CLASSES) * len(COUNT) + 5 * len(COUNT1_PART),
            "region_referring": n_objects * len(REGION1),
            "object_positioning": len(SUPERLATIVES) * len(POSITION1),
            "others/direction": pairs,
        }
    else:
        capacity = {
            "object_identification": len(PRESENCE2) * len(IDENT2),
            "object_classification": len(CLASS2_SCENE)
            + len(SUPERLATIVES) * len(CLASS2_OBJECT)
            + len(CELL_PHRASES) * len(CLASS2_SURFACE),
            "instance_counting": len(SARVQA2_TARGETS) * len(COUNT),
            "object_positioning": len(SUPERLATIVES) * len(POSITION2),
            "others/reasoning": ALWAYS_REASONS2,
            "others/shape": len(SUPERLATIVES) * len(SHAPE2),
            "others/direction": 2 * len(DIRECTION),
            "others/pattern": len(PATTERN2),
            "others/land_cover": len(LAND_COVER2),
        }
    return [capacity.get(kind.key, 0) for kind in KINDS]


# --------------------------------------------------------------------------------- SARVQA1 slots


def _sup_phrases(targets: Sequence[Target]) -> list[tuple[str, Target]]:
    return [(f"the {which} object", superlative(targets, which)) for which in SUPERLATIVES]


def _class_fields(name: str) -> dict[str, str]:
    return {"a": article(name), "pl": plural(name), "sg": name}


def _sarvqa1_groups(scene: Scene) -> dict[str, list[Group]]:
    targets, width, height = scene.targets, scene.width, scene.height
    counts = Counter(t.category for t in targets)
    position = {id(t): sarvqa1_position(t, width, height) for t in targets}
    ident_yes = [Slot(_class_fields(c), "yes", "yes_no") for c in schema.SARVQA1_CLASSES if counts[c]]
    ident_no = [Slot(_class_fields(c), "no", "yes_no") for c in schema.SARVQA1_CLASSES if not counts[c]]
    classify = [Slot({"sup": which}, superlative(targets, which).category, "category") for which in SUPERLATIVES]
    groups: dict[str, list[Group]] = {
        "object_identification/yes": [(IDENT1, ident_yes)],
        "object_identification/no": [(IDENT1, ident_no)],
        "object_classification": [(CLASS1, classify)],
        "instance_counting": [
            (COUNT, [Slot({"pl": plural(c)}, str(counts[c]), "number") for c in schema.SARVQA1_CLASSES]),
            (
                COUNT1_PART,
                [
                    Slot({"pos": p}, str(sum(1 for t in targets if position[id(t)] == p)), "number")
                    for p in schema.SARVQA1_POSITIONS
                ],
            ),
        ],
        "region_referring": [
            (REGION1, [Slot({"box": box_text(t.box)}, t.category, "category", t.box) for t in targets])
        ],
    }
    top = counts.most_common(2)
    if len(top) == 1 or top[0][1] > top[1][1]:
        groups["object_classification"].append((CLASS1_COMMON, [Slot({}, top[0][0], "category")]))
    phrases = _sup_phrases(targets) + [(f"the {t.category}", t) for t in targets if counts[t.category] == 1]
    groups["object_positioning"] = [(POSITION1, [Slot({"phrase": p}, position[id(t)], "position") for p, t in phrases])]
    groups["others/direction"] = [(DIRECTION, _direction_slots(targets, side_of, "position"))]
    return groups


def _direction_slots(targets: Sequence[Target], relation, answer_type: str) -> list[Slot]:
    slots, seen = [], set()
    sups = _sup_phrases(targets)
    # leftmost/rightmost first: two distinct objects with distinct centres in every image of 2+ objects
    order = sorted(sups, key=lambda item: item[0] not in ("the leftmost object", "the rightmost object"))
    for a_phrase, a in order:
        for b_phrase, b in order:
            if a is b or (a_phrase, b_phrase) in seen:
                continue
            seen.add((a_phrase, b_phrase))
            if (answer := relation(a, b)) is not None:
                slots.append(Slot({"a": a_phrase, "b": b_phrase}, answer, answer_type))
    return slots


# --------------------------------------------------------------------------------- SARVQA2 slots


def _grounds(scene: Scene) -> set[str]:
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


def _water_cell(scene: Scene) -> tuple[int, int] | None:
    points = [((i + 0.5) * scene.width / 12, (j + 0.5) * scene.height / 12) for i in range(12) for j in range(12)]
    wet = [(x, y) for x, y in points if scene.is_water(x, y)]
    if not wet:
        return None
    mean_x = sum(x for x, _ in wet) / len(wet)
    mean_y = sum(y for _, y in wet) / len(wet)
    return cell_of(mean_x, mean_y, scene.width, scene.height)


def _brightest_category(scene: Scene) -> str:
    for category in ("building", "ship", "storage tank", "car", "bridge"):
        if scene.count(category):
            return category
    raise ValueError("a SARVQA2 scene has targets")


def _reasons(scene: Scene) -> list[Slot]:
    """Reasoning questions with their answers; the first `ALWAYS_REASONS2` apply to every scene."""
    profile = PROFILES[scene.land_cover]
    buildings, cars = scene.count("building"), scene.count("car")
    activity = buildings + cars + len(scene.roads)
    if activity >= 6:
        human = "There is intense human activity, as shown by many buildings, vehicles and roads"
    elif buildings or scene.roads:
        human = "There is some human activity: a few man-made structures are visible"
    else:
        human = "There is little human activity; the area is mostly natural"
    if buildings >= 8:
        density = "It is likely densely populated, given the many buildings"
    elif buildings >= 3:
        density = "It is likely moderately populated, with a few groups of buildings"
    else:
        density = "It is likely sparsely populated, with few buildings"
    bright = _brightest_category(scene)
    reasons = [
        ("What can be inferred about human activity in this area?", human),
        (
            "What is the most likely use of this area?",
            f"It is most likely {scene_phrase(profile.scene)}, judging from its surfaces and structures",
        ),
        (
            "What explains the grainy appearance of this image?",
            "Speckle: the coherent radar signal adds random interference to every pixel",
        ),
        (
            "What might the brightest spots in the image be?",
            f"They are most likely {plural(bright)}, which reflect the radar signal strongly",
        ),
        ("What can be inferred about the population density of this area?", density),
        (
            "Why might this area be monitored with SAR rather than optical images?",
            "Because SAR sees the ground day and night and through clouds",
        ),
    ]
    if scene.has_water:
        reasons.append(
            (
                "Why does the water surface appear dark in this SAR image?",
                "Because the smooth water surface reflects the radar pulse away from the sensor",
            )
        )
    if scene.roads:
        reasons.append(("Why do the roads appear as dark lines?", "Because smooth asphalt scatters little energy back"))
    if buildings:
        reasons.append(
            (
                "What explains the bright lines along the building walls?",
                "Double-bounce scattering between the walls and the ground",
            )
        )
    if scene.count("ship"):
        reasons.append(
            (
                "What do the bright compact targets on the water indicate?",
                "They indicate ships, whose metal hulls return strong echoes",
            )
        )
    if scene.count("storage tank"):
        reasons.append(
            (
                "What is the purpose of the circular structures in the image?",
                "They are storage tanks, most likely used to store oil or other liquids",
            )
        )
    if cars >= 5:
        reasons.append(
            ("What does the large number of cars suggest?", "It suggests a parking area or a busy commercial zone")
        )
    return [Slot({"question": q}, a, "free_text", sentence=True) for q, a in reasons]


def _sarvqa2_groups(scene: Scene) -> dict[str, list[Group]]:
    targets, width, height = scene.targets, scene.width, scene.height
    presence = {noun: has(scene) for noun, has in PRESENCE2.items()}

    def noun_fields(noun: str) -> dict[str, str]:
        return {"a": article(noun), "pl": _PLURAL_EXTRA.get(noun, plural(noun))}

    cells = CELL_NAMES

    def surface(cell: tuple[int, int]) -> str:
        x, y = (cell[1] + 0.5) * width / 3, (cell[0] + 0.5) * height / 3
        ground = scene.surface_at(x, y)
        return SURFACE_NAMES.get(ground, ground)

    def where(target: Target) -> str:
        return "@cell:" + ",".join(map(str, cell_of(*target.center, width, height)))

    counts = Counter(t.category for t in targets)
    phrases = _sup_phrases(targets) + [(f"the {t.category}", t) for t in targets if counts[t.category] == 1]
    groups: dict[str, list[Group]] = {
        "object_identification/yes": [
            (IDENT2, [Slot(noun_fields(n), "yes", "yes_no") for n, p in presence.items() if p])
        ],
        "object_identification/no": [
            (IDENT2, [Slot(noun_fields(n), "no", "yes_no") for n, p in presence.items() if not p])
        ],
        "object_classification": [
            (CLASS2_SCENE, [Slot({}, PROFILES[scene.land_cover].scene, "category")]),
            (CLASS2_OBJECT, [Slot({"sup": w}, superlative(targets, w).category, "category") for w in SUPERLATIVES]),
            (CLASS2_SURFACE, [Slot({"cell": cells[c]}, surface(c), "category") for c in CELL_PHRASES]),
        ],
        "instance_counting": [(COUNT, [Slot({"pl": plural(c)}, str(counts[c]), "number") for c in SARVQA2_TARGETS])],
        "object_positioning": [(POSITION2, [Slot({"phrase": p}, where(t), "position") for p, t in phrases])],
        "others/shape": [(SHAPE2, [Slot({"phrase": p}, shape_of(t), "category") for p, t in _sup_phrases(targets)])],
        "others/direction": [(DIRECTION, _direction_slots(targets, compass_of, "category"))],
        "others/pattern": [(PATTERN2, [Slot({}, scene.pattern, "category")])],
        "others/land_cover": [(LAND_COVER2, [Slot({}, scene.land_cover, "category")])],
        "others/reasoning": [(("{question}",), _reasons(scene))],
    }
    orientations = {road_orientation(road.angle) for road in scene.roads}
    if len(orientations) == 1:
        groups["others/direction"].append((ROAD2, [Slot({}, orientations.pop(), "category")]))
    return groups


# ------------------------------------------------------------------------------------- picking


def _pick(groups: list[Group], k: int, rng: random.Random, what: str) -> list[tuple[str, Slot]]:
    """`k` distinct (question, slot) pairs drawn uniformly from the groups' template x slot pairs."""
    sizes = [len(templates) * len(slots) for templates, slots in groups]
    total = sum(sizes)
    if k > total:
        raise ValueError(f"{what}: {k} questions asked but only {total} distinct ones exist for this image")
    picked = []
    for index in sorted(rng.sample(range(total), k)):
        for (templates, slots), size in zip(groups, sizes, strict=True):
            if index < size:
                slot = slots[index // len(templates)]
                picked.append((templates[index % len(templates)].format(**slot.fields), slot))
                break
            index -= size
    return picked


def _resolve_answer(slot: Slot, rng: random.Random) -> Slot:
    """Position placeholders of SARVQA2 become one of the cell's phrases."""
    if slot.answer.startswith("@cell:"):
        row, column = (int(v) for v in slot.answer.removeprefix("@cell:").split(","))
        return Slot(slot.fields, rng.choice(CELL_PHRASES[row, column]), slot.answer_type, slot.bbox)
    return slot


def questions(scene: Scene, subset: str, counts: Sequence[int], rng: random.Random) -> list[Text]:
    """`counts[i]` distinct questions of kind `plan.KINDS[i]` about the scene, in a random order."""
    groups = _sarvqa1_groups(scene) if subset == "sarvqa1" else _sarvqa2_groups(scene)
    made: list[Text] = []
    for kind, k in zip(KINDS, counts, strict=True):
        if not k:
            continue
        if kind.key == "object_identification":
            yes, no = groups["object_identification/yes"], groups["object_identification/no"]
            yes_cap = sum(len(t) * len(s) for t, s in yes)
            no_cap = sum(len(t) * len(s) for t, s in no)
            k_yes = max(k - no_cap, min(yes_cap, sum(rng.random() < 0.5 for _ in range(k))))
            picked = _pick(yes, k_yes, rng, kind.key) + _pick(no, k - k_yes, rng, kind.key)
        else:
            picked = _pick(groups.get(kind.key, []), k, rng, kind.key)
        for question, slot in picked:
            slot = _resolve_answer(slot, rng)
            made.append(
                Text(
                    question,
                    _finish_answer(slot, rng),
                    kind.application,
                    kind.subtype,
                    slot.answer_type,
                    bbox=slot.bbox,
                )
            )
    rng.shuffle(made)
    return made


# -------------------------------------------------------------------------------------- captions

CONCISE_CAPACITY = 10
DETAILED_CAPACITY = 8


def _caption_facts(scene: Scene, place: str) -> dict[str, object]:
    counts = Counter(t.category for t in scene.targets)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    profile = PROFILES[scene.land_cover]
    largest = superlative(scene.targets, "largest")
    cell = cell_of(*largest.center, scene.width, scene.height)
    return {
        "place": place,
        "art_scene": scene_phrase(profile.scene),
        "lc": scene.land_cover.lower(),
        "counts": [number_phrase(n, c) for c, n in ordered],
        "largest": f"The largest object, {article(largest.category)}, lies {CELL_PLACES[cell]}",
        "bright": _brightest_category(scene),
        "grounds": sorted(
            {SURFACE_NAMES[g].lower() for g in _grounds(scene) if g not in ("water", "road")} or {"open ground"}
        ),
    }


def _concise_parts(scene: Scene, facts: dict) -> tuple[list[str], list[str]]:
    place, art_scene = facts["place"], facts["art_scene"]
    subjects = [
        f"{_sentence_case(art_scene)} in {place}",
        f"SAR image of {art_scene}",
        f"An overhead radar view of {art_scene}",
        f"{_sentence_case(article(facts['lc']))} scene near {place}",
        f"A high-resolution SAR image of {art_scene} in {place}",
    ]
    manmade = any(t.category in ("building", "storage tank", "bridge") for t in scene.targets)
    attributes = [
        "",
        f"with {facts['counts'][0]}",
        "with bright man-made structures" if manmade else "with a few bright targets",
        f"with {number_phrase(len(scene.targets), 'visible object')}",
    ]
    if len(facts["counts"]) > 1:
        attributes.append(f"with {facts['counts'][0]} and {facts['counts'][1]}")
    if scene.roads:
        attributes.append(f"crossed by a road running {road_orientation(scene.roads[0].angle)}")
    if scene.has_water:
        attributes.append("next to a water body")
    if scene.count("building") >= 3:
        attributes.append(
            {
                "regular grid": "with buildings in a regular grid",
                "in rows": "with buildings in rows",
                "clustered": "with clustered buildings",
                "scattered": "with scattered buildings",
            }[scene.pattern]
        )
    return subjects, attributes


def _detailed_parts(scene: Scene, facts: dict) -> tuple[list[str], list[str]]:
    place, art_scene = facts["place"], facts["art_scene"]
    openers = [
        f"This SAR image shows {art_scene} in {place}.",
        f"The image is a high-resolution SAR scene of {art_scene} near {place}.",
        f"This radar image covers {art_scene} in {place}.",
        f"{_sentence_case(article(facts['lc']))} area in {place} is shown in this SAR image.",
    ]
    counts = facts["counts"]
    verb = "is" if counts[0].startswith("one ") else "are"
    body = [
        f"There {verb} {joined(counts)} in the scene.",
        f"The {bright} appears as a bright spot because it reflects the radar signal strongly."
        if scene.count(bright := facts["bright"]) == 1
        else f"The {plural(bright)} appear as bright spots because they reflect the radar signal strongly.",
        f"The background consists of {joined(facts['grounds'])} with varying backscatter.",
        facts["largest"] + ".",
    ]
    if scene.count("building") >= 3:
        body.append(
            {
                "regular grid": "The buildings are arranged in a regular grid.",
                "in rows": "The buildings stand in rows.",
                "clustered": "The buildings are clustered together.",
                "scattered": "The buildings are scattered across the image.",
            }[scene.pattern]
        )
    if scene.roads:
        direction = road_orientation(scene.roads[0].angle).replace("-", " to ")
        body.append(
            f"A road runs {direction} through the image."
            if len(scene.roads) == 1
            else f"{number_phrase(len(scene.roads), 'road').capitalize()} cross the scene."
        )
    if (water := _water_cell(scene)) is not None:
        body.append(f"A dark water body lies {CELL_PLACES[water]}.")
    return openers, body


def captions(scene: Scene, place: str, concise: int, detailed: int, rng: random.Random) -> list[Text]:
    """`concise` one-sentence and `detailed` 2-4-sentence distinct captions of a SARVQA2 scene, shuffled."""
    if concise > CONCISE_CAPACITY or detailed > DETAILED_CAPACITY:
        raise ValueError(f"at most {CONCISE_CAPACITY} concise and {DETAILED_CAPACITY} detailed captions per image")
    facts = _caption_facts(scene, place)
    subjects, attributes = _concise_parts(scene, facts)
    made = []
    for index in rng.sample(range(len(subjects) * len(attributes)), concise):
        subject, attribute = subjects[index // len(attributes)], attributes[index % len(attributes)]
        text = f"{subject} {attribute}".strip() + "."
        made.append(Text(None, text, "image_description", answer_type="free_text", style="concise"))
    openers, body = _detailed_parts(scene, facts)
    seen: set[tuple] = set()
    while len(seen) < detailed:
        chosen = (rng.randrange(len(openers)), tuple(sorted(rng.sample(range(len(body)), rng.randint(1, 3)))))
        if chosen in seen:
            continue
        seen.add(chosen)
        text = " ".join([openers[chosen[0]], *(body[i] for i in chosen[1])])
        made.append(Text(None, text, "image_description", answer_type="free_text", style="detailed"))
    rng.shuffle(made)
    return made
