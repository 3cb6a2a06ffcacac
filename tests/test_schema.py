"""The schema is the one definition of the release: each column once, with its feature and description."""

from __future__ import annotations

import json

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
