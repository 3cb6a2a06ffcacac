"""Derive what the release does not store: application, sub-type, answer type, box and caption style.

The authors' files hold only image, question and answer (or caption). The paper's seven applications
and its answer forms are recognised from the wording, as in the paper's examples. The rules are
ordered and documented so that a user can predict (and audit) every label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

# A box embedded in a region question: four numbers in square brackets (SARDet COCO x, y, w, h).
_BOX = re.compile(
    r"\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]"
)

_COUNTING = re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b|\bcounts? the\b|\bquantity of\b")
# "others", checked before positioning and identification: their wording is the most specific.
_OTHERS = (
    ("land_cover", re.compile(r"\bland[\s-]?(?:cover|use)\b|\blandcover\b")),
    ("shape", re.compile(r"\bshape[sd]?\b|\bgeometr(?:y|ic)\b")),
    ("direction", re.compile(r"\bdirections?\b|\borient(?:ed|ation)\b|\bfacing\b|\bheading\b|\baligned\b")),
    ("pattern", re.compile(r"\bpatterns?\b|\barrange(?:d|ment)\b|\blayout\b|\bdistribution\b|\btexture\b")),
    (
        "reasoning",
        re.compile(
            r"^\s*why\b|\bwhat (?:might|could|would|can be inferred)\b|\bsuggests?\b|\bindicates?\b|\binfer"
            r"|\bpurpose\b|\breason\b|\bexplain|\bhow might\b|\bmost likely\b|\bwhat is likely\b"
        ),
    ),
)
_POSITIONING = re.compile(
    r"^\s*where\b|\bwhere (?:is|are)\b|\blocated\b|\blocation of\b|\bposition(?:ed)?\b"
    r"|\bwhich (?:part|side|region|area|corner|quadrant)\b|\bin which (?:part|side|region|area|corner)\b"
)
_POLAR = re.compile(r"^\s*(?:is|are|does|do|can|could|has|have|was|were|will|would)\b")
_CLASSIFICATION = re.compile(
    r"\bwhat (?:type|kind|sort|class|category|categories)\b|\bwhich (?:type|kind|class|category)\b"
    r"|\bclassify\b|\bwhat (?:is|are) (?:the )?(?:main |primary |dominant |largest |biggest )?"
    r"(?:objects?|targets?|things?|structures?)\b|\bwhat (?:is|are) (?:shown|visible|present|in)\b"
    r"|\bidentify the (?:type|class|category)\b"
)

_YES_NO = {"yes", "no"}
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_POSITION_WORDS = set(
    "top bottom left right center centre middle central upper lower near the of image in at corner edge side "
    "sides part region area north south east west northern southern eastern western and or between".split()
)


def normalize_answer(answer: str) -> str:
    """Lower-case, trimmed, without the trailing period most answers carry."""
    return answer.strip().lower().rstrip(".!?;,").strip()


def parse_bbox(question: str) -> list[float] | None:
    """The box a region question embeds, as [x, y, w, h] (the numbers as written)."""
    match = _BOX.search(question)
    return [float(v) for v in match.groups()] if match else None


@lru_cache(maxsize=1 << 16)  # question templates repeat across images: most calls are hits
def classify_question(question: str, answer: str) -> tuple[str, str | None]:
    """(application, sub-type of `others` or None), from the wording of the question.

    Rules, first match wins: a box in brackets -> region_referring; "how many"/"number of" ->
    instance_counting; land cover / shape / direction / pattern / reasoning words -> others with that
    sub-type; "where"/"located"/"which part" -> object_positioning; a polar question answered yes/no ->
    object_identification; "what type/kind/class" -> object_classification. Otherwise the answer decides:
    yes/no -> identification, a number -> counting, a position phrase -> positioning, a short
    phrase -> classification, anything else -> others without a sub-type.
    """
    q = question.lower()
    if _BOX.search(question):
        return "region_referring", None
    if _COUNTING.search(q):
        return "instance_counting", None
    for subtype, pattern in _OTHERS:
        if pattern.search(q):
            return "others", subtype
    if _POSITIONING.search(q):
        return "object_positioning", None
    norm = normalize_answer(answer)
    if norm in _YES_NO and _POLAR.search(q):
        return "object_identification", None
    if _CLASSIFICATION.search(q):
        return "object_classification", None
    if norm in _YES_NO:
        return "object_identification", None
    if _is_number(norm):
        return "instance_counting", None
    if _is_position(norm):
        return "object_positioning", None
    if 0 < len(norm.split()) <= 4:
        return "object_classification", None
    return "others", None


@lru_cache(maxsize=1 << 16)
def answer_type(answer: str, application: str, subtype: str | None = None) -> str:
    """yes_no, number, position, category or free_text, from the answer (and its application)."""
    norm = normalize_answer(answer)
    if norm in _YES_NO:
        return "yes_no"
    if _is_number(norm):
        return "number"
    words = norm.split()
    if application == "object_positioning" and (_is_position(norm) or len(words) <= 4):
        return "position"
    if subtype == "direction" and _is_position(norm):
        return "position"
    # "others" answers are mostly sentences; only their one-to-three-word answers are categories.
    if 0 < len(words) <= (3 if application == "others" else 4):
        return "category"
    return "free_text"


def question_answer_type(question: Mapping[str, Any]) -> str | None:
    """`answer_type` of one question record (its ``answer``, ``application`` and ``subtype``); None without an
    answer or an application. Releases do not store it (format 4): pairs derive it here."""
    answer, application = question.get("answer"), question.get("application")
    if answer is None or application is None:
        return None
    return answer_type(answer, application, question.get("subtype"))


def caption_style(text: str) -> str:
    """concise or detailed, for files that mix both: two or more sentences, or 25+ words, is detailed."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
    return "detailed" if len(sentences) >= 2 or len(text.split()) >= 25 else "concise"


def _is_number(norm: str) -> bool:
    return bool(_NUMBER.match(norm)) or norm in _NUMBER_WORDS


def _is_position(norm: str) -> bool:
    words = re.findall(r"[a-z]+", norm)
    return bool(words) and all(w in _POSITION_WORDS for w in words)
