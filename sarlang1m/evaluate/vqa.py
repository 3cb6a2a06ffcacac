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

The default is `paper` with the offline `synonyms` judge (see `judges`): the authors' rule, so the
number is computed as the paper's are, with a judge that never rejects the ground truth itself
("yes" for the release's "Yes."). `judge="none"` keeps the authors' rule alone, a lower bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any, Literal, get_args

from ..errors import InputError
from .judges import DEFAULT_JUDGE, NO_JUDGE, Judge, JudgeName, JudgeRequest, describe_judge, make_judge
from .matching import Decision, strict_decision
from .predictions import (
    MissingPolicy,
    Predictions,
    Problems,
    check_missing_policy,
    match_ids,
    read_predictions,
    require_overlap,
    require_predictions,
)
from .references import VQAReference, describe_scope, load_vqa_references, release_meta
from .report import Score, breakdown, format_table, meta_suffix, percent, problem_lines, score_rows, tally

VQAProtocol = Literal["paper", "strict"]
PROTOCOLS: tuple[VQAProtocol, ...] = get_args(VQAProtocol)
#: The protocol `evaluate vqa` uses unless told otherwise: the authors' rule, comparable with the paper.
DEFAULT_PROTOCOL: VQAProtocol = "paper"
#: The answers the authors' script never sends to the judge.
PAPER_CLOSED_ANSWERS = frozenset(["yes", "no", *map(str, range(100))])
#: Attributes of a question that accuracy is broken down by, in report order.
BREAKDOWNS = ("application", "answer_type", "source", "tier", "subset")
#: How an outcome was decided: by a string rule, by the judge, or for want of a prediction.
RULES = ("substring", "phrase", "closed", "judge_accept", "judge_reject", "unjudged", "missing")


def paper_decision(ground_truth: str, predicted: str) -> Decision:
    """The authors' rule, including its substring quirk (see the module docstring)."""
    truth, prediction = ground_truth.lower(), predicted.lower()
    if truth in prediction:
        return Decision(True, "substring")
    if truth in PAPER_CLOSED_ANSWERS:
        return Decision(truth == prediction, "closed")
    return Decision(None, "judge")


_DECIDERS: dict[VQAProtocol, Callable[[str, str], Decision]] = {"paper": paper_decision, "strict": strict_decision}


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

    protocol: VQAProtocol
    judge: str
    missing_policy: MissingPolicy
    outcomes: list[Outcome]
    problems: Problems
    meta: dict[str, Any] = field(default_factory=dict)
    #: The judge as the title names it, e.g. "synonyms (offline)" or "none (a lower bound: ...)".
    judge_description: str = ""
    references: int = 0

    @property
    def overall(self) -> Score:
        return tally(self.outcomes, lambda o: o.correct)

    @property
    def accuracy(self) -> float | None:
        return self.overall.accuracy

    def breakdowns(self) -> dict[str, dict[str, Score]]:
        return {
            name: breakdown(self.outcomes, attrgetter(f"reference.{name}"), lambda o: o.correct) for name in BREAKDOWNS
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
            "lower_bound": self.judge == NO_JUDGE,
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
        judge = self.judge_description or self.judge
        title = f"VQA accuracy (%), protocol {self.protocol}, judge {judge}" + meta_suffix(self.meta)
        decided = ", ".join(f"{rule} {n}" for rule, n in self.rule_counts().items())
        lines = [title, format_table(["group", "count", "correct", "accuracy"], rows), f"decided by: {decided}"]
        return "\n".join(lines + problem_lines(self.problems.describe(self._missing_effect)))

    @property
    def _missing_effect(self) -> str:
        return "counted wrong" if self.missing_policy == "wrong" else "left out of the score"

    def warning(self) -> str | None:
        """One line for stderr when predictions cover the split only in part (None when they match)."""
        return self.problems.warning(self.references or len(self.outcomes), "question", self._missing_effect)


def _check_options(protocol: str, missing: str) -> None:
    if protocol not in _DECIDERS:
        raise InputError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
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
    protocol: VQAProtocol = DEFAULT_PROTOCOL,
    judge: JudgeName | str | Judge = DEFAULT_JUDGE,
    missing: MissingPolicy = "wrong",
) -> VQAResult:
    """Score predictions against reference questions.

    `missing="wrong"` counts a question without a prediction as wrong (the score covers the whole
    split); `"skip"` leaves it out. Either way it is listed in `problems`. Predictions none of which
    is usable, or none of which answers a reference, raise `InputError`: no score would mean anything.
    """
    _check_options(protocol, missing)
    decide, the_judge = _DECIDERS[protocol], make_judge(judge)
    found = predictions if isinstance(predictions, Predictions) else read_predictions(predictions)
    refs = list(references)
    if refs:  # with nothing to score, no prediction is needed
        require_predictions(found)
        require_overlap(found, [r.id for r in refs], task="vqa", scope="the references")
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
    return VQAResult(
        protocol,
        the_judge.name,
        missing,
        outcomes,
        problems,
        judge_description=describe_judge(the_judge),
        references=len(refs),
    )


def evaluate_vqa(
    predictions: str | Path | Iterable[Mapping[str, Any]],
    release: str | Path,
    *,
    split: str = "test",
    protocol: VQAProtocol = DEFAULT_PROTOCOL,
    judge: JudgeName | str | Judge = DEFAULT_JUDGE,
    config: str = "vqa",
    missing: MissingPolicy = "wrong",
) -> VQAResult:
    """Score a JSONL of {id, prediction} against a release folder or `ORG/NAME@REV` on the Hub.

    The default, the authors' protocol with the offline `synonyms` judge, needs no network beyond
    the release; `judge="none"` gives the lower bound the string rules alone allow.
    """
    _check_options(protocol, missing)  # before reading a release that may be remote
    the_judge = make_judge(judge)
    found = read_predictions(predictions)
    require_predictions(found)  # an unusable file fails before the release is read
    references = load_vqa_references(release, config=config, split=split)
    meta = release_meta(release, config, split)
    require_overlap(found, [r.id for r in references], task="vqa", scope=describe_scope(meta))
    result = score_vqa(found, references, protocol=protocol, judge=the_judge, missing=missing)
    result.meta = meta
    return result
