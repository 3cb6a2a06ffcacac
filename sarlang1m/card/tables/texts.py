"""Tables of the texts: questions and captions per application, sub-type, answer type, caption style and length.

Each compares with the paper where the paper gives a figure (`schema.APPLICATIONS`, `schema.OTHERS_SUBTYPES`).
"""

from __future__ import annotations

from collections import Counter

from ... import schema
from ..statistics import LENGTH_BUCKETS, ReleaseStatistics
from .markdown import markdown_table

_LENGTH_KINDS = ("question", "answer", "caption_concise", "caption_detailed")


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def _application_title(application: str) -> str:
    return schema.APPLICATIONS[application].title if application in schema.APPLICATIONS else application


def _texts_per_application(stats: ReleaseStatistics) -> dict[str, Counter]:
    """Texts per application and split; every caption counts under "image_description"."""
    return {"image_description": stats.texts["captions"], **stats.applications}


def _applications(stats: ReleaseStatistics) -> list[str]:
    """The applications found, in `schema.APPLICATIONS` order, then unknown names sorted."""
    per_application = _texts_per_application(stats)
    known = [a for a in schema.APPLICATIONS if sum(per_application.get(a, Counter()).values())]
    return known + sorted(set(stats.applications) - set(schema.APPLICATIONS))


def applications_table(stats: ReleaseStatistics) -> str:
    per_application = _texts_per_application(stats)
    total_texts = sum(sum(c.values()) for c in per_application.values())
    return markdown_table(
        ["application", "train", "test", "share of all texts", "paper (all splits)"],
        [
            (
                _application_title(a),
                per_application[a]["train"],
                per_application[a]["test"],
                _share(sum(per_application[a].values()), total_texts),
                schema.APPLICATIONS[a].paper_texts if a in schema.APPLICATIONS else "-",
            )
            for a in _applications(stats)
        ],
    )


def subtypes_table(stats: ReleaseStatistics) -> str:
    others = sum(stats.applications["others"].values()) if "others" in stats.applications else 0
    labelled = {s: stats.subtypes[s] for s in schema.OTHERS_SUBTYPES if stats.subtypes[s]}
    unmatched = others - sum(labelled.values())
    return markdown_table(
        ["sub-type of Others", "questions", "paper"],
        [(s, n, schema.OTHERS_SUBTYPES[s]) for s, n in labelled.items()]
        + ([("(no sub-type rule matched)", unmatched, "-")] if unmatched > 0 else []),
    )


def answer_types_table(stats: ReleaseStatistics) -> str:
    answer_types = [t for t in schema.ANSWER_TYPES if any(t in c for c in stats.answer_types.values())]
    return markdown_table(
        ["application", *answer_types],
        [
            (_application_title(a), *(stats.answer_types[a][t] for t in answer_types))
            for a in _applications(stats)
            if a != "image_description"
        ],
    )


def caption_styles_table(stats: ReleaseStatistics) -> str:
    styles = [s for s in schema.CAPTION_STYLES if any(s in c for c in stats.caption_styles.values())]
    return markdown_table(
        ["split", *styles],
        [
            (split, *(stats.caption_styles[split][s] for s in styles))
            for split in schema.SPLITS
            if split in stats.caption_styles
        ],
    )


def _length_kinds(stats: ReleaseStatistics) -> list[str]:
    return [k for k in _LENGTH_KINDS if k in stats.lengths]


def lengths_table(stats: ReleaseStatistics) -> str:
    summaries = {k: stats.lengths[k].summary() for k in _length_kinds(stats)}
    return markdown_table(
        ["text", "texts", "mean", "median", "90th pct", "99th pct", "max"],
        [
            (k.replace("_", " "), s["texts"], s["mean"], s["p50"], s["p90"], s["p99"], s["max"])
            for k, s in summaries.items()
        ],
    )


def length_buckets_table(stats: ReleaseStatistics) -> str:
    kinds = _length_kinds(stats)
    buckets = {k: stats.lengths[k].buckets() for k in kinds}
    return markdown_table(
        ["words", *(k.replace("_", " ") for k in kinds)],
        [(label, *(buckets[k][label] for k in kinds)) for label, _ in LENGTH_BUCKETS],
    )
