"""Predictions to evaluate, and everything that can be wrong with them.

A prediction file is JSONL with one object per line holding `id` (the question's or the caption's
id in the release) and `prediction` (the model's text). Nothing is dropped silently: malformed lines,
repeated ids, ids the release does not know and references without a prediction are all collected
as `Problems`, with line numbers, so that a score is never computed on an unnoticed subset.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NotFoundError

#: How many examples of each problem the text table lists (the JSON lists them all).
TABLE_EXAMPLES = 5


@dataclass(frozen=True)
class Malformed:
    """A line that is not a usable prediction (1-based line number, or item number for an iterable)."""

    line: int
    reason: str


@dataclass(frozen=True)
class Duplicate:
    """An id predicted more than once: the first line is kept, the later ones are ignored."""

    id: str
    kept_line: int
    ignored_lines: tuple[int, ...]


@dataclass(frozen=True)
class UnknownId:
    """A prediction whose id is not a reference of the evaluated release, config and split."""

    id: str
    line: int


@dataclass
class Predictions:
    """Usable predictions by id, with the line each came from and what had to be set aside."""

    origin: str
    texts: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)


@dataclass(frozen=True)
class Problems:
    """What did not line up between predictions and references; reported with every score."""

    malformed: tuple[Malformed, ...] = ()
    duplicates: tuple[Duplicate, ...] = ()
    unknown: tuple[UnknownId, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not (self.malformed or self.duplicates or self.unknown or self.missing)

    def counts(self) -> dict[str, int]:
        return {
            "malformed_lines": len(self.malformed),
            "duplicate_ids": len(self.duplicates),
            "unknown_ids": len(self.unknown),
            "missing_predictions": len(self.missing),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "malformed_lines": [{"line": m.line, "reason": m.reason} for m in self.malformed],
            "duplicate_ids": [
                {"id": d.id, "kept_line": d.kept_line, "ignored_lines": list(d.ignored_lines)} for d in self.duplicates
            ],
            "unknown_ids": [{"id": u.id, "line": u.line} for u in self.unknown],
            "missing_predictions": list(self.missing),
        }

    def describe(self, missing_effect: str) -> list[str]:
        """One line per kind of problem, with a few examples, for the text report.

        `missing_effect` says what happened to references without a prediction ("counted wrong").
        """
        lines: list[str] = []

        def examples(items: Sequence[str]) -> str:
            shown = ", ".join(items[:TABLE_EXAMPLES])
            more = len(items) - TABLE_EXAMPLES
            return shown + (f", ... ({more} more)" if more > 0 else "")

        if self.malformed:
            lines.append(
                f"{len(self.malformed)} malformed line(s), skipped: "
                + examples([f"line {m.line}: {m.reason}" for m in self.malformed])
            )
        if self.duplicates:
            lines.append(
                f"{len(self.duplicates)} duplicate id(s), first kept: "
                + examples(
                    [
                        f"{d.id!r} (kept line {d.kept_line}, ignored {', '.join(map(str, d.ignored_lines))})"
                        for d in self.duplicates
                    ]
                )
            )
        if self.unknown:
            lines.append(
                f"{len(self.unknown)} unknown id(s), not scored: "
                + examples([f"{u.id!r} (line {u.line})" for u in self.unknown])
            )
        if self.missing:
            lines.append(
                f"{len(self.missing)} reference(s) without a prediction, {missing_effect}: "
                + examples([repr(i) for i in self.missing])
            )
        return lines


def _parse_record(record: Any) -> tuple[str, str] | str:
    """(id, prediction) from one decoded record, or the reason it is unusable."""
    if not isinstance(record, Mapping):
        return f"expected a JSON object, got {type(record).__name__}"
    if "id" not in record:
        return "missing field 'id'"
    if "prediction" not in record:
        return "missing field 'prediction'"
    example_id, text = record["id"], record["prediction"]
    if not isinstance(example_id, str) or not example_id:
        return f"field 'id' must be a non-empty string, got {example_id!r}"
    if not isinstance(text, str):
        return f"field 'prediction' of id {example_id!r} must be a string, got {type(text).__name__}"
    return example_id, text


def _jsonl_records(path: Path) -> Iterable[tuple[int, Any]]:
    """(line number, decoded record or Malformed) for every non-blank line of a JSONL file."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                yield number, Malformed(number, f"not UTF-8 ({error.reason} at byte {error.start})")
                continue
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                yield number, Malformed(number, f"invalid JSON ({error.msg} at column {error.colno})")


def read_predictions(source: str | Path | Iterable[Mapping[str, Any]]) -> Predictions:
    """Read predictions from a JSONL file or from an iterable of {id, prediction} records.

    Blank lines are skipped. For an iterable, "line" means the 1-based position of the record.
    A repeated id keeps its first prediction and lists the later lines as a `Duplicate`.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise NotFoundError(f"{path}: no such prediction file")
        origin, numbered = str(path), _jsonl_records(path)
    else:
        origin, numbered = "<records>", enumerate(source, start=1)

    predictions = Predictions(origin=origin)
    repeats: dict[str, list[int]] = {}
    for number, record in numbered:
        parsed = record if isinstance(record, Malformed) else _parse_record(record)
        if isinstance(parsed, Malformed):
            predictions.malformed.append(parsed)
        elif isinstance(parsed, str):
            predictions.malformed.append(Malformed(number, parsed))
        else:
            example_id, text = parsed
            if example_id in predictions.texts:
                repeats.setdefault(example_id, []).append(number)
            else:
                predictions.texts[example_id] = text
                predictions.lines[example_id] = number
    predictions.duplicates = [
        Duplicate(example_id, predictions.lines[example_id], tuple(later)) for example_id, later in repeats.items()
    ]
    return predictions


def match_ids(predictions: Predictions, reference_ids: Sequence[str]) -> Problems:
    """The problems of a prediction set against the ids it is meant to cover (in reference order)."""
    known = set(reference_ids)
    unknown = tuple(
        UnknownId(example_id, predictions.lines[example_id])
        for example_id in predictions.texts
        if example_id not in known
    )
    missing = tuple(example_id for example_id in reference_ids if example_id not in predictions.texts)
    return Problems(
        malformed=tuple(predictions.malformed),
        duplicates=tuple(predictions.duplicates),
        unknown=unknown,
        missing=missing,
    )


MISSING_POLICIES = ("wrong", "skip")


def check_missing_policy(missing: str) -> None:
    if missing not in MISSING_POLICIES:
        raise ValueError(f"unknown missing-prediction policy {missing!r}; expected one of {MISSING_POLICIES}")
