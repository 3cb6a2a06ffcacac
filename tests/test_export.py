"""sarlang1m.export: each format checked against its tool's documented schema, on synthetic releases.

The schema checks below are written from the tools' own documentation, not from the exporter:
- LLaMA-Factory ``data/README.md`` (ShareGPT / OpenAI format, multimodal image datasets) and its
  converter's rules: user/observation turns at odd positions, assistant/function at even positions, an
  even number of turns, as many ``<image>`` tokens as images, media paths joined to ``media_dir``
  (the folder of ``dataset_info.json`` by default).
- LLaVA ``docs/Finetune_Custom_Data.md``: a JSON list of ``{id, image, conversations}``, human/gpt
  turns, ``<image>\\n`` opening the first human turn; images under ``--image_folder``.
- transformers/TRL chat messages: ``role`` + ``content`` parts ``{"type": "image"}`` /
  ``{"type": "text", "text": ...}``, images in an ``images`` column.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import PIL.Image
import pyarrow.parquet as pq
import pytest

from sarlang1m import schema
from sarlang1m.export import FORMATS, export

# ------------------------------------------------------------------ schema checks, from the tools' docs


def check_llamafactory(info_path: Path, name: str) -> list[dict]:
    """A dataset registered in LLaMA-Factory's dataset_info.json, as its ShareGPT converter reads it."""
    entry = json.loads(info_path.read_text())[name]
    assert entry["formatting"] == "sharegpt"
    tags = entry["tags"]
    messages_column, images_column = entry["columns"]["messages"], entry["columns"]["images"]
    data_file = info_path.parent / entry["file_name"]
    loaded = datasets.load_dataset("json", data_files=str(data_file), split="train")  # LLaMA-Factory's loader
    media_dir = info_path.parent
    records = loaded.to_list()
    for record in records:
        messages = record[messages_column]
        assert messages and len(messages) % 2 == 0, record
        for turn, message in enumerate(messages):
            allowed = (tags["user_tag"],) if turn % 2 == 0 else (tags["assistant_tag"],)
            assert message[tags["role_tag"]] in allowed, record
            assert isinstance(message[tags["content_tag"]], str)
        images = record[images_column]
        tokens = sum(m[tags["content_tag"]].count("<image>") for m in messages)
        assert tokens == len(images) == 1, record
        assert all(os.path.isfile(os.path.join(media_dir, path)) for path in images), images
    return records


