"""croissant.json: validated by mlcroissant, and its records are the release's rows, config by config."""

import json
import logging

import mlcroissant
import numpy as np
import PIL.Image
import pytest
from datasets import load_dataset

from sarlang1m import schema
from sarlang1m.card.changelog import read_changelog
from sarlang1m.card.croissant import REPO_ID, croissant_metadata, open_croissant
from sarlang1m.publish.manifest import read_manifest
from sarlang1m.summary import ConfigSummary, SplitSummary

# rdflib and pandas deprecations raised inside mlcroissant, not in this package.
pytestmark = [
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated"),
    pytest.mark.filterwarnings("ignore:The inplace keyword"),
]


def text(value):
    """mlcroissant returns sc:Text values as bytes."""
    return value.decode() if isinstance(value, bytes) else value


def test_mlcroissant_validates_it_without_warnings(built_tiny_release, caplog):
    with caplog.at_level(logging.WARNING):
        dataset = open_croissant(built_tiny_release)
    assert not dataset.metadata.issues.errors and not dataset.metadata.issues.warnings
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_records_are_the_rows_of_each_config(built_tiny_release, caplog):
    manifest = read_manifest(built_tiny_release)
    for config, summary in manifest["configs"].items():
        loaded = load_dataset(str(built_tiny_release), config)
        expected = {(split, row["image_id"]): row for split in loaded for row in loaded[split]}
        with caplog.at_level(logging.WARNING):
            records = list(open_croissant(built_tiny_release).records(config))
        assert not [r for r in caplog.records if "Could not match" in r.getMessage()]
        got = {(text(r[f"{config}/split"]), text(r[f"{config}/image_id"])): r for r in records}
        assert set(got) == set(expected), config
        column = schema.TEXT_COLUMN[summary["task"]]
        for key, record in got.items():
            row = expected[key]
            # column-wise texts: one array per field
            fields = record[f"{config}/{column}"]
            texts = {name.rsplit("/", 1)[1]: [text(v) for v in values] for name, values in fields.items()}
            assert texts == row[column], key
            image = record[f"{config}/image"]
            assert isinstance(image, PIL.Image.Image) and image.size == row["image"].size
            assert text(record[f"{config}/sar_path"]) == row["sar_path"]
            assert record[f"{config}/sar_bytes"] == row["sar_bytes"]
            assert [text(p) for p in record[f"{config}/polarizations"]] == row["polarizations"]
            assert record[f"{config}/lat"] == row["lat"] and text(record[f"{config}/source"]) == row["source"]


def test_split_filters_read_one_split(built_tiny_release):
    manifest = read_manifest(built_tiny_release)
    for config in ("vqa", "vqa-vhr", "captions"):
        for split in manifest["configs"][config]["splits"]:
            records = list(open_croissant(built_tiny_release).records(config, filters={f"{config}/split": split}))
            expected = load_dataset(str(built_tiny_release), config, split=split)["image_id"]
            assert sorted(text(r[f"{config}/image_id"]) for r in records) == sorted(expected), (config, split)
            assert {text(r[f"{config}/split"]) for r in records} == {split}


def test_metadata_carries_licences_citation_version_and_files(built_tiny_release):
    metadata = json.loads((built_tiny_release / schema.CROISSANT_FILE).read_text())
    manifest = read_manifest(built_tiny_release)
    assert metadata["conformsTo"] == "http://mlcommons.org/croissant/1.1"
    assert metadata["isLiveDataset"] is False
    assert metadata["version"] == schema.RELEASE_VERSION
    dates = {e.version: e.date for e in read_changelog()}
    assert metadata["datePublished"] == dates[schema.RELEASE_VERSION]
    assert "https://creativecommons.org/licenses/by-nc/4.0/" in metadata["license"]
    assert schema.SOURCES["dfc2023"].license_url in metadata["license"]
    assert metadata["name"].endswith("(synthetic)") and "synthetic" in metadata["keywords"]
    assert metadata["description"].startswith("SYNTHETIC DATA")
    repo = next(d for d in metadata["distribution"] if d["@id"] == REPO_ID)
    assert repo["contentUrl"] == f"https://huggingface.co/datasets/{schema.DEFAULT_REPO_ID}/tree/v1.0.0"
    file_sets = {d["@id"]: d for d in metadata["distribution"] if d["@type"] == "cr:FileSet"}
    for config, summary in manifest["configs"].items():
        assert file_sets[f"{config}-parquet"]["includes"] == [i["data_files"] for i in summary["splits"].values()]
    record_sets = {r["@id"]: r for r in metadata["recordSet"]}
    assert set(record_sets) == {"splits", *manifest["configs"]}
    assert [d["splits/split_name"] for d in record_sets["splits"]["data"]] == list(schema.SPLITS)
    image = next(f for f in record_sets["vqa"]["field"] if f["name"] == "image")
    assert image["dataType"] == "sc:ImageObject"


