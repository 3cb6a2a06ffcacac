"""Caption metrics as the authors compute them: pycocoevalcap BLEU-1..4, ROUGE-L and CIDEr.

The authors' `Evaluate_caption.py` feeds raw strings to `Bleu(4)`, `Rouge()` and `Cider()` with one
reference per prediction and no PTB tokenizer, so case and punctuation count ("Ship." is not
"ship"). The same library is called the same way here; the values are pycocoevalcap's own (BLEU
and ROUGE-L in [0, 1], CIDEr unscaled; the paper prints them multiplied by 100).

CIDEr weighs n-grams by their document frequency over the evaluated references, so a group's
CIDEr depends on which captions are in the group. Each style is therefore scored as its own
corpus, which is how the paper reports concise and detailed captions (two test files); the
overall figure scores the whole split as one corpus and is not an average of the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import missing_extra
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
from .references import CaptionReference, describe_scope, load_caption_references, release_meta
from .report import format_table, meta_suffix, problem_lines

METRICS = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-L", "CIDEr")
#: What stands in for a missing caption when missing predictions count (it scores zero overlap).
EMPTY_CAPTION = ""


def _scorers() -> tuple[Any, Any, Any]:
    """pycocoevalcap's scorers, imported on first use: they are an optional extra of the package."""
    try:
        from pycocoevalcap.bleu.bleu import Bleu
        from pycocoevalcap.cider.cider import Cider
        from pycocoevalcap.rouge.rouge import Rouge
    except ImportError as error:
        raise missing_extra("pycocoevalcap", "caption metrics", "eval") from error
    return Bleu, Rouge, Cider


def caption_metrics(references: Mapping[str, str], predictions: Mapping[str, str]) -> dict[str, float] | None:
    """BLEU-1..4, ROUGE-L and CIDEr of predictions against one reference each (None if empty).

    Every key of `references` must have a prediction; both are raw strings.
    """
    if not references:
        return None
    missing = [key for key in references if key not in predictions]
    if missing:
        raise KeyError(f"no prediction for caption id(s) {missing[:5]}")
    bleu_scorer, rouge_scorer, cider_scorer = _scorers()
    gts = {key: [text] for key, text in references.items()}
    res = {key: [predictions[key]] for key in references}
    bleu, _ = bleu_scorer(4).compute_score(gts, res, verbose=0)
    rouge, _ = rouge_scorer().compute_score(gts, res)
    cider, _ = cider_scorer().compute_score(gts, res)
    return {**{f"BLEU-{n + 1}": float(bleu[n]) for n in range(4)}, "ROUGE-L": float(rouge), "CIDEr": float(cider)}


@dataclass
class CaptionResult:
    """Metrics overall and per caption style, with the counts they cover and the problems met."""

    overall: dict[str, float] | None
    by_style: dict[str, dict[str, float]]
    counts: dict[str, int]
    problems: Problems
    missing_policy: MissingPolicy
    meta: dict[str, Any] = field(default_factory=dict)
    references: int = 0

    def to_json(self) -> dict[str, Any]:
        """`overall` holds exactly the keys of METRICS, as pycocoevalcap returns them."""
        return {
            "task": "captions",
            **self.meta,
            "missing_predictions": self.missing_policy,
            "overall": self.overall,
            "by_style": self.by_style,
            "count": self.counts,
            "problems": self.problems.to_json(),
        }

    def table(self) -> str:
        """Metrics multiplied by 100, as the paper prints them, one row per group."""
        groups = {"overall": self.overall, **self.by_style}
        rows = [
            [name, str(self.counts.get(name, 0)), *(f"{100 * m[k]:.2f}" if m else "-" for k in METRICS)]
            for name, m in groups.items()
        ]
        lines = [
            "Caption metrics (x100; CIDEr per group is computed on that group alone)" + meta_suffix(self.meta),
            format_table(["group", "count", *METRICS], rows),
        ]
        return "\n".join(lines + problem_lines(self.problems.describe(self._missing_effect)))

    @property
    def _missing_effect(self) -> str:
        return "scored as empty captions" if self.missing_policy == "wrong" else "left out of the score"

    def warning(self) -> str | None:
        """One line for stderr when predictions cover the split only in part (None when they match)."""
        return self.problems.warning(self.references, "caption", self._missing_effect)


def score_captions(
    predictions: Predictions | str | Path | Iterable[Mapping[str, Any]],
    references: Iterable[CaptionReference],
    *,
    missing: MissingPolicy = "wrong",
) -> CaptionResult:
    """Score predicted captions against reference captions, overall and per style.

    `missing="wrong"` scores a caption without a prediction as an empty prediction; `"skip"`
    leaves it out. Either way it is listed in `problems`. Predictions none of which is usable, or
    none of which is for a reference caption, raise `InputError`: no score would mean anything.
    """
    check_missing_policy(missing)
    found = predictions if isinstance(predictions, Predictions) else read_predictions(predictions)
    refs = list(references)
    if refs:  # with nothing to score, no prediction is needed
        require_predictions(found)
        require_overlap(found, [r.id for r in refs], task="captions", scope="the references")
    problems = match_ids(found, [r.id for r in refs])
    scored = [r for r in refs if r.id in found.texts or missing == "wrong"]
    hypotheses = {r.id: found.texts.get(r.id, EMPTY_CAPTION) for r in scored}

    styles: dict[str, list[CaptionReference]] = {}
    for reference in scored:
        styles.setdefault(reference.style, []).append(reference)
    by_style = {}
    for style in sorted(styles):
        metrics = caption_metrics({r.id: r.text for r in styles[style]}, hypotheses)
        if metrics is not None:
            by_style[style] = metrics
    overall = caption_metrics({r.id: r.text for r in scored}, hypotheses)
    counts = {"overall": len(scored), **{style: len(styles[style]) for style in sorted(styles)}}
    return CaptionResult(overall, by_style, counts, problems, missing, references=len(refs))


def evaluate_captions(
    predictions: str | Path | Iterable[Mapping[str, Any]],
    release: str | Path,
    *,
    split: str = "test",
    config: str = "captions",
    missing: MissingPolicy = "wrong",
) -> CaptionResult:
    """Score a JSONL of {id, prediction} (caption ids) against a release folder or `ORG/NAME@REV`."""
    check_missing_policy(missing)
    _scorers()  # fail on a missing extra before reading a release that may be remote
    found = read_predictions(predictions)
    require_predictions(found)  # an unusable file fails before the release is read
    references = load_caption_references(release, config=config, split=split)
    meta = release_meta(release, config, split)
    require_overlap(found, [r.id for r in references], task="captions", scope=describe_scope(meta))
    result = score_captions(found, references, missing=missing)
    result.meta = meta
    return result
