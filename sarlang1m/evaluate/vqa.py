"""VQA accuracy under the authors' protocol (`paper`) and under a corrected one (`strict`).

`paper` is the rule of the authors' `Evaluate_VQA.py`, reproduced exactly:

1. lower-case the ground truth and the prediction (nothing is stripped);
2. correct if the ground truth is a substring of the prediction;
3. else, if the ground truth is `yes`, `no` or an integer 0-99 written in digits, correct only if
   it equals the prediction, which after step 2 can never happen: such answers are wrong;
4. else the judge decides, given the lower-cased question, ground truth and prediction.

Its quirk is step 2: "2" is found in "12", "no" in "i don't know", "car" in "a cart", and a
prediction listing every answer is always right. `strict` keeps the structure and fixes that:
texts are compared as words (lower-cased, punctuation ignored); a yes/no or whole-number ground
truth (digits or a number word up to twenty) is correct only if the prediction commits to exactly
that one yes/no or number; any other ground truth is correct if its words occur consecutively in
the prediction, else the judge decides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .judges import Judge, JudgeRequest, contains_phrase, make_judge
from .predictions import Predictions, Problems, check_missing_policy, match_ids, read_predictions
from .references import VQAReference, load_vqa_references, release_meta
from .report import Score, breakdown, format_table, meta_suffix, percent, problem_lines, score_rows, tally

PROTOCOLS = ("paper", "strict")
#: The answers the authors' script never sends to the judge.
PAPER_CLOSED_ANSWERS = frozenset(["yes", "no", *map(str, range(100))])
#: Attributes of a question that accuracy is broken down by, in report order.
BREAKDOWNS = ("application", "answer_type", "source", "tier", "subset")
#: How an outcome was decided: by a string rule, by the judge, or for want of a prediction.
RULES = ("substring", "phrase", "closed", "judge_accept", "judge_reject", "unjudged", "missing")

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


def paper_decision(ground_truth: str, predicted: str) -> Decision:
    """The authors' rule, including its substring quirk (see the module docstring)."""
    truth, prediction = ground_truth.lower(), predicted.lower()
    if truth in prediction:
        return Decision(True, "substring")
    if truth in PAPER_CLOSED_ANSWERS:
        return Decision(truth == prediction, "closed")
    return Decision(None, "judge")


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower())


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def strict_decision(ground_truth: str, predicted: str) -> Decision:
    """Word-level matching: "2" does not match "12", and "yes and no" answers nothing."""
    truth, prediction = _words(ground_truth), _words(predicted)
    if truth in (["yes"], ["no"]):
        said = {w for w in prediction if w in ("yes", "no")}
        return Decision(said == set(truth), "closed")
    if len(truth) == 1 and (value := _number(truth[0])) is not None:
        said_numbers = {n for w in prediction if (n := _number(w)) is not None}
        return Decision(said_numbers == {value}, "closed")
    if contains_phrase(prediction, truth):
        return Decision(True, "phrase")
    return Decision(None, "judge")


_DECIDERS: dict[str, Callable[[str, str], Decision]] = {"paper": paper_decision, "strict": strict_decision}


@dataclass(frozen=True)
class Outcome:
    """The verdict on one question; `prediction` is None when none was given."""

    reference: VQAReference
    prediction: str | None
    correct: bool
    rule: str


