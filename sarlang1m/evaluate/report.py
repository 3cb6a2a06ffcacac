"""Counting and presenting scores: accuracy per group, and plain-text tables.

Kept apart from the protocols so that the VQA and caption results print and serialise the same
way, and so that a breakdown is computed once from per-question outcomes rather than re-derived.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

Item = TypeVar("Item")


@dataclass(frozen=True)
class Score:
    """Correct answers out of a count; accuracy is None for an empty group rather than 0."""

    correct: int
    count: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.count if self.count else None

    def to_json(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "count": self.count, "correct": self.correct}


def tally(items: Iterable[Item], is_correct: Callable[[Item], bool]) -> Score:
    correct = count = 0
    for item in items:
        count += 1
        correct += bool(is_correct(item))
    return Score(correct, count)


def breakdown(
    items: Sequence[Item], group_of: Callable[[Item], str | None], is_correct: Callable[[Item], bool]
) -> dict[str, Score]:
    """Score per group, groups sorted by name; a None group is reported as `(none)`."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(group_of(item) or "(none)", []).append(item)
    return {name: tally(groups[name], is_correct) for name in sorted(groups)}


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A left-aligned first column and right-aligned others, separated by two spaces."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        first = str(cells[0]).ljust(widths[0])
        rest = (str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def score_rows(title: str, scores: dict[str, Score]) -> list[list[str]]:
    """A section of an accuracy table: a title row, then one indented row per group."""
    rows = [[title, "", "", ""]]
    rows += [[f"  {name}", str(s.count), str(s.correct), percent(s.accuracy)] for name, s in scores.items()]
    return rows


#: Details of the release shown in parentheses after it in a title, with their labels.
_RELEASE_DETAILS = {"release_commit": "commit", "release_version": "version"}


def meta_suffix(meta: dict[str, Any]) -> str:
    """`` [release X (commit C, version V), config Y, split Z]`` for a table title: what the score was
    computed on."""
    parts = []
    for key, value in meta.items():
        if key in _RELEASE_DETAILS:
            continue
        part = f"{key} {value}"
        if key == "release":
            details = [f"{label} {meta[k]}" for k, label in _RELEASE_DETAILS.items() if meta.get(k)]
            part += f" ({', '.join(details)})" if details else ""
        parts.append(part)
    return f" [{', '.join(parts)}]" if parts else ""


def problem_lines(problems: Sequence[str]) -> list[str]:
    """The problems section of a report: one indented line per problem, or "none"."""
    return ["problems:", *(f"  {p}" for p in problems)] if problems else ["problems: none"]
