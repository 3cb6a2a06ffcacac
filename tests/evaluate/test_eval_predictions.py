"""Reading prediction files: nothing is dropped without being reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from sarlang1m.evaluate import read_predictions
from sarlang1m.evaluate.predictions import Duplicate, Malformed, match_ids


def test_bad_lines_are_listed_with_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(
        b'{"id": "a", "prediction": "yes"}\n'
        b"\n"
        b'{"id": "b", "prediction": "\xff"}\n'  # not UTF-8
        b'{"id": "c", "prediction": null}\n'
        b'{"id": "", "prediction": "x"}\n'
        b'"just a string"\n'
        b'{"id": "a", "prediction": "no"}\n'
        b'{"id": "d", "prediction": "2", "question": "extra keys are fine"}'  # no final newline
    )
    found = read_predictions(path)
    assert found.texts == {"a": "yes", "d": "2"}
    assert found.lines == {"a": 1, "d": 8}
    assert [m.line for m in found.malformed] == [3, 4, 5, 6]
    assert "not UTF-8" in found.malformed[0].reason
    assert "'prediction' of id 'c' must be a string, got NoneType" in found.malformed[1].reason
    assert "non-empty string" in found.malformed[2].reason
    assert "got str" in found.malformed[3].reason
    assert found.duplicates == [Duplicate("a", 1, (7,))]


def test_records_are_numbered_from_one() -> None:
    found = read_predictions([{"id": "a", "prediction": "x"}, {"prediction": "y"}])
    assert found.malformed == [Malformed(2, "missing field 'id'")]


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"absent\.jsonl"):
        read_predictions(tmp_path / "absent.jsonl")


def test_unknown_and_missing_ids_follow_reference_order() -> None:
    found = read_predictions([{"id": "z", "prediction": "1"}, {"id": "b", "prediction": "2"}])
    problems = match_ids(found, ["c", "b", "a"])
    assert [(u.id, u.line) for u in problems.unknown] == [("z", 1)]
    assert problems.missing == ("c", "a")
    assert not problems.clean
    assert match_ids(found, ["z", "b"]).clean
