"""The benchmark's metrics: VQA accuracy (the authors' protocol and a strict one) and caption scores.

Ground truth comes from a release (a local folder or `ORG/NAME@REV` on the Hub); predictions are
JSONL of {id, prediction}. Problems with the predictions are reported with the scores, never dropped.
"""

from .captions import METRICS, CaptionResult, caption_metrics, evaluate_captions, score_captions
from .judges import (
    DEFAULT_JUDGE,
    SYNONYM_PAIRS,
    Judge,
    JudgeError,
    JudgeRequest,
    NoJudge,
    OpenAICompatibleJudge,
    SynonymJudge,
    judge_prompt,
    make_judge,
)
from .predictions import Predictions, Problems, read_predictions
from .references import (
    CaptionReference,
    VQAReference,
    caption_references,
    load_caption_references,
    load_vqa_references,
    vqa_references,
)
from .vqa import DEFAULT_PROTOCOL, PROTOCOLS, VQAResult, evaluate_vqa, paper_decision, score_vqa, strict_decision

__all__ = [
    "DEFAULT_JUDGE",
    "DEFAULT_PROTOCOL",
    "METRICS",
    "PROTOCOLS",
    "SYNONYM_PAIRS",
    "CaptionReference",
    "CaptionResult",
    "Judge",
    "JudgeError",
    "JudgeRequest",
    "NoJudge",
    "OpenAICompatibleJudge",
    "Predictions",
    "Problems",
    "SynonymJudge",
    "VQAReference",
    "VQAResult",
    "caption_metrics",
    "caption_references",
    "evaluate_captions",
    "evaluate_vqa",
    "judge_prompt",
    "load_caption_references",
    "load_vqa_references",
    "make_judge",
    "paper_decision",
    "read_predictions",
    "score_captions",
    "score_vqa",
    "strict_decision",
    "vqa_references",
]
