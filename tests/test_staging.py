"""Staging: texts labelled, duplicates found, images matched, shards planned."""

import hashlib
import json
import re

import pytest

from sarlang1m import schema
from sarlang1m.build.report import MissingImagesError
from sarlang1m.build.staging import Partition, Staging, text_id
from sarlang1m.raw import open_layout


def stage(raw, tmp_path, **kwargs):
    return Staging.build(open_layout(raw), tmp_path / "staging.sqlite", progress=False, **kwargs)


def test_every_text_is_staged_with_its_labels(tiny_raw, tmp_path):
    staging = stage(tiny_raw, tmp_path)
    partition = Partition("vqa", "sarvqa1", "mixed", "train")
    texts = staging.texts(partition, "0000001")  # column-wise, as the release stores them
    assert list(texts) == list(schema.QA_FIELDS)
    assert texts["application"] == ["object_identification", "instance_counting", "region_referring"]
    assert texts["bbox"] == [None, None, [3.0, 4.0, 10.0, 8.0]]
    assert "answer_type" not in texts  # derived from the answer on read (pairs, evaluator), not stored
    captions = staging.texts(Partition("captions", None, "vhr", "train"), "SN6_Rotterdam_1")
    assert list(captions) == list(schema.CAPTION_FIELDS)
    assert captions["style"] == ["concise", "detailed"]  # mixed training file: by length
    assert all(a.balanced() for a in staging.file_accounts())


def test_ids_are_stable_and_distinct():
    a = text_id("vqa", "sarvqa1", "train", "0000001", "Is there a ship?", "Yes.")
    assert a == text_id("vqa", "sarvqa1", "train", "0000001", "Is there a ship?", "Yes.")
    assert a.startswith("0000001-q")
    assert a != text_id("vqa", "sarvqa1", "test", "0000001", "Is there a ship?", "Yes.")
    assert a != text_id("vqa", "sarvqa1", "train", "0000001", "Is there a ship?", "No.")
    assert text_id("captions", None, "train", "x", None, "A port.").startswith("x-c")


def test_a_global_id_is_the_image_id_and_a_hash_and_rows_get_the_part_after_the_image_id(tiny_raw, tmp_path):
    """The global id (build report, predictions files) is the string builds have always given a text;
    `Staging.texts` gives the id local to the image, which rows store."""
    fields = "\x1f".join(("vqa", "sarvqa1", "train", "0000001", "Is there a ship?", "Yes."))
    digest = hashlib.blake2b(fields.encode("utf-8"), digest_size=5).hexdigest()
    assert text_id("vqa", "sarvqa1", "train", "0000001", "Is there a ship?", "Yes.") == f"0000001-q{digest}"
    staging = stage(tiny_raw, tmp_path)
    partition = Partition("vqa", "sarvqa1", "mixed", "train")
    staged = [
        row[0]
        for row in staging.db.execute(
            "SELECT id FROM texts WHERE task = 'vqa' AND subset = 'sarvqa1' AND split = 'train'"
            " AND image_id = '0000001' AND skip IS NULL ORDER BY seq"
        )
    ]
    local = staging.texts(partition, "0000001")["id"]
    assert len(local) == 3 and all(re.fullmatch(r"q[0-9a-f]{10}", i) for i in local)
    assert [schema.text_id("0000001", i) for i in local] == staged


def test_duplicates_are_skipped_and_point_to_the_first(tiny_raw, tmp_path):
    path = tiny_raw / "Text" / "VQA" / "train" / "SARVQA2_train.csv"
    path.write_text(path.read_text() + "SN6_Rotterdam_1.png,What is the shape of the largest building?,Rectangular.\n")
    staging = stage(tiny_raw, tmp_path)
    skipped = list(staging.skipped())
    assert [(s["file"], s["row"], s["reason"]) for s in skipped] == [
        ("Text/VQA/train/SARVQA2_train.csv", 4, "duplicate")
    ]
    assert "SARVQA2_train.csv row 2" in skipped[0]["detail"]
    account = next(a for a in staging.file_accounts() if a.path.endswith("SARVQA2_train.csv"))
    assert (account.rows, account.used, account.skipped) == (3, 2, {"duplicate": 1})


