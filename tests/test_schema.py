"""The schema is the one definition of the release: each column once, with its feature and description."""

from __future__ import annotations

import json
import re

import datasets
import pytest

from sarlang1m import schema
from sarlang1m.errors import ReleaseError
from sarlang1m.summary import configs_from_json, configs_to_json


def test_every_column_of_every_task_has_one_definition_with_a_description():
    names = [c.name for c in schema.COLUMNS]
    assert len(names) == len(set(names))
    for task in schema.TASKS:
        assert set(schema.FEATURES[task]) <= set(schema.COLUMN_DESCRIPTIONS)
        assert all(schema.COLUMN_DESCRIPTIONS[name].strip() for name in schema.FEATURES[task])
        assert schema.TEXT_COLUMN[task] in schema.FEATURES[task]
    assert "qa" not in schema.FEATURES["captions"] and "subset" in schema.FEATURES["vqa"]


def test_a_column_without_a_description_is_refused():
    with pytest.raises(ValueError, match="column 'new' needs a description"):
        schema.Column("new", datasets.Value("string"), "  ")


def test_the_card_shows_every_column_with_its_description(built_tiny_release):
    card = (built_tiny_release / schema.CARD_FILE).read_text(encoding="utf-8")
    for column in schema.COLUMNS:
        assert f"| `{column.name}` |" in card and column.description.split(";")[0].split("(")[0].strip() in card


def test_config_summaries_read_back_the_manifest_as_written(tiny_release):
    """The MANIFEST's `configs` -> ConfigSummary -> JSON gives the same object, keys in the same order."""
    written = json.loads((tiny_release / schema.MANIFEST_FILE).read_text(encoding="utf-8"))["configs"]
    configs = configs_from_json(written)
    assert configs["vqa"].default and configs["vqa"].splits["train"].data_files == "data/vqa/*/*/train-*.parquet"
    assert json.dumps(configs_to_json(configs)) == json.dumps(written)


def test_a_malformed_config_summary_is_a_release_error_naming_it(tiny_release):
    written = json.loads((tiny_release / schema.MANIFEST_FILE).read_text(encoding="utf-8"))["configs"]
    del written["captions"]["splits"]["train"]["num_bytes"]
    with pytest.raises(ReleaseError, match=r"configs\['captions'\] is malformed \(KeyError: 'num_bytes'\)"):
        configs_from_json(written)


# ------------------------------------------------------------------------- column-wise texts


def test_text_records_turn_column_wise_texts_into_one_dict_per_text_and_back():
    questions = [
        {
            "id": "q1",
            "question": "Is there a ship?",
            "answer": "Yes.",
            "application": "object_identification",
            "subtype": None,
            "bbox": None,
        },
        {
            "id": "q2",
            "question": "What is in the region [3.0, 4.0, 10.0, 8.0]?",
            "answer": "Ship.",
            "application": "region_referring",
            "subtype": None,
            "bbox": [3.0, 4.0, 10.0, 8.0],
        },
    ]
    columns = schema.text_columns("vqa", questions)
    assert list(columns) == list(schema.QA_FIELDS)
    assert columns["answer"] == ["Yes.", "Ship."] and columns["bbox"] == [None, [3.0, 4.0, 10.0, 8.0]]
    assert schema.text_records("vqa", columns) == questions
    assert schema.text_records("qa", columns) == questions  # the column's name works as well as the task's
    captions = [{"id": "c1", "text": "A port.", "style": "concise"}]
    assert schema.text_records("captions", schema.text_columns("captions", captions)) == captions


def test_the_global_text_id_is_the_image_id_a_hyphen_and_the_stored_id():
    """The id predictions files are keyed by: the same string as when rows stored it whole (format 2)."""
    assert schema.text_id("SV_Darwin_-12.4278_130.8688", "c64174c982b") == "SV_Darwin_-12.4278_130.8688-c64174c982b"
    assert schema.local_text_id("SV_Darwin_-12.4278_130.8688", "SV_Darwin_-12.4278_130.8688-c64174c982b") == (
        "c64174c982b"
    )
    for wrong in ("SV_Darwin_-12.4278_130.8688-", "0000001-q1", "c64174c982b"):
        with pytest.raises(ValueError, match=re.escape("is not of image 'SV_Darwin_-12.4278_130.8688'")):
            schema.local_text_id("SV_Darwin_-12.4278_130.8688", wrong)


