"""Questions about a scene, every answer computed from the scene the pixels are rendered from.

SARVQA1 questions come from the COCO boxes (classes `schema.SARVQA1_CLASSES`, positions
`schema.SARVQA1_POSITIONS`); SARVQA2 questions from the scene's land cover, surfaces and targets. Each
kind's templates (`templates`) are paired with the slots this scene offers, and the asked number of
distinct (template, slot) pairs is drawn from them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence

from .. import schema
from .plan import KINDS
from .scene_model import PROFILES, SARVQA2_TARGETS, SURFACE_NAMES, Scene, Target
from .templates import (
    CLASS1,
    CLASS1_COMMON,
    CLASS2_OBJECT,
    CLASS2_SCENE,
    CLASS2_SURFACE,
    COUNT,
    COUNT1_PART,
    DIRECTION,
    IDENT1,
    IDENT2,
    LAND_COVER2,
    PATTERN2,
    PLURAL_EXTRA,
    POSITION1,
    POSITION2,
    PRESENCE2,
    REGION1,
    ROAD2,
    SHAPE2,
    Group,
    Slot,
)
from .wording import (
    CELL_NAMES,
    CELL_PHRASES,
    SUPERLATIVES,
    Text,
    article,
    box_text,
    brightest_category,
    cell_of,
    compass_of,
    plural,
    road_orientation,
    sarvqa1_position,
    scene_phrase,
    sentence_case,
    shape_of,
    side_of,
    superlative,
)

#: Share of short answers written with their final period ("answers often end with a period").
PERIOD_SHARE = 0.9


def _finish_answer(slot: Slot, rng: random.Random) -> str:
    answer = sentence_case(slot.answer)
    if slot.sentence or rng.random() < PERIOD_SHARE:
        return answer + "."
    return answer


# --------------------------------------------------------------------------------- SARVQA1 slots


def _sup_phrases(targets: Sequence[Target]) -> list[tuple[str, Target]]:
    return [(f"the {which} object", superlative(targets, which)) for which in SUPERLATIVES]


def _target_phrases(targets: Sequence[Target], counts: Counter[str]) -> list[tuple[str, Target]]:
    """The phrases naming one target: each superlative, then "the <class>" of a class seen once."""
    return _sup_phrases(targets) + [(f"the {t.category}", t) for t in targets if counts[t.category] == 1]


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
    phrases = _target_phrases(targets, counts)
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


def _reasons(scene: Scene) -> list[Slot]:
    """Reasoning questions with their answers; the first `ALWAYS_REASONS2` apply to every scene."""
    reasons = _reasons_of_every_scene(scene)
    reasons += [(question, answer) for applies, question, answer in _REASONS_IF_SEEN if applies(scene)]
    return [Slot({"question": q}, a, "free_text", sentence=True) for q, a in reasons]


def _human_activity(scene: Scene) -> str:
    buildings = scene.count("building")
    activity = buildings + scene.count("car") + len(scene.roads)
    if activity >= 6:
        return "There is intense human activity, as shown by many buildings, vehicles and roads"
    if buildings or scene.roads:
        return "There is some human activity: a few man-made structures are visible"
    return "There is little human activity; the area is mostly natural"


def _population_density(scene: Scene) -> str:
    buildings = scene.count("building")
    if buildings >= 8:
        return "It is likely densely populated, given the many buildings"
    if buildings >= 3:
        return "It is likely moderately populated, with a few groups of buildings"
    return "It is likely sparsely populated, with few buildings"


def _reasons_of_every_scene(scene: Scene) -> list[tuple[str, str]]:
    """The `ALWAYS_REASONS2` (question, answer) pairs every SARVQA2 scene offers."""
    profile = PROFILES[scene.land_cover]
    human, density = _human_activity(scene), _population_density(scene)
    bright = brightest_category(scene)
    return [
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


#: Reasoning questions asked only about a scene that shows what they ask about: (applies, question, answer).
_REASONS_IF_SEEN: tuple[tuple[Callable[[Scene], bool], str, str], ...] = (
    (
        lambda s: s.has_water,
        "Why does the water surface appear dark in this SAR image?",
        "Because the smooth water surface reflects the radar pulse away from the sensor",
    ),
    (
        lambda s: bool(s.roads),
        "Why do the roads appear as dark lines?",
        "Because smooth asphalt scatters little energy back",
    ),
    (
        lambda s: s.count("building") > 0,
        "What explains the bright lines along the building walls?",
        "Double-bounce scattering between the walls and the ground",
    ),
    (
        lambda s: s.count("ship") > 0,
        "What do the bright compact targets on the water indicate?",
        "They indicate ships, whose metal hulls return strong echoes",
    ),
    (
        lambda s: s.count("storage tank") > 0,
        "What is the purpose of the circular structures in the image?",
        "They are storage tanks, most likely used to store oil or other liquids",
    ),
    (
        lambda s: s.count("car") >= 5,
        "What does the large number of cars suggest?",
        "It suggests a parking area or a busy commercial zone",
    ),
)


def _sarvqa2_groups(scene: Scene) -> dict[str, list[Group]]:
    targets, width, height = scene.targets, scene.width, scene.height
    presence = {noun: has(scene) for noun, has in PRESENCE2.items()}

    def noun_fields(noun: str) -> dict[str, str]:
        return {"a": article(noun), "pl": PLURAL_EXTRA.get(noun, plural(noun))}

    cells = CELL_NAMES

    def surface(cell: tuple[int, int]) -> str:
        x, y = (cell[1] + 0.5) * width / 3, (cell[0] + 0.5) * height / 3
        ground = scene.surface_at(x, y)
        return SURFACE_NAMES.get(ground, ground)

    def where(target: Target) -> str:
        return "@cell:" + ",".join(map(str, cell_of(*target.center, width, height)))

    counts = Counter(t.category for t in targets)
    phrases = _target_phrases(targets, counts)
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