def test_missing_image_is_an_error_naming_it(tiny_raw, tmp_path):
    (tiny_raw / "SARDet_100K" / "JPEGImages" / "train" / "0000001.png").unlink()
    with pytest.raises(MissingImagesError, match=r"1 referenced image\(s\) missing, used by 3 text\(s\)") as error:
        stage(tiny_raw, tmp_path)
    assert "0000001.png" in str(error.value) and "--allow-missing" in str(error.value)


def test_missing_image_with_allow_missing_is_reported_per_text(tiny_raw, tmp_path):
    (tiny_raw / "SARDet_100K" / "JPEGImages" / "train" / "0000001.png").unlink()
    staging = stage(tiny_raw, tmp_path, allow_missing=True)
    skipped = list(staging.skipped())
    assert [(s["reason"], s["turn"]) for s in skipped] == [
        ("missing_image", 0),
        ("missing_image", 1),
        ("missing_image", 2),
    ]
    assert all(s["id"].startswith("0000001-q") for s in skipped)
    assert all(a.balanced() for a in staging.file_accounts())


def test_sardet_images_flat_in_sarimages_are_found(tiny_raw, tmp_path):
    sardet = tiny_raw / "SARDet_100K"
    for image in sardet.rglob("*.png"):
        image.rename(tiny_raw / "SARimages" / image.name)
    staging = stage(tiny_raw, tmp_path)
    rows = list(staging.image_rows(Partition("vqa", "sarvqa1", "mixed", "train")))
    assert [(r.image_id, r.image_kind) for r in rows] == [("0000001", "preprocessed")]


def test_image_without_png_is_generated_from_its_geotiff(tiny_raw, tmp_path):
    staging = stage(tiny_raw, tmp_path)
    rows = list(staging.image_rows(Partition("vqa", "sarvqa2", "high", "train")))
    assert [(r.image_id, r.image_kind) for r in rows] == [("SV_Darwin_-12.4278_130.8688", "generated")]


def test_shards_split_by_bytes_and_are_never_empty(tiny_raw, tmp_path):
    staging = stage(tiny_raw, tmp_path, max_shard_bytes=1)
    for partition, shards in staging.partitions():
        counts = [len(list(staging.image_rows(partition, shard))) for shard in range(shards)]
        assert all(counts) and sum(counts) == len(list(staging.image_rows(partition)))


def test_split_leak_is_a_warning(tiny_raw, tmp_path):
    test_csv = tiny_raw / "Text" / "VQA" / "test" / "SARVQA2_test.csv"
    test_csv.write_text(test_csv.read_text() + "SN6_Rotterdam_1.png,Is there a ship?,No.\n")
    warnings = stage(tiny_raw, tmp_path).warnings()
    assert any("both train and test" in w and "SN6_Rotterdam_1" in w for w in warnings)


def test_twin_files_are_recorded_not_read(tiny_raw, tmp_path):
    json_twin = tiny_raw / "Text" / "VQA" / "train" / "SARVQA2_train.json"
    json_twin.write_text(
        json.dumps(
            [
                {
                    "images": ["SN6_Rotterdam_1.png"],
                    "messages": [
                        {"role": "user", "content": "<image>Is there a ship?"},
                        {"role": "assistant", "content": "No."},
                    ],
                }
            ]
        )
    )
    accounts = {a.path: a for a in stage(tiny_raw, tmp_path).file_accounts()}
    assert accounts["Text/VQA/train/SARVQA2_train.json"].twins_not_read == ["Text/VQA/train/SARVQA2_train.csv"]
    assert "Text/VQA/train/SARVQA2_train.csv" not in accounts


def test_shard_counts_can_be_a_multiple_of_the_readers(tmp_path):
    from sarlang1m.synth import write_synthetic_release

    raw = tmp_path / "raw"
    write_synthetic_release(raw, images=64, seed=1, progress=False)
    staging = Staging.build(open_layout(raw), tmp_path / "s.sqlite", progress=False, shard_multiple=4)
    for partition, shards in staging.partitions():
        images = len(list(staging.image_rows(partition)))
        assert shards % 4 == 0 or shards == images < 4, (partition, shards, images)
        assert all(list(staging.image_rows(partition, shard)) for shard in range(shards))
    with pytest.raises(ValueError, match="shard_multiple"):
        Staging.build(open_layout(raw), tmp_path / "t.sqlite", progress=False, shard_multiple=0)
