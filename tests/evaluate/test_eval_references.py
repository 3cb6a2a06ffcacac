"""Ground truth from release rows and from a release folder (synthetic)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hub_server import HubServer, run_client

from sarlang1m import schema
from sarlang1m.errors import ReleaseError
from sarlang1m.evaluate import (
    caption_references,
    evaluate_vqa,
    load_caption_references,
    load_vqa_references,
    vqa_references,
)
from sarlang1m.evaluate.references import release_meta


def _vqa_row(image_id: str, *qa: dict) -> dict:
    """A release row whose questions are stored column-wise (one list per field), from one dict per question."""
    columns = {field: [question[field] for question in qa] for field in (qa[0] if qa else {})}
    return {"image_id": image_id, "source": "spacenet6", "tier": "vhr", "subset": "sarvqa2", "qa": columns}


def _qa(qid: str, answer: str | None = "yes") -> dict:
    return {
        "id": qid,
        "question": "Is there a ship?",
        "answer": answer,
        "application": "object_identification",
        "subtype": None,
        "bbox": [],
    }


def test_a_reference_derives_its_answer_type_from_its_answer() -> None:
    # rows do not store the answer type (release format 4): the evaluator derives it, as pairs do
    sentence = "A large ship is docked at the pier next to the bridge."
    refs = vqa_references([_vqa_row("img1", _qa("a", "Yes."), _qa("b", "3"), _qa("c", sentence))])
    assert [r.answer_type for r in refs] == ["yes_no", "number", "free_text"]


def test_the_derived_answer_types_are_the_hand_labelled_ones(release_dir: Path, labelled_answer_types) -> None:
    assert {r.id: r.answer_type for r in load_vqa_references(release_dir)} == labelled_answer_types


def test_rows_are_flattened_to_questions_with_image_attributes() -> None:
    refs = vqa_references([_vqa_row("img1", _qa("a"), _qa("b")), _vqa_row("img2", _qa("c"))])
    # a reference's id is the global one, <image_id>-<id as the row stores it>: the same local id in two
    # images names two texts
    assert [(r.id, r.image_id, r.source, r.tier, r.subset) for r in refs] == [
        ("img1-a", "img1", "spacenet6", "vhr", "sarvqa2"),
        ("img1-b", "img1", "spacenet6", "vhr", "sarvqa2"),
        ("img2-c", "img2", "spacenet6", "vhr", "sarvqa2"),
    ]
    assert [r.id for r in vqa_references([_vqa_row("img1", _qa("a")), _vqa_row("img2", _qa("a"))])] == [
        "img1-a",
        "img2-a",
    ]


def test_a_repeated_id_is_refused_naming_its_image() -> None:
    with pytest.raises(ValueError, match=r"'img1-a' appears twice \(images 'img1' and 'img1'\)"):
        vqa_references([_vqa_row("img1", _qa("a"), _qa("a"))])


def test_a_null_answer_names_the_image_question_and_field() -> None:
    with pytest.raises(ValueError, match=r"image 'img1', question 'img1-a': field 'answer' is null"):
        vqa_references([_vqa_row("img1", _qa("a", answer=None))])


def test_a_missing_caption_field_names_the_caption() -> None:
    row = {"image_id": "img1", "source": "dfc2023", "tier": "high", "captions": {"id": ["c1"], "text": ["x"]}}
    with pytest.raises(ValueError, match=r"image 'img1', caption 'img1-c1': missing field 'style'"):
        caption_references([row])


def test_fields_of_different_lengths_name_the_image() -> None:
    row = _vqa_row("img1", _qa("a"), _qa("b"))
    row["qa"]["answer"].pop()
    with pytest.raises(ReleaseError, match=r"row 'img1': the fields of 'vqa' hold different numbers of texts"):
        vqa_references([row])


def test_loading_a_release_folder(release_dir: Path) -> None:
    questions = load_vqa_references(release_dir)
    assert [r.id for r in questions] == [  # in file order: partitions sorted by path, rows by image id
        "0000001-q1",
        "0000001-q2",
        "0000001-q3",
        "SN6_Rotterdam_0001-q4",
        "SN6_Rotterdam_0001-q5",
        "SN6_Rotterdam_0001-q6",
        "France_Alpes-Maritimes_Nice_3-q7",
    ]
    assert {r.id for r in load_vqa_references(release_dir, config="vqa-mixed")} == {
        "0000001-q1",
        "0000001-q2",
        "0000001-q3",
    }
    captions = load_caption_references(release_dir)
    styles = {r.id: r.style for r in captions}
    assert (styles["SN6_Rotterdam_0001-c1"], styles["SN6_Rotterdam_0001-c2"]) == ("concise", "detailed")


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
        "release_version": "1.0.0",
        "config": "vqa",
        "split": "test",
        "synthetic": True,
    }
    assert "synthetic" not in release_meta(release_dir, "vqa", "test")
    predictions = tmp_path / "one.jsonl"
    first = load_vqa_references(tiny_release)[0]
    predictions.write_text(json.dumps({"id": first.id, "prediction": first.answer}) + "\n")
    result = evaluate_vqa(predictions, str(tiny_release))
    assert result.to_json()["synthetic"] is True and "synthetic True" in result.table()


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_damaged_parquet_file_is_named_with_the_verify_hint(release_dir: Path, tmp_path: Path, damage: str) -> None:
    copy = tmp_path / "sarlang-1m"
    shutil.copytree(release_dir, copy)
    shard = sorted((copy / "data" / "vqa").rglob("test-*.parquet"))[-1]
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"\0" * len(data))
    with pytest.raises(ReleaseError) as raised:
        load_vqa_references(copy)
    message = str(raised.value)
    assert message.startswith(f"{shard}: not readable as Parquet (")
    assert message.endswith(f"run `sarlang1m verify {copy}`") and "\n" not in message


def test_a_hub_release_is_reported_with_the_revision_and_commit_read(
    hub_server: HubServer, hub_env: dict[str, str], tiny_release: Path
) -> None:
    """Against tests/hub_server/, the offline stand-in for the Hub: `release` names ORG/NAME@REV as read."""
    repo = schema.DEFAULT_REPO_ID
    report = run_client(
        f"""
        import json, pathlib
        from sarlang1m.publish.hub import push_release
        from sarlang1m.evaluate import evaluate_vqa, load_vqa_references
        push_release({str(tiny_release)!r}, {repo!r}, "1.0.0", progress=False)
        first = load_vqa_references({repo!r} + "@v1.0.0")[0]
        path = pathlib.Path("p.jsonl")
        path.write_text(json.dumps({{"id": first.id, "prediction": first.answer}}) + "\\n")
        result = evaluate_vqa(path, {repo!r})  # no @REV: the revision this package pins
        emit({{"json": result.to_json(), "title": result.table().splitlines()[0]}})
        """,
        hub_env,
    )
    commit = hub_server.head(repo, "v1.0.0")
    meta = {key: report["json"][key] for key in ("release", "release_commit", "release_version")}
    assert meta == {"release": f"{repo}@v1.0.0", "release_commit": commit, "release_version": "1.0.0"}
    assert f"[release {repo}@v1.0.0 (commit {commit}, version 1.0.0), config vqa, split test" in report["title"]


def test_a_folder_that_is_no_release_and_an_absent_config_are_named(release_dir: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "Text").mkdir(parents=True)  # the authors' layout, not yet built
    with pytest.raises(ReleaseError, match=rf"^{re.escape(str(raw))} is a raw release .*sarlang1m build"):
        load_vqa_references(raw)
    (raw / "Text").rmdir()  # an empty folder: no card listing configs
    with pytest.raises(ReleaseError, match=rf"^{re.escape(str(raw))}: not a release folder .*sarlang1m build"):
        load_vqa_references(raw)
    with pytest.raises(
        ReleaseError, match=r"no config 'vqa-low' in this release \(it has: vqa, captions, .*vqa-mixed\)$"
    ):
        load_vqa_references(release_dir, config="vqa-low")
