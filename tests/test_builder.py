"""The SARLANG1M datasets builder reads the raw release and yields the release's own records."""

import json
import shutil

import pyarrow.parquet as pq
import pytest
from zip_archives import zip_tree

from sarlang1m import schema
from sarlang1m.build.builder import SARLANG1M
from sarlang1m.card.croissant import croissant_metadata
from sarlang1m.publish.manifest import read_manifest
from sarlang1m.summary import configs_from_json


def test_builder_configs_cover_every_named_config():
    names = {config.name for config in SARLANG1M.BUILDER_CONFIGS}
    assert names == {spec.name for spec in schema.config_specs()}
    assert SARLANG1M.DEFAULT_CONFIG_NAME == "vqa"


@pytest.mark.parametrize("config", ["vqa", "captions", "sarvqa1", "vqa-vhr"])
def test_builder_matches_the_release(tiny_raw, built_tiny_release, tmp_path, config):
    builder = SARLANG1M(config_name=config, data_dir=str(tiny_raw), cache_dir=str(tmp_path / "cache"))
    builder.download_and_prepare()
    for split in builder.info.splits:
        built = builder.as_dataset(split=split).remove_columns(["image"])
        spec = schema.config_spec(config)
        files = sorted(built_tiny_release.glob(spec.split_glob(split)))
        expected = [
            {k: v for k, v in row.items() if k != "image"} for path in files for row in pq.read_table(path).to_pylist()
        ]
        assert sorted(built.to_list(), key=lambda r: r["image_id"]) == sorted(expected, key=lambda r: r["image_id"])


def test_builder_needs_the_raw_release(tmp_path):
    builder = SARLANG1M(config_name="vqa", cache_dir=str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="data_dir"):
        builder.download_and_prepare()


def test_builder_streams(tiny_raw):
    builder = SARLANG1M(config_name="captions", data_dir=str(tiny_raw))
    rows = list(builder.as_streaming_dataset(split="test"))
    assert [r["image_id"] for r in rows] == ["France_Alpes-Maritimes_Nice_3"]
    assert rows[0]["captions"]["style"] == ["detailed", "concise"]


def test_builder_cites_and_links_what_the_card_and_croissant_do(tiny_release, tmp_path):
    """One citation and one homepage for the builder, the card and the Croissant metadata of a real release; a
    synthetic release's Croissant names the paper only as what it imitates."""
    info = SARLANG1M(config_name="vqa", cache_dir=str(tmp_path / "cache")).info
    assert info.citation == schema.citation() and info.homepage == schema.AUTHORS_REPO_URL
    assert schema.citation() in (tiny_release / schema.CARD_FILE).read_text(encoding="utf-8")
    configs = configs_from_json(read_manifest(tiny_release)["configs"])
    real = croissant_metadata(configs, version=schema.RELEASE_VERSION, synthetic=False)
    assert real["citeAs"] == schema.citation() and schema.AUTHORS_REPO_URL in real["sameAs"]
    synthetic = json.loads((tiny_release / schema.CROISSANT_FILE).read_text(encoding="utf-8"))
    assert synthetic["isBasedOn"]["url"] == schema.PAPER_URL and "sameAs" not in synthetic


def test_builder_reads_the_raw_release_from_archives_as_from_its_folder(tiny_raw, tmp_path):
    """The upload's form: the texts and images in archives beside SARDet-100K's folder (tiny raw, synthetic)."""
    upload = tmp_path / "upload"
    shutil.copytree(tiny_raw / "SARDet_100K", upload / "SARDet_100K")
    for folder in ("Text", "SARimages", "SARimages_original"):
        zip_tree(upload / f"{folder}.zip", tiny_raw / folder, prefix=f"{folder}/")
    rows = {}
    for form, raw in (("folder", tiny_raw), ("archives", upload)):
        builder = SARLANG1M(config_name="vqa", data_dir=str(raw), cache_dir=str(tmp_path / f"cache-{form}"))
        builder.download_and_prepare()
        rows[form] = {split: builder.as_dataset(split=split).to_list() for split in builder.info.splits}
    assert rows["archives"] == rows["folder"] and rows["folder"]["train"]
