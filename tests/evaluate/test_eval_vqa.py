"""VQA protocols, breakdowns and problem reporting, on hand-written synthetic cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sarlang1m.errors import InputError
from sarlang1m.evaluate import (
    JudgeRequest,
    SynonymJudge,
    VQAReference,
    evaluate_vqa,
    paper_decision,
    score_vqa,
    strict_decision,
)

# ---------------------------------------------------------------------------------------------
# The paper protocol, rule by rule: (ground truth, prediction, expected correct or None for judge, rule)

PAPER_CASES = [
    ("2", "12", True, "substring"),  # the quirk: "2" is a substring of "12"
    ("no", "i don't know", True, "substring"),  # the quirk again: "no" in "know"
    ("car", "a cart", True, "substring"),
    ("Yes", "YES, there is one.", True, "substring"),  # both sides lower-cased
    ("yes", "yes ", True, "substring"),
    ("yes", "no", False, "closed"),
    ("no", "n/a", False, "closed"),
    ("2", "two", False, "closed"),  # digits only: a number word is wrong, and no judge is asked
    ("99", "ninety-nine", False, "closed"),
    ("100", "one hundred", None, "judge"),  # 100 is outside 0-99: the judge decides
    ("2.", "2", None, "judge"),  # a trailing period takes the answer out of the closed list
    ("yes.", "yes", None, "judge"),
    (" yes", "yes", None, "judge"),  # nothing is stripped
    ("ship", "a ship.", True, "substring"),
    ("ship", "boat", None, "judge"),
    ("top left", "left top", None, "judge"),
]


@pytest.mark.parametrize(("truth", "predicted", "correct", "rule"), PAPER_CASES)
def test_paper_rule(truth: str, predicted: str, correct: bool | None, rule: str) -> None:
    decision = paper_decision(truth, predicted)
    assert (decision.correct, decision.rule) == (correct, rule)


STRICT_CASES = [
    ("2", "12", False, "closed"),
    ("2", "2 ships", True, "closed"),
    ("2", "There are two ships.", True, "closed"),
    ("2", "2 or 12", False, "closed"),  # commits to no single number
    ("12", "12.", True, "closed"),
    ("100", "100", True, "closed"),  # any whole number, not only 0-99
    ("2.", "2", True, "closed"),  # punctuation ignored on both sides
    ("no", "i don't know", False, "closed"),
    ("no", "No, there is none.", True, "closed"),
    ("Yes.", "yes", True, "closed"),
    ("yes", "yes and no", False, "closed"),
    ("yes", "there is a ship", False, "closed"),
    ("car", "a cart", None, "judge"),
    ("ship", "A ship.", True, "phrase"),
    ("top left", "in the top-left corner", True, "phrase"),
    ("top left", "left top", None, "judge"),
]


@pytest.mark.parametrize(("truth", "predicted", "correct", "rule"), STRICT_CASES)
def test_strict_rule(truth: str, predicted: str, correct: bool | None, rule: str) -> None:
    decision = strict_decision(truth, predicted)
    assert (decision.correct, decision.rule) == (correct, rule)


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_strict_accepts_a_number_only_when_it_is_the_answer(truth: int, said: int) -> None:
    assert strict_decision(str(truth), f"I count {said} objects.").correct is (truth == said)


# ---------------------------------------------------------------------------------------------
# Scoring a prediction file against the synthetic release

PREDICTION_LINES = [
    {"id": "0000001-q1", "prediction": "yes"},  # 1
    {"id": "0000001-q2", "prediction": "12"},  # 2: right under paper only
    "{not json",  # 3
    {"id": "0000001-q3", "prediction": "A ship."},  # 4
    "",  # 5: blank, skipped
    {"id": "0000001-q1", "prediction": "no"},  # 6: duplicate, ignored
    {"id": "SN6_Rotterdam_0001-q4", "prediction": "ground track field"},  # 7: synonym of "playground"
    {"id": "SN6_Rotterdam_0001-q6", "prediction": "I don't know"},  # 8: right under paper only
    {"id": "France_Alpes-Maritimes_Nice_3-q7", "prediction": "square"},  # 9: wrong whatever the judge
    {"id": "q99", "prediction": "yes"},  # 10: unknown id
    {"id": "SN6_Rotterdam_0001-q6"},  # 11: no prediction field
    [1, 2],  # 12: not an object
    {"id": 5, "prediction": "x"},  # 13: id not a string
    {"id": "0000001-q1", "prediction": "no"},  # 14: duplicate again
]  # q5 has no prediction


@pytest.fixture
def predictions_file(write_jsonl) -> Path:
    return write_jsonl(PREDICTION_LINES)


@pytest.mark.parametrize(
    ("protocol", "judge", "correct"),
    [("paper", "none", 4), ("paper", "synonyms", 5), ("strict", "none", 2), ("strict", "synonyms", 3)],
)
def test_overall_accuracy_per_protocol_and_judge(
    release_dir: Path, predictions_file: Path, protocol: str, judge: str, correct: int
) -> None:
    result = evaluate_vqa(predictions_file, str(release_dir), protocol=protocol, judge=judge)
    report = result.to_json()
    assert report["overall"]["count"] == 7
    assert report["overall"]["accuracy"] == pytest.approx(correct / 7)


def test_breakdowns_count_each_group(release_dir: Path, predictions_file: Path) -> None:
    report = evaluate_vqa(predictions_file, str(release_dir), judge="none").to_json()

    def pairs(scores: dict) -> dict[str, tuple[int, int]]:
        return {group: (s["correct"], s["count"]) for group, s in scores.items()}

    assert pairs(report["by_application"]) == {
        "instance_counting": (1, 1),
        "object_classification": (0, 1),
        "object_identification": (2, 2),
        "object_positioning": (0, 1),
        "others": (0, 1),
        "region_referring": (1, 1),
    }
    assert pairs(report["by_answer_type"]) == {
        "category": (1, 2),
        "free_text": (0, 1),
        "number": (1, 1),
        "position": (0, 1),
        "yes_no": (2, 2),
    }
    assert pairs(report["by_source"]) == {"openearthmap_sar": (0, 1), "sardet_100k": (3, 3), "spacenet6": (1, 3)}
    assert pairs(report["by_tier"]) == {"mixed": (3, 3), "vhr": (1, 4)}
    assert pairs(report["by_subset"]) == {"sarvqa1": (3, 3), "sarvqa2": (1, 4)}
    assert report["decided_by"] == {"substring": 4, "unjudged": 2, "missing": 1}


def test_problems_are_reported_with_line_numbers(release_dir: Path, predictions_file: Path) -> None:
    problems = evaluate_vqa(predictions_file, str(release_dir)).to_json()["problems"]
    assert problems["counts"] == {
        "malformed_lines": 4,
        "duplicate_ids": 1,
        "unknown_ids": 1,
        "missing_predictions": 1,
    }
    malformed = {m["line"]: m["reason"] for m in problems["malformed_lines"]}
    assert sorted(malformed) == [3, 11, 12, 13]
    assert "invalid JSON" in malformed[3]
    assert "'prediction'" in malformed[11]
    assert "JSON object" in malformed[12]
    assert "'id'" in malformed[13]
    assert problems["duplicate_ids"] == [{"id": "0000001-q1", "kept_line": 1, "ignored_lines": [6, 14]}]
    assert problems["unknown_ids"] == [{"id": "q99", "line": 10}]
    assert problems["missing_predictions"] == ["SN6_Rotterdam_0001-q5"]


def test_missing_predictions_can_be_left_out(release_dir: Path, predictions_file: Path) -> None:
    result = evaluate_vqa(predictions_file, str(release_dir), judge="none", missing="skip")
    assert (result.overall.correct, result.overall.count) == (4, 6)
    assert result.problems.missing == ("SN6_Rotterdam_0001-q5",)
    assert "left out of the score" in result.table()


def test_table_shows_groups_counts_and_problems(release_dir: Path, predictions_file: Path) -> None:
    table = evaluate_vqa(predictions_file, str(release_dir), judge="none").table()
    assert table.startswith(
        "VQA accuracy (%), protocol paper, judge none (a lower bound: open answers are counted wrong)"
    )
    overall = next(line for line in table.splitlines() if line.startswith("overall"))
    assert overall.split() == ["overall", "7", "4", f"{100 * 4 / 7:.2f}"]
    assert "  sardet_100k" in table
    assert "4 malformed line(s)" in table
    assert "'q99' (line 10)" in table
    assert "1 reference(s) without a prediction, counted wrong: 'SN6_Rotterdam_0001-q5'" in table


def test_json_round_trips_and_can_list_every_question(release_dir: Path, predictions_file: Path) -> None:
    result = evaluate_vqa(predictions_file, str(release_dir), protocol="strict")
    report = json.loads(json.dumps(result.to_json(per_question=True)))
    assert report["release"] == str(release_dir)
    assert (report["split"], report["config"], report["protocol"]) == ("test", "vqa", "strict")
    by_id = {q["id"]: q for q in report["questions"]}
    assert by_id["0000001-q2"] == {
        "id": "0000001-q2",
        "question": "How many ships are there?",
        "answer": "2",
        "prediction": "12",
        "correct": False,
        "rule": "closed",
    }
    assert by_id["SN6_Rotterdam_0001-q5"]["prediction"] is None and by_id["SN6_Rotterdam_0001-q5"]["rule"] == "missing"


def test_a_config_restricts_the_references(release_dir: Path, predictions_file: Path) -> None:
    result = evaluate_vqa(predictions_file, str(release_dir), config="sarvqa2")
    assert result.overall.count == 4
    # q1-q3 belong to SARVQA1: for this config they are ids it does not know
    assert {u.id for u in result.problems.unknown} == {"0000001-q1", "0000001-q2", "0000001-q3", "q99"}


def _reference(qid: str, answer: str, question: str = "What is it?") -> VQAReference:
    return VQAReference(qid, question, answer, "others", None, "free_text", "img", "spacenet6", "vhr", "sarvqa2")


class RecordingJudge:
    """A judge that accepts everything and remembers what it was asked (a real object, not a stub)."""

    name = "recording"

    def __init__(self) -> None:
        self.asked: list = []

    def verdicts(self, requests):
        self.asked.extend(requests)
        return [True] * len(requests)


def test_the_judge_gets_lower_cased_texts_once_per_distinct_request() -> None:
    judge = RecordingJudge()
    references = [_reference("a", "Playground", "WHAT is it?"), _reference("b", "Playground", "WHAT is it?")]
    predictions = [{"id": "a", "prediction": "Ground Track Field"}, {"id": "b", "prediction": "Ground Track Field"}]
    result = score_vqa(predictions, references, judge=judge)
    assert [(r.question, r.ground_truth, r.predicted) for r in judge.asked] == [
        ("what is it?", "playground", "ground track field")
    ]
    assert [o.rule for o in result.outcomes] == ["judge_accept", "judge_accept"]


def test_bad_options_fail_before_reading_anything(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown protocol 'lenient'"):
        evaluate_vqa([], str(tmp_path / "absent"), protocol="lenient")
    with pytest.raises(ValueError, match="unknown judge 'gpt'"):
        evaluate_vqa([], str(tmp_path / "absent"), judge="gpt")
    with pytest.raises(ValueError, match="missing-prediction policy 'drop'"):
        score_vqa([], [], missing="drop")


def test_an_empty_prediction_set_is_refused_and_nothing_to_score_is_no_score() -> None:
    with pytest.raises(InputError, match="no predictions: none was given"):
        score_vqa([], [_reference("a", "ship")])
    assert score_vqa([], []).to_json()["overall"]["accuracy"] is None


# ---------------------------------------------------------------------------------------------
# The default: the authors' protocol with the offline judge, which never rejects the truth itself


def _authors_rule(ground_truth: str, predicted: str) -> bool:
    """Evaluate_VQA.py's decision, transcribed from the authors' script, with no judge (GPT never called)."""
    gt, pred = ground_truth.lower(), predicted.lower()
    if gt in pred:
        return True
    if gt in ["yes", "no"] + [str(i) for i in range(100)]:
        return gt == pred
    return False  # the judge's turn: `--judge none` counts it wrong


_ANSWER_TEXT = st.text(alphabet=st.sampled_from("YyEeSsNnOo 0123456789.,!?'-aAbB\u00e9"), max_size=8)


@given(st.lists(st.tuples(_ANSWER_TEXT, _ANSWER_TEXT), min_size=1, max_size=8))
def test_paper_without_a_judge_is_the_authors_rule_bit_for_bit(pairs: list[tuple[str, str]]) -> None:
    references = [_reference(f"q{i}", truth) for i, (truth, _) in enumerate(pairs)]
    predictions = [{"id": f"q{i}", "prediction": predicted} for i, (_, predicted) in enumerate(pairs)]
    result = score_vqa(predictions, references, protocol="paper", judge="none")
    assert [o.correct for o in result.outcomes] == [_authors_rule(t, p) for t, p in pairs]


_TRUTHS = st.sampled_from(["Yes.", "No.", "2.", "Bridge.", "Top left.", "yes", "12", "Ground track field!", "Ship"])


@given(_TRUTHS, st.sampled_from(["", ".", "!", " .", ". ", "?"]), st.booleans(), st.sampled_from(["paper", "strict"]))
def test_the_default_never_rejects_the_truth_up_to_case_and_trailing_punctuation(
    truth: str, ending: str, upper: bool, protocol: str
) -> None:
    bare = truth.rstrip(".!? ")
    predicted = (bare.upper() if upper else bare.lower()) + ending
    result = score_vqa([{"id": "a", "prediction": predicted}], [_reference("a", truth)], protocol=protocol)
    assert result.outcomes[0].correct, (truth, predicted, result.outcomes[0].rule)


def test_yes_for_yes_with_a_period_is_right_by_default_and_the_judge_is_named(make_release, write_jsonl) -> None:
    """The release's answers end with a period; a model answering "yes" must not score 0 by default."""
    questions = [
        ("0000001-p1", "Is there a ship?", "Yes.", "object_identification", None, "yes_no"),
        ("0000001-p2", "Is there a car?", "No.", "object_identification", None, "yes_no"),
    ]
    image = {"image_id": "0000001", "source": "sardet_100k", "tier": "mixed", "subset": "sarvqa1", "qa": questions}
    release = make_release(vqa=[image])
    predictions = write_jsonl([{"id": "0000001-p1", "prediction": "yes"}, {"id": "0000001-p2", "prediction": "yes"}])

    default = evaluate_vqa(predictions, str(release))
    assert (default.overall.correct, default.overall.count) == (1, 2)
    report = default.to_json()
    assert (report["protocol"], report["judge"], report["lower_bound"]) == ("paper", "synonyms", False)
    assert default.table().startswith("VQA accuracy (%), protocol paper, judge synonyms (offline) [")

    lower = evaluate_vqa(predictions, str(release), judge="none")
    assert lower.overall.correct == 0  # the authors' rule alone: "yes." is not in "yes", and goes to the judge
    assert lower.to_json()["lower_bound"] is True
    assert "judge none (a lower bound: open answers are counted wrong)" in lower.table().splitlines()[0]


@pytest.mark.parametrize(
    ("truth", "predicted", "verdict"),
    [
        ("yes.", "yes", True),
        ("yes.", "yes, there is one", True),
        ("yes.", "yes and no", False),  # commits to nothing
        ("no.", "i don't know", False),
        ("2.", "two", True),
        ("2.", "12", False),
        ("bridge.", "a bridge", True),
        ("playground.", "a ground track field", True),
        ("...", "", True),
        ("yes_", "yes", True),  # trailing punctuation, though "_" is a word character
    ],
)
def test_the_offline_judge(truth: str, predicted: str, verdict: bool) -> None:
    assert SynonymJudge().verdicts([JudgeRequest("q", truth, predicted)]) == [verdict]