def test_text_records_give_global_ids_when_told_the_image():
    columns = schema.text_columns("vqa", [{"id": "q1", "question": "Q?"}, {"id": "q2", "question": "R?"}])
    records = schema.text_records("vqa", columns, image_id="0000001")
    assert [r["id"] for r in records] == ["0000001-q1", "0000001-q2"]
    assert [r["question"] for r in records] == ["Q?", "R?"]
    assert columns["id"] == ["q1", "q2"]  # the row's value is not changed
    assert [r["id"] for r in schema.text_records("vqa", columns)] == ["q1", "q2"]  # as stored
    columns["answer"] = ["A."]
    with pytest.raises(ReleaseError, match=r"row '0000001': .*different numbers"):  # the image names the row
        schema.text_records("vqa", columns, image_id="0000001")


def test_the_column_wise_form_is_what_the_features_store():
    """Through Arrow and back as `datasets` reads it: the release's features hold exactly this shape."""
    row = {"qa": schema.text_columns("vqa", [{"id": "a", "question": "Q?", "answer": "A.", "bbox": [1.0, 2.0]}])}
    features = datasets.Features({"qa": schema.FEATURES["vqa"]["qa"]})
    stored = datasets.Dataset.from_list([row], features=features)[0]["qa"]
    assert stored == row["qa"]
    assert schema.text_records("vqa", stored)[0]["bbox"] == [1.0, 2.0]


def test_no_texts_are_an_empty_list():
    assert schema.text_records("vqa", None) == []
    assert schema.text_records("vqa", schema.text_columns("vqa", [])) == []
    assert schema.text_records("captions", {}) == []


def test_fields_of_different_lengths_are_an_error_naming_the_row():
    columns = schema.text_columns("captions", [{"id": "a", "text": "A port.", "style": "concise"}] * 2)
    columns["style"] = ["concise"]
    with pytest.raises(ReleaseError, match=r"row 'SN6_Rotterdam_1': .*'captions'.* different numbers.*'style': 1"):
        schema.text_records("captions", columns, row="SN6_Rotterdam_1")


def test_texts_in_the_old_list_of_records_layout_or_with_unknown_fields_are_refused():
    with pytest.raises(ReleaseError, match=r"row 'img': 'qa' is a list, not the column-wise mapping.*rebuild"):
        schema.text_records("qa", [{"id": "a", "question": "Q?"}], row="img")
    with pytest.raises(ReleaseError, match=r"unknown field\(s\) \['question'\]"):
        schema.text_records("captions", {"id": ["a"], "question": ["Q?"]})
    with pytest.raises(ValueError, match="unknown task or text column 'image'"):
        schema.text_records("image", {})


def test_text_count_counts_without_building_records_and_checks_the_same_shape():
    columns = schema.text_columns("captions", [{"id": "c1", "text": "A port.", "style": "concise"}] * 3)
    assert schema.text_count("captions", columns) == 3 == len(schema.text_records("captions", columns))
    assert schema.text_count("qa", None) == 0
    columns["text"] = ["A port."]
    with pytest.raises(ReleaseError, match=r"row 'img': .*different numbers"):
        schema.text_count("captions", columns, row="img")


def test_every_config_is_described_by_a_sentence():
    """Config descriptions reach the card, its YAML and Croissant: sentences, not "vqa on unknown within ..."."""
    specs = schema.config_specs()
    for spec in specs:
        assert re.fullmatch(r"[A-Z][^.]*(\.[^.]+)*\.", spec.description), spec.description
        assert not spec.description.startswith(f"{spec.task} on "), spec.description
    described = {spec.name: spec.description for spec in specs}
    assert described["vqa-vhr"] == "Visual questions on very high resolution images (GSD up to 0.5 m)."
    assert described["captions-mixed"] == (
        "Captions of images of unknown resolution within 0.1-25 m (SARDet-100K images, whose source dataset is "
        "not known)."
    )
