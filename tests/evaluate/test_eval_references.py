"""Ground truth from release rows and from a release folder (synthetic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sarlang1m.evaluate import (
    caption_references,
    evaluate_vqa,
    load_caption_references,
    load_vqa_references,
    vqa_references,
)
from sarlang1m.evaluate.references import release_meta


def _vqa_row(image_id: str, *qa: dict) -> dict:
    return {"image_id": image_id, "source": "spacenet6", "tier": "vhr", "subset": "sarvqa2", "qa": list(qa)}


def _qa(qid: str, answer: str | None = "yes") -> dict:
    return {
        "id": qid,
        "question": "Is there a ship?",
        "answer": answer,
        "application": "object_identification",
        "subtype": None,
        "answer_type": "yes_no",
        "bbox": [],
    }


def test_rows_are_flattened_to_questions_with_image_attributes() -> None:
    refs = vqa_references([_vqa_row("img1", _qa("a"), _qa("b")), _vqa_row("img2", _qa("c"))])
    assert [(r.id, r.image_id, r.source, r.tier, r.subset) for r in refs] == [
        ("a", "img1", "spacenet6", "vhr", "sarvqa2"),
        ("b", "img1", "spacenet6", "vhr", "sarvqa2"),
        ("c", "img2", "spacenet6", "vhr", "sarvqa2"),
    ]


def test_a_repeated_id_is_refused_naming_both_images() -> None:
    with pytest.raises(ValueError, match=r"'a' appears twice \(images 'img1' and 'img2'\)"):
        vqa_references([_vqa_row("img1", _qa("a")), _vqa_row("img2", _qa("a"))])


def test_a_null_answer_names_the_image_question_and_field() -> None:
    with pytest.raises(ValueError, match=r"image 'img1', question 'a': field 'answer' is null"):
        vqa_references([_vqa_row("img1", _qa("a", answer=None))])


def test_a_missing_caption_field_names_the_caption() -> None:
    row = {"image_id": "img1", "source": "dfc2023", "tier": "high", "captions": [{"id": "c1", "text": "x"}]}
    with pytest.raises(ValueError, match=r"image 'img1', caption 'c1': missing field 'style'"):
        caption_references([row])


def test_loading_a_release_folder(release_dir: Path) -> None:
    questions = load_vqa_references(release_dir)
    assert sorted(r.id for r in questions) == ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]
    assert {r.id for r in load_vqa_references(release_dir, config="vqa-mixed")} == {"q1", "q2", "q3"}
    captions = load_caption_references(release_dir)
    assert sorted((r.id, r.style) for r in captions)[:2] == [("c1", "concise"), ("c2", "detailed")]


def test_a_config_of_the_other_task_is_refused(release_dir: Path) -> None:
    with pytest.raises(ValueError, match="config 'captions' holds captions, not vqa"):
        load_vqa_references(release_dir, config="captions")


def test_an_absent_split_names_the_release(release_dir: Path) -> None:
    with pytest.raises(ValueError, match="split 'train' of config 'vqa'"):
        load_vqa_references(release_dir, split="train")


def test_scores_of_a_synthetic_release_say_so(tiny_release: Path, release_dir: Path, tmp_path: Path) -> None:
    """The tiny release's MANIFEST says it is synthetic; the hand-written one has no MANIFEST to say it."""
    assert release_meta(tiny_release, "vqa", "test") == {
        "release": str(tiny_release),
        "config": "vqa",
        "split": "test",
        "synthetic": True,
    }
    assert "synthetic" not in release_meta(release_dir, "vqa", "test")
    predictions = tmp_path / "none.jsonl"
    predictions.write_text("")
    result = evaluate_vqa(predictions, str(tiny_release))
    assert result.to_json()["synthetic"] is True and "synthetic True" in result.table()
