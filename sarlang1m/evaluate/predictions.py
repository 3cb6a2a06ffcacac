"""Predictions to evaluate, and everything that can be wrong with them.

A prediction file is JSONL with one object per line holding `id` (the question's or the caption's
id in the release) and `prediction` (the model's text). Nothing is dropped silently: malformed lines,
repeated ids, ids the release does not know and references without a prediction are all collected
as `Problems`, with line numbers, so that a score is never computed on an unnoticed subset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from ..errors import InputError, NotFoundError

#: How many examples of each problem the text table lists (the JSON lists them all).
TABLE_EXAMPLES = 5
#: What a prediction file must hold, for error messages.
EXPECTED_FORMAT = 'expected JSON Lines in UTF-8, one {"id": ..., "prediction": ...} object per line'
#: The global ids of a release's texts (`schema.text_id`): the image id, a hyphen, then the id stored in the
#: row, q (question) or c (caption) and a hash (`staging.text_id`).
_LOCAL_ID = r"(?P<kind>[qc])[0-9a-f]{10}"
_TEXT_ID = re.compile(rf"-{_LOCAL_ID}$")
#: An id as a row stores it, without its image id: unique only within the image.
_LOCAL_TEXT_ID = re.compile(rf"^{_LOCAL_ID}$")


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

    def warning(self, references: int, unit: str, missing_effect: str) -> str | None:
        """One line for stderr when predictions and references do not line up (None when they do)."""
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} of {references} {unit}s have no prediction ({missing_effect})")
        for count, what in (
            (len(self.malformed), "malformed line(s) skipped"),
            (len(self.duplicates), "duplicate id(s)"),
            (len(self.unknown), "unknown id(s) not scored"),
        ):
            if count:
                parts.append(f"{count} {what}")
        return "; ".join(parts) + "; see the problems in the report" if parts else None

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
    for name in ("id", "prediction"):
        if name not in record:
            keys = ", ".join(repr(str(key)) for key in list(record)[:TABLE_EXAMPLES])
            return f"missing field {name!r}" + (f" (it has {keys})" if keys else " (an empty object)")
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
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")  # a BOM some editors write
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


def _looks_like(path: Path) -> str | None:
    """What a file that is not JSON Lines seems to be, from its first bytes: "json-array", "csv" or None."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first == b"[":
        return "json-array"
    if path.suffix.lower() in (".csv", ".tsv") or (first not in (b"{", b"") and b"," in head.split(b"\n")[0]):
        return "csv"
    return None


def require_predictions(predictions: Predictions) -> None:
    """Refuse a prediction set with no usable prediction at all: no score can mean anything.

    Raised before the release is read, so a wrong file fails at once, saying what it seems to be.
    A file that opens with a JSON array is refused even if a line of it happens to parse.
    """
    origin = predictions.origin
    path = Path(origin)
    seems = _looks_like(path) if path.is_file() else None
    if seems == "json-array":
        raise InputError(
            f"{origin}: no usable prediction: it is a JSON array, not JSON Lines; write one "
            f"""{{"id": ..., "prediction": ...}} object per line, e.g. `jq -c '.[]' {origin} > predictions.jsonl`"""
        )
    if predictions.texts:
        return
    if not predictions.malformed:
        what = "the file is empty" if path.is_file() else "none was given"
        raise InputError(f"{origin}: no predictions: {what}; {EXPECTED_FORMAT}")
    lines, first = len(predictions.malformed), predictions.malformed[0]
    if all(m.reason.startswith("not UTF-8") for m in predictions.malformed):
        why = f"it is not UTF-8 text (line {first.line}: {first.reason})"
    elif seems == "csv":
        why = "it looks like CSV, not JSON Lines"
    else:
        why = f"none of its {lines} line(s) is a prediction (line {first.line}: {first.reason})"
    raise InputError(f"{origin}: no usable prediction: {why}; {EXPECTED_FORMAT}")


def require_overlap(predictions: Predictions, reference_ids: Sequence[str], *, task: str, scope: str) -> None:
    """Refuse predictions none of whose ids is a reference: they were made for other texts.

    `task` is ``"vqa"`` or ``"captions"``; `scope` says what the references are (release, config, split).
    Some ids matching is partial coverage: a warning and the report, not an error.
    """
    if not predictions.texts or not reference_ids:
        return
    known = set(reference_ids)
    if any(example_id in known for example_id in predictions.texts):
        return
    unit = "question" if task == "vqa" else "caption"
    ids = list(predictions.texts)
    examples = ", ".join(repr(i) for i in ids[:3]) + (", ..." if len(ids) > 3 else "")
    kinds = {match["kind"] for i in ids if (match := _TEXT_ID.search(i))}
    column = "qa" if task == "vqa" else "captions"
    if all(_LOCAL_TEXT_ID.match(i) for i in ids):
        hint = (
            f"these are ids as a row stores them in `{column}.id`, unique only within an image: key predictions"
            " by the global id <image_id>-<id>, the `id` that `sarlang1m.pairs` and `sarlang1m export` give"
        )
    elif task == "captions" and kinds == {"q"}:
        hint = "these are question ids: score VQA predictions with `sarlang1m evaluate vqa`"
    elif task == "vqa" and kinds == {"c"}:
        hint = "these are caption ids: score captions with `sarlang1m evaluate captions`"
    else:
        hint = (
            f"ids are <image_id>-<id>, the image's id and the `id` of each {unit} in the release's `{column}`"
            " column; check --release, --config, --split"
        )
    raise InputError(
        f"{predictions.origin}: none of its {len(ids)} prediction id(s) is a {unit} of {scope} ({examples}); {hint}"
    )


#: What a question or image without a prediction counts as: wrong (or an empty caption), or left out.
MissingPolicy = Literal["wrong", "skip"]
MISSING_POLICIES: tuple[MissingPolicy, ...] = get_args(MissingPolicy)


def check_missing_policy(missing: str) -> None:
    if missing not in MISSING_POLICIES:
        raise InputError(f"unknown missing-prediction policy {missing!r}; expected one of {MISSING_POLICIES}")
