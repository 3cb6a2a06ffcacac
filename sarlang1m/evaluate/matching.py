"""Comparing answers as words: the building blocks of the `strict` protocol and of the offline judge.

Kept apart from the protocols and the judges because both use them: the offline judge decides an
open answer with the same word-level rule the `strict` protocol applies before asking a judge.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}


@dataclass(frozen=True)
class Decision:
    """What a string rule concludes; `correct` is None when the judge has to decide."""

    correct: bool | None
    rule: str


def words(text: str) -> list[str]:
    """Lower-cased runs of letters and digits (Unicode NFKC): punctuation and spacing do not count."""
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower())


def normalize_answer(text: str) -> str:
    """An answer without case, surrounding blanks or trailing punctuation: "Yes." and " yes" give "yes"."""
    text = unicodedata.normalize("NFKC", text).lower().strip()
    end = len(text)
    while end and (text[end - 1].isspace() or unicodedata.category(text[end - 1]).startswith("P")):
        end -= 1
    return text[:end]


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def contains_phrase(haystack: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether `phrase` occurs in `haystack` as consecutive whole words (empty phrase: only in empty)."""
    if not phrase:
        return not haystack
    size = len(phrase)
    return any(list(haystack[i : i + size]) == list(phrase) for i in range(len(haystack) - size + 1))


def strict_decision(ground_truth: str, predicted: str) -> Decision:
    """Word-level matching: "2" does not match "12", and "yes and no" answers nothing.

    A yes/no or whole-number ground truth is right only if the prediction commits to exactly that
    one yes/no or number; any other is right if its words occur consecutively in the prediction,
    else undecided (the judge's turn).
    """
    truth, prediction = words(ground_truth), words(predicted)
    if truth in (["yes"], ["no"]):
        said = {w for w in prediction if w in ("yes", "no")}
        return Decision(said == set(truth), "closed")
    if len(truth) == 1 and (value := _number(truth[0])) is not None:
        said_numbers = {n for w in prediction if (n := _number(w)) is not None}
        return Decision(said_numbers == {value}, "closed")
    if contains_phrase(prediction, truth):
        return Decision(True, "phrase")
    return Decision(None, "judge")
