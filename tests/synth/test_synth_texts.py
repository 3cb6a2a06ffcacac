"""Questions and captions read off synthetic scenes: answers re-derived here from the boxes and the scene."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from sarlang1m import schema
from sarlang1m.synth.captions import captions
from sarlang1m.synth.placement import make_sardet_scene, make_sarvqa2_scene
from sarlang1m.synth.plan import KINDS
from sarlang1m.synth.questions import questions
from sarlang1m.synth.templates import question_capacity

_BOX = re.compile(r"\[([\d.]+), ([\d.]+), ([\d.]+), ([\d.]+)\]")
_PLURAL = {
    "tank": "tanks",
    "car": "cars",
    "aircraft": "aircraft",
    "harbor": "harbors",
    "bridge": "bridges",
    "ship": "ships",
}
_SUPERLATIVE_KEYS = {
    "largest": lambda t: t.w * t.h,
    "smallest": lambda t: -t.w * t.h,
    "leftmost": lambda t: -(2 * t.x + t.w),
    "rightmost": lambda t: 2 * t.x + t.w,
    "topmost": lambda t: -(2 * t.y + t.h),
    "bottommost": lambda t: 2 * t.y + t.h,
}


def _norm(answer: str) -> str:
    return answer.lower().rstrip(".")


def _position(t, width, height) -> str:
    """The documented SARVQA1 rule, written independently: center third, else the dominant offset."""
    dx, dy = (t.x + t.w / 2) / width - 0.5, (t.y + t.h / 2) / height - 0.5
    if abs(dx) < 1 / 6 and abs(dy) < 1 / 6:
        return "center"
    if abs(dx) >= abs(dy):
        return "left" if dx < 0 else "right"
    return "top" if dy < 0 else "bottom"


def _class_in(question: str) -> str | None:
    found = [c for c in schema.SARVQA1_CLASSES if re.search(rf"\b({c}|{_PLURAL[c]})\b", question)]
    return found[0] if len(found) == 1 else None


def _object_of(phrase: str, targets):
    """The target a phrase such as 'the largest object' or 'the ship' names."""
    for word, key in _SUPERLATIVE_KEYS.items():
        if f"the {word} object" in phrase:
            return max(targets, key=key)
    category = _class_in(phrase)
    matching = [t for t in targets if t.category == category]
    assert len(matching) == 1, phrase
    return matching[0]


def _sardet_cases(count: int):
    for i in range(count):
        rng = random.Random(i)
        scene = make_sardet_scene(random.Random(f"q{i}"), rng.randint(40, 120), rng.randint(40, 120), rng.randint(1, 6))
        capacity = question_capacity("sarvqa1", len(scene.targets))
        yield scene, questions(scene, "sarvqa1", capacity, random.Random(i))


def test_sarvqa1_answers_agree_with_the_boxes():
    checked = 0
    for scene, made in _sardet_cases(60):
        targets, width, height = scene.targets, scene.width, scene.height
        for text in made:
            q, answer = text.question, _norm(text.answer)
            if text.application == "region_referring":
                box = tuple(int(float(v)) for v in _BOX.search(q).groups())
                assert text.bbox == box
                assert answer in {t.category for t in targets if t.box == box}
            elif text.application == "object_identification":
                assert answer == ("yes" if any(t.category == _class_in(q) for t in targets) else "no")
            elif text.application == "instance_counting":
                if (category := _class_in(q)) is not None:
                    expected = sum(t.category == category for t in targets)
                else:
                    part = re.search(r"in the (\w+) (?:part|region)", q).group(1)
                    expected = sum(_position(t, width, height) == part for t in targets)
                assert answer == str(expected), q
            elif text.application == "object_classification":
                if "most common" in q or "most often" in q:
                    counts = {c: sum(t.category == c for t in targets) for c in schema.SARVQA1_CLASSES}
                    assert counts[answer] == max(counts.values())
                else:
                    word = next(w for w in _SUPERLATIVE_KEYS if f"the {w} " in q)
                    assert answer == max(targets, key=_SUPERLATIVE_KEYS[word]).category, q
            elif text.application == "object_positioning":
                phrase = re.search(r"(the [\w ]+?)(?: located| be found|\?)", q).group(1)
                assert answer == _position(_object_of(phrase, targets), width, height), q
            else:
                assert text.subtype == "direction"
                a_phrase, b_phrase = sorted(re.findall(r"the \w+ object", q), key=q.index)
                a, b = _object_of(a_phrase, targets), _object_of(b_phrase, targets)
                if q.startswith("Relative to"):
                    a, b = b, a
                dx, dy = (2 * a.x + a.w) - (2 * b.x + b.w), (2 * a.y + a.h) - (2 * b.y + b.h)
                expected = ("right" if dx > 0 else "left") if abs(dx) >= abs(dy) else ("bottom" if dy > 0 else "top")
                assert answer == expected, q
            checked += 1
    assert checked > 5_000


def test_sarvqa1_uses_only_its_closed_vocabularies():
    vocabulary = set(schema.SARVQA1_CLASSES) | set(schema.SARVQA1_POSITIONS) | {"yes", "no"}
    for _, made in _sardet_cases(30):
        for text in made:
            assert _norm(text.answer) in vocabulary or _norm(text.answer).isdigit(), text


def test_questions_are_distinct_and_as_many_as_asked_per_kind():
    for i in range(30):
        scene = make_sarvqa2_scene(random.Random(f"d{i}"), 64, 64, 2)
        asked = question_capacity("sarvqa2", len(scene.targets))
        made = questions(scene, "sarvqa2", asked, random.Random(i))
        assert len({t.question for t in made}) == len(made) == sum(asked)
        for kind, n in zip(KINDS, asked, strict=True):
            assert sum(t.application == kind.application and t.subtype == kind.subtype for t in made) == n


def test_asking_more_than_an_image_offers_fails_clearly():
    scene = make_sardet_scene(random.Random(1), 64, 64, 1)
    too_many = question_capacity("sarvqa1", 1)
    too_many[[k.key for k in KINDS].index("region_referring")] += 1
    with pytest.raises(ValueError, match="region_referring: 9 questions asked but only 8"):
        questions(scene, "sarvqa1", too_many, random.Random(0))


def test_sarvqa2_answers_agree_with_the_scene():
    checked = Counter()
    for i in range(40):
        scene = make_sarvqa2_scene(random.Random(f"e{i}"), 64, 64, 2)
        made = questions(scene, "sarvqa2", question_capacity("sarvqa2", len(scene.targets)), random.Random(i))
        for text in made:
            answer = _norm(text.answer)
            if text.subtype == "land_cover":
                assert answer == scene.land_cover.lower()
                checked["land_cover"] += 1
            elif text.application == "instance_counting":
                noun = re.search(r"(?:How many|number of|Count the) ([\w ]+?)s (?:are|can|in|does)", text.question)
                assert answer == str(scene.count(noun.group(1))), text.question
                checked["counting"] += 1
            elif text.application == "object_identification" and (
                m := re.search(r"\b(buildings?|cars?|ships?|storage tanks?|bridges?)\b", text.question)
            ):
                assert answer == ("yes" if scene.count(m.group(1).rstrip("s")) else "no"), text.question
                checked["identification"] += 1
            elif text.application == "object_positioning":
                assert text.answer_type == "position"
                assert answer in {"top left", "upper left", "top center", "upper middle", "top", "top right",
                                  "upper right", "center left", "left side", "near center", "center", "middle",
                                  "center right", "right side", "bottom left", "lower left", "bottom center",
                                  "lower middle", "bottom", "bottom right", "lower right"}  # fmt: skip
                checked["positioning"] += 1
    assert len(checked) == 4 and min(checked.values()) > 0, checked  # every kind was checked


def test_captions_have_their_style_and_are_distinct():
    for i in range(40):
        scene = make_sarvqa2_scene(random.Random(f"c{i}"), 64, 64, 2)
        made = captions(scene, "Nice, France", 8, 6, random.Random(i))
        assert len({c.answer for c in made}) == 14
        for caption in made:
            sentences = re.split(r"(?<=\.)\s+", caption.answer)
            if caption.style == "concise":
                assert len(sentences) == 1 and len(caption.answer.split()) < 25
            else:
                assert caption.style == "detailed" and 2 <= len(sentences) <= 4
            assert caption.question is None and caption.application == "image_description"
    with pytest.raises(ValueError, match="at most"):
        captions(scene, "Nice, France", 11, 1, random.Random(0))
