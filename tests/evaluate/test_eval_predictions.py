"""Reading prediction files: nothing is dropped without being reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from sarlang1m.errors import InputError
from sarlang1m.evaluate import evaluate_captions, evaluate_vqa, load_vqa_references, read_predictions
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
    assert found.malformed == [Malformed(2, "missing field 'id' (it has 'prediction')")]


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


# ---------------------------------------------------------------------------------------------
# No usable prediction: an error saying why, before any score (partial coverage is only reported)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


VQA_LINE = b'{"id": "0000001-q1", "prediction": "yes"}\n'
UNUSABLE = {
    "empty.jsonl": (b"", "no predictions: the file is empty"),
    "blank.jsonl": (b"\n  \n", "no predictions: the file is empty"),
    "latin1.jsonl": ('{"id": "q1", "prediction": "oui, très"}\n'.encode("latin-1"), "it is not UTF-8 text (line 1"),
    "predictions.csv": (b"id,prediction\nq1,yes\n", "it looks like CSV, not JSON Lines"),
    "array.json": (b'[{"id": "q1", "prediction": "yes"}]', "it is a JSON array, not JSON Lines"),
    "indented.jsonl": (b'[\n  {"id": "q1", "prediction": "yes"}\n]\n', "it is a JSON array, not JSON Lines"),
    "keys.jsonl": (
        b'{"question_id": "q1", "answer": "yes"}\n',
        "none of its 1 line(s) is a prediction (line 1: missing field 'id' (it has 'question_id', 'answer'))",
    ),
    "unknown.jsonl": (b'{"id": "q100", "prediction": "yes"}\n', "none of its 1 prediction id(s) is a question of"),
}


@pytest.mark.parametrize("name", sorted(UNUSABLE))
def test_no_usable_prediction_is_an_input_error(name: str, release_dir: Path, tmp_path: Path) -> None:
    data, why = UNUSABLE[name]
    path = _write(tmp_path / name, data)
    with pytest.raises(InputError) as raised:
        evaluate_vqa(path, str(release_dir))
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and why in message and "\n" not in message


def test_vqa_predictions_given_to_captions_are_named_as_such(release_dir: Path, tmp_path: Path) -> None:
    # ids as a release writes them: the image id, then q (question) or c (caption) and ten hex digits
    path = _write(tmp_path / "vqa.jsonl", b'{"id": "0000001-q0123456789", "prediction": "yes"}\n')
    with pytest.raises(
        InputError,
        match=r"is a caption of config 'captions', split 'test' of release .*"
        r"these are question ids: score VQA predictions with `sarlang1m evaluate vqa`",
    ):
        evaluate_captions(path, str(release_dir))


def test_ids_without_their_image_id_are_named_as_such(release_dir: Path, tmp_path: Path) -> None:
    # a row stores q (question) or c (caption) and ten hex digits; predictions are keyed by <image_id>-<id>
    path = _write(tmp_path / "local.jsonl", b'{"id": "q0123456789", "prediction": "yes"}\n')
    with pytest.raises(
        InputError,
        match=r"these are ids as a row stores them in `qa.id`, unique only within an image: key predictions by"
        r" the global id <image_id>-<id>",
    ):
        evaluate_vqa(path, str(release_dir))


def test_an_unusable_file_fails_before_the_release_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path / "empty.jsonl", b"")
    with pytest.raises(InputError, match="the file is empty"):
        evaluate_vqa(path, "no-such-org/no-such-release")  # would need the network if it were read


def test_partial_coverage_is_a_warning_with_the_report(release_dir: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "some.jsonl", VQA_LINE + b'{"id": "q100", "prediction": "no"}\nnot json\n')
    result = evaluate_vqa(path, str(release_dir))
    assert result.overall.count == 7
    assert result.warning() == (
        "6 of 7 questions have no prediction (counted wrong); 1 malformed line(s) skipped; "
        "1 unknown id(s) not scored; see the problems in the report"
    )
    complete = [{"id": reference.id, "prediction": "x"} for reference in load_vqa_references(release_dir)]
    assert len(complete) == 7
    assert evaluate_vqa(complete, str(release_dir)).warning() is None