@dataclass
class VQAResult:
    """Per-question outcomes with the problems met; scores and reports derive from them."""

    protocol: str
    judge: str
    missing_policy: str
    outcomes: list[Outcome]
    problems: Problems
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def overall(self) -> Score:
        return tally(self.outcomes, lambda o: o.correct)

    @property
    def accuracy(self) -> float | None:
        return self.overall.accuracy

    def breakdowns(self) -> dict[str, dict[str, Score]]:
        return {
            name: breakdown(self.outcomes, lambda o, n=name: getattr(o.reference, n), lambda o: o.correct)
            for name in BREAKDOWNS
        }

    def rule_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(RULES, 0)
        for outcome in self.outcomes:
            counts[outcome.rule] += 1
        return {rule: n for rule, n in counts.items() if n}

    def to_json(self, *, per_question: bool = False) -> dict[str, Any]:
        """`overall.accuracy` is a fraction in [0, 1] (null when nothing was scored)."""
        report: dict[str, Any] = {
            "task": "vqa",
            **self.meta,
            "protocol": self.protocol,
            "judge": self.judge,
            "missing_predictions": self.missing_policy,
            "overall": self.overall.to_json(),
        }
        for name, scores in self.breakdowns().items():
            report[f"by_{name}"] = {group: s.to_json() for group, s in scores.items()}
        report["decided_by"] = self.rule_counts()
        report["problems"] = self.problems.to_json()
        if per_question:
            report["questions"] = [
                {
                    "id": o.reference.id,
                    "question": o.reference.question,
                    "answer": o.reference.answer,
                    "prediction": o.prediction,
                    "correct": o.correct,
                    "rule": o.rule,
                }
                for o in self.outcomes
            ]
        return report

    def table(self) -> str:
        """Accuracy (in %) overall and per group, with counts, then how answers were decided."""
        overall = self.overall
        rows = [["overall", str(overall.count), str(overall.correct), percent(overall.accuracy)]]
        for name, scores in self.breakdowns().items():
            rows += score_rows(name.replace("_", " "), scores)
        title = f"VQA accuracy (%), protocol {self.protocol}, judge {self.judge}" + meta_suffix(self.meta)
        decided = ", ".join(f"{rule} {n}" for rule, n in self.rule_counts().items())
        lines = [title, format_table(["group", "count", "correct", "accuracy"], rows), f"decided by: {decided}"]
        effect = "counted wrong" if self.missing_policy == "wrong" else "left out of the score"
        return "\n".join(lines + problem_lines(self.problems.describe(effect)))


def _check_options(protocol: str, missing: str) -> None:
    if protocol not in _DECIDERS:
        raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
    check_missing_policy(missing)


def _judge_pending(judge: Judge, pending: Mapping[int, JudgeRequest]) -> dict[int, bool | None]:
    """Verdicts for the questions the rules left open, asking each distinct request once."""
    distinct = list(dict.fromkeys(pending.values()))
    verdicts = judge.verdicts(distinct)
    if len(verdicts) != len(distinct):
        raise ValueError(f"judge {judge.name} gave {len(verdicts)} verdicts for {len(distinct)} requests")
    verdict_of = dict(zip(distinct, verdicts, strict=True))
    return {index: verdict_of[request] for index, request in pending.items()}


def score_vqa(
    predictions: Predictions | str | Path | Iterable[Mapping[str, Any]],
    references: Iterable[VQAReference],
    *,
    protocol: str = "paper",
    judge: str | Judge = "none",
    missing: str = "wrong",
) -> VQAResult:
    """Score predictions against reference questions.

    `missing="wrong"` counts a question without a prediction as wrong (the score covers the whole
    split); `"skip"` leaves it out. Either way it is listed in `problems`.
    """
    _check_options(protocol, missing)
    decide, the_judge = _DECIDERS[protocol], make_judge(judge)
    found = predictions if isinstance(predictions, Predictions) else read_predictions(predictions)
    refs = list(references)
    problems = match_ids(found, [r.id for r in refs])

    decided: dict[int, Outcome] = {}
    pending: dict[int, JudgeRequest] = {}
    for index, reference in enumerate(refs):
        predicted = found.texts.get(reference.id)
        if predicted is None:
            if missing == "wrong":
                decided[index] = Outcome(reference, None, False, "missing")
            continue
        decision = decide(reference.answer, predicted)
        if decision.correct is None:
            pending[index] = JudgeRequest(reference.question.lower(), reference.answer.lower(), predicted.lower())
        else:
            decided[index] = Outcome(reference, predicted, decision.correct, decision.rule)
    for index, verdict in _judge_pending(the_judge, pending).items():
        rule = "unjudged" if verdict is None else ("judge_accept" if verdict else "judge_reject")
        decided[index] = Outcome(refs[index], found.texts[refs[index].id], bool(verdict), rule)

    outcomes = [decided[i] for i in sorted(decided)]
    return VQAResult(protocol, the_judge.name, missing, outcomes, problems)


def evaluate_vqa(
    predictions: str | Path | Iterable[Mapping[str, Any]],
    release: str | Path,
    *,
    split: str = "test",
    protocol: str = "paper",
    judge: str | Judge = "none",
    config: str = "vqa",
    missing: str = "wrong",
) -> VQAResult:
    """Score a JSONL of {id, prediction} against a release folder or `ORG/NAME@REV` on the Hub."""
    _check_options(protocol, missing)  # before reading a release that may be remote
    the_judge = make_judge(judge)
    references = load_vqa_references(release, config=config, split=split)
    result = score_vqa(predictions, references, protocol=protocol, judge=the_judge, missing=missing)
    result.meta = release_meta(release, config, split)
    return result
