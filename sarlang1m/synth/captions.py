"""Captions of a SARVQA2 scene: concise one-sentence and detailed 2-4-sentence descriptions.

A concise caption is a subject times an attribute, a detailed one an opener and one to three facts of
the scene (counts, bright targets, background, roads, water); each part is read off the same scene
the pixels are rendered from, and an image never gets the same caption twice (`CONCISE_CAPACITY` and
`DETAILED_CAPACITY` are what the planner may ask for).
"""

from __future__ import annotations

import random
from collections import Counter

from .scene_model import PROFILES, SURFACE_NAMES, Scene
from .wording import (
    CELL_PLACES,
    Text,
    article,
    brightest_category,
    cell_of,
    grounds,
    joined,
    number_phrase,
    plural,
    road_orientation,
    scene_phrase,
    sentence_case,
    superlative,
    water_cell,
)

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
        "bright": brightest_category(scene),
        "grounds": sorted(
            {SURFACE_NAMES[g].lower() for g in grounds(scene) if g not in ("water", "road")} or {"open ground"}
        ),
    }


def _concise_parts(scene: Scene, facts: dict) -> tuple[list[str], list[str]]:
    place, art_scene = facts["place"], facts["art_scene"]
    subjects = [
        f"{sentence_case(art_scene)} in {place}",
        f"SAR image of {art_scene}",
        f"An overhead radar view of {art_scene}",
        f"{sentence_case(article(facts['lc']))} scene near {place}",
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
        f"{sentence_case(article(facts['lc']))} area in {place} is shown in this SAR image.",
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
    if (water := water_cell(scene)) is not None:
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