def test_a_synthetic_release_describes_itself_truthfully(built_tiny_release):
    """Its own counts, said to be synthetic; created by the package, the paper only as what it imitates."""
    metadata = json.loads((built_tiny_release / schema.CROISSANT_FILE).read_text())
    configs = read_manifest(built_tiny_release)["configs"]
    questions = sum(s["texts"] for s in configs["vqa"]["splits"].values())
    captions = sum(s["texts"] for s in configs["captions"]["splits"].values())
    description = metadata["description"]
    assert description.startswith("SYNTHETIC DATA, NOT SARLANG-1M") and "1.13 million" not in description
    assert f"{questions:,} visual questions on " in description and f"{captions:,} captions on " in description
    assert [(c["@type"], c["name"]) for c in metadata["creator"]] == [("sc:Organization", "sarlang1m")]
    assert "Yimin Wei" not in json.dumps(metadata["creator"]) and "sameAs" not in metadata
    assert metadata["citeAs"] != schema.citation() and "synthetic" in metadata["citeAs"]
    assert metadata["alternateName"] == [schema.DEFAULT_REPO_ID]  # not "sarlang-1m"
    paper = metadata["isBasedOn"]
    assert paper["url"] == schema.PAPER_URL and paper["name"].startswith("SARLANG-1M: A benchmark")
    assert [a["name"] for a in paper["author"]][:2] == ["Yimin Wei", "Aoran Xiao"]


def test_metadata_for_a_real_release_and_another_repo():
    test_split = SplitSummary(1, 1, 1, 0, 0, data_files="data/vqa/*/*/test-*.parquet")
    configs = {"vqa": ConfigSummary("vqa", "All visual questions.", True, None, None, {"test": test_split})}
    metadata = croissant_metadata(configs, version="2.0.0", synthetic=False, repo_id="me/copy")
    assert metadata["name"] == "SARLANG-1M" and "synthetic" not in metadata["keywords"]
    assert (
        "SYNTHETIC" not in metadata["description"] and "1 visual questions on 1 image rows" in metadata["description"]
    )
    assert metadata["citeAs"] == schema.citation() and "isBasedOn" not in metadata
    assert [c["name"] for c in metadata["creator"]][:2] == ["Yimin Wei", "Aoran Xiao"]
    assert "datePublished" not in metadata  # 2.0.0 has no dated changelog entry
    assert metadata["url"] == "https://huggingface.co/datasets/me/copy"
    assert [d["splits/split_name"] for d in metadata["recordSet"][0]["data"]] == ["test"]
    dataset = mlcroissant.Dataset(jsonld=metadata)
    assert not dataset.metadata.issues.errors


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="configs is empty"):
        croissant_metadata({}, version="1.0.0", synthetic=True)
    train = SplitSummary(0, 0, 0, 0, 0, "x")
    bad = {"mine": ConfigSummary("vqa", "", True, None, None, {"train": train})}
    with pytest.raises(ValueError, match="unknown config 'mine'"):
        croissant_metadata(bad, version="1.0.0", synthetic=True)
    with pytest.raises(FileNotFoundError, match=r"croissant\.json: no Croissant metadata"):
        open_croissant(tmp_path)


def test_images_decode_from_the_records(built_tiny_release):
    record = next(iter(open_croissant(built_tiny_release).records("sarvqa1")))
    split, image_id = text(record["sarvqa1/split"]), text(record["sarvqa1/image_id"])
    row = next(r for r in load_dataset(str(built_tiny_release), "sarvqa1", split=split) if r["image_id"] == image_id)
    assert np.array_equal(np.asarray(record["sarvqa1/image"]), np.asarray(row["image"]))  # the same pixels