def check_llava(data_path: Path, image_folder: Path) -> list[dict]:
    records = json.loads(data_path.read_text())  # LLaVA: json.load of one list
    assert isinstance(records, list)
    assert len({r["id"] for r in records}) == len(records)
    for record in records:
        assert set(record) >= {"id", "image", "conversations"}
        assert isinstance(record["id"], str) and isinstance(record["image"], str)
        with PIL.Image.open(image_folder / record["image"]) as image:
            image.convert("RGB")
        turns = record["conversations"]
        assert [t["from"] for t in turns] == ["human", "gpt"] * (len(turns) // 2) and turns
        assert turns[0]["value"].startswith("<image>\n")
        assert sum(t["value"].count("<image>") for t in turns) == 1
    return records


def check_messages(data_path: Path) -> list[dict]:
    lines = data_path.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        roles = [m["role"] for m in record["messages"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2) and roles
        parts = [part for m in record["messages"] for part in m["content"]]
        assert all(p["type"] in ("image", "text") for p in parts)
        assert all(isinstance(p["text"], str) for p in parts if p["type"] == "text")
        assert sum(p["type"] == "image" for p in parts) == len(record["images"]) == 1
        assert all((data_path.parent / path).is_file() for path in record["images"])
    return records


# --------------------------------------------------------------------------------- release contents


def release_rows(release: Path, config: str, split: str) -> list[dict]:
    spec = schema.config_spec(config)
    column = schema.TEXT_COLUMN[spec.task]
    rows = []
    for path in sorted(release.glob(spec.split_glob(split))):
        rows += pq.read_table(path, columns=["image_id", "file_name", "image", column]).to_pylist()
    return rows


def expected_turns(release: Path, config: str, split: str) -> dict[str, tuple[str, str, str]]:
    """text id -> (image id, user prompt, answer) for the tiny release, derived by hand from the paper. The id
    is the global one users key predictions by: the image id, a hyphen and the id the row stores."""
    turns = {}
    positioning = "Where is the aircraft located in the image?"
    for row in release_rows(release, config, split):
        questions = row.get("qa") or {"id": [], "question": [], "answer": []}  # column-wise
        for text_id, question, answer in zip(questions["id"], questions["question"], questions["answer"], strict=True):
            if row["image_id"] == "0000001" or row["image_id"] == "0000002":  # SARVQA1 images of the tiny release
                prompt = schema.CLASS_PROMPTS["positions" if question == positioning else "classes"]
                question = f"{prompt} {question}"
            turns[f"{row['image_id']}-{text_id}"] = (
                row["image_id"],
                schema.VQA_PROMPT.format(question=question),
                answer,
            )
        captions = row.get("captions") or {"id": [], "text": []}
        for text_id, caption in zip(captions["id"], captions["text"], strict=True):
            turns[f"{row['image_id']}-{text_id}"] = (row["image_id"], schema.CAPTION_PROMPT, caption)
    return turns


def user_text(record: dict, fmt: str) -> tuple[str, str]:
    """(prompt without the image token, answer) of a single-turn record."""
    if fmt == "llamafactory":
        return record["messages"][0]["content"].removeprefix("<image>"), record["messages"][1]["content"]
    if fmt == "llava":
        return record["conversations"][0]["value"].removeprefix("<image>\n"), record["conversations"][1]["value"]
    return record["messages"][0]["content"][1]["text"], record["messages"][1]["content"][0]["text"]


# ------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize(("config", "split"), [("vqa", "train"), ("vqa", "test"), ("captions", "train")])
def test_llamafactory_export_follows_its_schema_and_the_paper_prompts(tiny_release, tmp_path, config, split):
    out = tmp_path / "lf" / f"{config}_{split}.json"
    result = export(tiny_release, "llamafactory", out, config=config, split=split, progress=False)
    name = f"sarlang1m_{config}_{split}"
    assert result.dataset_info == out.parent / "dataset_info.json"
    records = check_llamafactory(result.dataset_info, name)
    expected = expected_turns(tiny_release, config, split)
    assert len(records) == result.examples == len(expected)
    for record in records:
        image_id, prompt, answer = expected[record["id"]]
        assert user_text(record, "llamafactory") == (prompt, answer)
        assert Path(record["images"][0]).stem == image_id


def test_llava_export_follows_its_schema(tiny_release, tmp_path):
    out = tmp_path / "llava" / "train.json"
    result = export(tiny_release, "llava", out, config="vqa", split="train", progress=False)
    records = check_llava(out, image_folder=out.parent)
    expected = expected_turns(tiny_release, "vqa", "train")
    assert {r["id"] for r in records} == set(expected) and result.examples == len(records)
    for record in records:
        assert user_text(record, "llava") == expected[record["id"]][1:]


def test_messages_export_follows_the_chat_template_format(tiny_release, tmp_path):
    out = tmp_path / "msg" / "test.jsonl"
    export(tiny_release, "messages", out, config="captions", split="test", progress=False)
    records = check_messages(out)
    expected = expected_turns(tiny_release, "captions", "test")
    assert {r["id"]: user_text(r, "messages") for r in records} == {k: v[1:] for k, v in expected.items()}
    loaded = datasets.load_dataset("json", data_files=str(out), split="train")
    assert loaded.num_rows == len(records)


@pytest.mark.parametrize("fmt", FORMATS)
def test_json_array_and_json_lines(tiny_release, tmp_path, fmt):
    out = tmp_path / "array.json"
    export(tiny_release, fmt, out, config="vqa", split="test", progress=False)
    assert isinstance(json.loads(out.read_text()), list)
    if fmt != "llava":
        lines = tmp_path / "lines.jsonl"
        export(tiny_release, fmt, lines, config="vqa", split="test", progress=False)
        assert [json.loads(line) for line in lines.read_text().splitlines()] == json.loads(out.read_text())


def test_images_are_written_once_with_the_release_bytes(tiny_release, tmp_path):
    images = tmp_path / "shared-images"
    first = export(tiny_release, "llava", tmp_path / "a.json", config="vqa", split="train", images_dir=images)
    rows = release_rows(tiny_release, "vqa", "train")
    assert first.images_written == len(rows) == len(list(images.iterdir())) == 3
    for row in rows:
        written = images / (row["image_id"] + Path(row["file_name"]).suffix)
        assert written.read_bytes() == row["image"]["bytes"]
    second = export(tiny_release, "messages", tmp_path / "b.jsonl", config="vqa", split="train", images_dir=images)
    assert (second.images_written, second.images_reused) == (0, 3)


def test_image_paths_are_relative_to_the_output_file(tiny_release, tmp_path):
    out = tmp_path / "exports" / "vqa.json"
    images = tmp_path / "pixels"
    export(tiny_release, "llava", out, config="vqa", split="test", images_dir=images, progress=False)
    paths = {r["image"] for r in json.loads(out.read_text())}
    assert paths and all(p.startswith("../pixels/") for p in paths)
    check_llava(out, image_folder=out.parent)


def test_dataset_info_keeps_other_entries(tiny_release, tmp_path):
    info = tmp_path / "dataset_info.json"
    info.write_text(json.dumps({"mine": {"file_name": "mine.json"}}))
    export(tiny_release, "llamafactory", tmp_path / "v.json", config="vqa", split="test", progress=False)
    export(tiny_release, "llamafactory", tmp_path / "c.json", config="captions", split="test", dataset_name="caps")
    assert set(json.loads(info.read_text())) == {"mine", "sarlang1m_vqa_test", "caps"}
    check_llamafactory(info, "caps")


def test_class_prompts_and_prompts_can_be_changed(tiny_release, tmp_path):
    out = tmp_path / "plain.json"
    export(tiny_release, "llava", out, config="vqa", split="train", class_prompts=False, vqa_prompt="Q: {question}")
    rows = release_rows(tiny_release, "vqa", "train")
    raw = {
        f"{row['image_id']}-{i}": q for row in rows for i, q in zip(row["qa"]["id"], row["qa"]["question"], strict=True)
    }
    assert {r["id"]: user_text(r, "llava")[0] for r in json.loads(out.read_text())} == {
        i: f"Q: {q}" for i, q in raw.items()
    }


def test_progress_bar_counts_the_manifest_texts(tiny_release, tmp_path, capsys):
    export(tiny_release, "llava", tmp_path / "p.json", config="vqa", split="train", progress=True)
    assert "5/5" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------- bad input


def test_bad_arguments_are_named(tiny_release, tmp_path):
    with pytest.raises(ValueError, match="unknown export format 'alpaca'"):
        export(tiny_release, "alpaca", tmp_path / "x.json")
    with pytest.raises(ValueError, match=r"x\.jsonl: LLaVA reads one JSON array"):
        export(tiny_release, "llava", tmp_path / "x.jsonl")
    with pytest.raises(ValueError, match=r"\{question\} field"):
        export(tiny_release, "llava", tmp_path / "x.json", vqa_prompt="Answer concisely.")
    with pytest.raises(ValueError, match="unknown config 'vqa-huge'"):
        export(tiny_release, "llava", tmp_path / "x.json", config="vqa-huge")
    with pytest.raises(ValueError, match="validation"):
        export(tiny_release, "llava", tmp_path / "x.json", split="validation", progress=False)
    with pytest.raises(ValueError, match="not to captions"):
        export(tiny_release, "llava", tmp_path / "x.json", config="captions", class_prompts=True)
    assert not list(tmp_path.iterdir())


def test_a_conflicting_image_stops_the_export_and_leaves_no_output(tiny_release, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    (images / "SN6_Rotterdam_1.png").write_bytes(b"not this image")
    out = tmp_path / "out.json"
    with pytest.raises(FileExistsError, match=r"SN6_Rotterdam_1\.png exists with other content"):
        export(tiny_release, "llava", out, config="vqa", split="train", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images"]


def test_a_broken_dataset_info_is_named(tiny_release, tmp_path):
    (tmp_path / "dataset_info.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"dataset_info\.json: not valid JSON"):
        export(tiny_release, "llamafactory", tmp_path / "v.json", config="vqa", split="test", progress=False)


def test_an_export_of_a_synthetic_release_says_so(tiny_release, tmp_path):
    result = export(tiny_release, "messages", tmp_path / "m.jsonl", config="captions", split="test", progress=False)
    assert result.synthetic and result.summary().startswith("SYNTHETIC release: wrote ")


def test_an_output_that_cannot_be_written_is_refused_before_any_image_is_written(tiny_release, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(ValueError, match=rf"^{folder}: is a folder; give the path of the file to write"):
        export(tiny_release, "llava", folder, progress=False)
    afile = tmp_path / "notes.txt"
    afile.write_text("a file")
    with pytest.raises(ValueError, match=rf"^{afile}/x\.json: cannot be created: {afile} is a file, not a folder$"):
        export(tiny_release, "llava", afile / "x.json", progress=False)
    with pytest.raises(ValueError, match=rf"^{afile}: is a file, not a folder the images can go into$"):
        export(tiny_release, "llava", tmp_path / "x.json", images_dir=afile, progress=False)
    with pytest.raises(ValueError, match=rf"^{afile}/images: cannot be created: {afile} is a file"):
        export(tiny_release, "llava", tmp_path / "x.json", images_dir=afile / "images", progress=False)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["exports", "notes.txt"]  # no image, no partial file


def test_the_command_names_the_output_it_was_given(tiny_release, tmp_path):
    """One line naming the path the user gave and why it cannot be written; never "File exists", never a hidden
    partial file."""
    (tmp_path / "out.json").mkdir()
    (tmp_path / "notes.txt").write_text("a file")
    for out, reason in (("out.json", "is a folder"), ("notes.txt/x.json", "notes.txt is a file, not a folder")):
        done = subprocess.run(
            [sys.executable, "-m", "sarlang1m.cli", "export", "llava", str(tiny_release), "--out", out],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.splitlines()[-1].startswith(f"sarlang1m export: error: {out}: "), done.stderr
        assert reason in done.stderr and "partial" not in done.stderr and "File exists" not in done.stderr
    assert not (tmp_path / "images").exists()
