"""Caption metrics: parity with pycocoevalcap called directly, per style, and problems (synthetic)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge

from sarlang1m.evaluate import evaluate_captions, score_captions
from sarlang1m.evaluate.captions import caption_metrics

PREDICTIONS = {
    "SN6_Rotterdam_0001-c1": "A residential area with many buildings.",
    "SN6_Rotterdam_0001-c2": "The image shows a residential area with rows of buildings and a canal.",
    "France_Alpes-Maritimes_Nice_3-c3": "A harbour with boats.",
    "France_Alpes-Maritimes_Nice_3-c4": "A coastal scene with a harbour, boats and a pier.",
    "France_Alpes-Maritimes_Nice_3-c5": "A town next to the sea.",
    "SV_Darwin_-12.4278_130.8688-c6": "An airport with a runway.",
}


def _pycocoevalcap(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """The authors' Evaluate_caption.py: integer keys, one reference each, raw strings."""
    references = {j: [label] for j, (label, _) in enumerate(pairs)}
    hypothesis = {j: [predict] for j, (_, predict) in enumerate(pairs)}
    bleu, _ = Bleu(4).compute_score(references, hypothesis, verbose=0)
    rouge, _ = Rouge().compute_score(references, hypothesis)
    cider, _ = Cider().compute_score(references, hypothesis)
    return {
        "BLEU-1": bleu[0],
        "BLEU-2": bleu[1],
        "BLEU-3": bleu[2],
        "BLEU-4": bleu[3],
        "ROUGE-L": rouge,
        "CIDEr": cider,
    }


def _pairs(
    captions: list[dict], style: str | None = None, predictions: dict[str, str] = PREDICTIONS
) -> list[tuple[str, str]]:
    """(reference, prediction) in release order; a missing prediction is the empty string."""
    return [
        (text, predictions.get(cid, ""))
        for image in captions
        for cid, text, caption_style in image["captions"]
        if style in (None, caption_style)
    ]


@pytest.fixture
def predictions_file(write_jsonl) -> Path:
    return write_jsonl([{"id": cid, "prediction": text} for cid, text in PREDICTIONS.items()])


def test_overall_equals_pycocoevalcap(
    release_dir: Path, predictions_file: Path, synthetic_captions: list[dict]
) -> None:
    report = evaluate_captions(predictions_file, str(release_dir)).to_json()
    assert set(report["overall"]) == {"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-L", "CIDEr"}
    assert report["overall"] == pytest.approx(_pycocoevalcap(_pairs(synthetic_captions)), rel=1e-12)
    assert report["overall"]["CIDEr"] > 0


def test_each_style_is_scored_as_its_own_corpus(
    release_dir: Path, predictions_file: Path, synthetic_captions: list[dict]
) -> None:
    result = evaluate_captions(predictions_file, str(release_dir))
    assert result.counts == {"overall": 6, "concise": 4, "detailed": 2}
    for style in ("concise", "detailed"):
        assert result.by_style[style] == pytest.approx(_pycocoevalcap(_pairs(synthetic_captions, style)), rel=1e-12)


def test_a_missing_caption_counts_as_empty_or_is_left_out(
    release_dir: Path, write_jsonl, synthetic_captions: list[dict]
) -> None:
    partial = {cid: text for cid, text in PREDICTIONS.items() if cid != "France_Alpes-Maritimes_Nice_3-c3"}
    path = write_jsonl([{"id": cid, "prediction": text} for cid, text in partial.items()])
    counted = evaluate_captions(path, str(release_dir))
    assert counted.problems.missing == ("France_Alpes-Maritimes_Nice_3-c3",)
    assert (
        "1 reference(s) without a prediction, scored as empty captions: 'France_Alpes-Maritimes_Nice_3-c3'"
        in counted.table()
    )
    assert counted.overall == pytest.approx(_pycocoevalcap(_pairs(synthetic_captions, predictions=partial)), rel=1e-12)
    skipped = evaluate_captions(path, str(release_dir), missing="skip")
    kept = [(ref, pred) for ref, pred in _pairs(synthetic_captions, predictions=partial) if pred]
    assert skipped.overall == pytest.approx(_pycocoevalcap(kept), rel=1e-12)
    assert skipped.counts["overall"] == 5
    assert "left out of the score" in skipped.table()


def test_problems_and_table(release_dir: Path, write_jsonl, synthetic_captions: list[dict]) -> None:
    lines = [{"id": cid, "prediction": text} for cid, text in PREDICTIONS.items()]
    lines += [{"id": "SN6_Rotterdam_0001-c1", "prediction": "again"}, {"id": "c9", "prediction": "x"}, "not json"]
    result = evaluate_captions(write_jsonl(lines), str(release_dir))
    assert result.problems.counts() == {
        "malformed_lines": 1,
        "duplicate_ids": 1,
        "unknown_ids": 1,
        "missing_predictions": 0,
    }
    assert result.overall == pytest.approx(
        _pycocoevalcap(_pairs(synthetic_captions)), rel=1e-12
    )  # the first c1 was kept
    table = result.table()
    overall_row = next(line for line in table.splitlines() if line.startswith("overall")).split()
    assert overall_row[1] == "6"
    assert float(overall_row[-1]) == pytest.approx(100 * result.overall["CIDEr"], abs=0.005)
    assert "'c9' (line 8)" in table


def test_case_and_punctuation_count_as_in_the_paper() -> None:
    same = caption_metrics({"a": "A ship.", "b": "Two cars."}, {"a": "A ship.", "b": "Two cars."})
    changed = caption_metrics({"a": "A ship.", "b": "Two cars."}, {"a": "a ship", "b": "two cars"})
    assert same is not None and changed is not None
    assert same["BLEU-1"] == pytest.approx(1.0) and changed["BLEU-1"] == pytest.approx(0.0, abs=1e-6)


def test_nothing_to_score_gives_no_metrics() -> None:
    result = score_captions([], [])
    assert result.overall is None and result.by_style == {}
    assert result.to_json()["overall"] is None


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pycocoevalcap.bleu.bleu", None)
    with pytest.raises(ImportError, match=r"pip install 'sarlang1m\[eval\]'"):
        evaluate_captions([], str(tmp_path))
