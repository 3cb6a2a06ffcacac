"""--shard-multiple N: every partition with at least N rows gets a multiple of N shards, none empty; the
partitions with fewer rows, and the configs they leave short, are named in the build's output and report."""

import json

import pytest

from sarlang1m import schema
from sarlang1m.build.release import build_release
from sarlang1m.build.shard_plan import shard_count
from sarlang1m.build.staging import Staging
from sarlang1m.raw import open_layout
from sarlang1m.synth import write_synthetic_release


@pytest.fixture(scope="module")
def synthetic_raw(tmp_path_factory: pytest.TempPathFactory):
    raw = tmp_path_factory.mktemp("shards") / "raw"
    write_synthetic_release(raw, images=64, seed=1, progress=False)
    return raw


@pytest.mark.parametrize(
    ("total_bytes", "rows", "max_bytes", "multiple", "shards"),
    [
        (100, 100, 1000, 8, 8),  # one shard by bytes, rounded up to the multiple
        (9000, 10, 1000, 8, 8),  # nine by bytes, 16 would leave shards empty: the largest multiple that fits
        (5000, 5, 1000, 8, 5),  # fewer rows than the multiple: one shard per row
        (3000, 2, 1000, 1, 2),  # never more shards than rows
        (2500, 40, 1000, 1, 3),
        (17_000, 40, 1000, 4, 20),
    ],
)
def test_shard_count(total_bytes, rows, max_bytes, multiple, shards):
    assert shard_count(total_bytes, rows, max_bytes, multiple) == shards


def test_a_multiple_holds_even_when_the_bytes_ask_for_more_shards_than_rows(synthetic_raw, tmp_path):
    """One byte per shard asks for a shard per row; rounding up would then leave shards empty."""
    staging = Staging.build(
        open_layout(synthetic_raw), tmp_path / "s.sqlite", progress=False, shard_multiple=4, max_shard_bytes=1
    )
    for partition, shards in staging.partitions():
        rows = len(list(staging.image_rows(partition)))
        assert shards % 4 == 0 if rows >= 4 else shards == rows, (partition, rows, shards)
        assert all(list(staging.image_rows(partition, shard)) for shard in range(shards))


def test_partitions_too_small_for_the_multiple_are_named_in_the_output_and_report(synthetic_raw, tmp_path):
    out = tmp_path / "out"
    result = build_release(synthetic_raw, out, shard_multiple=8, progress=False)
    report = json.loads((out / schema.REPORT_FILE).read_text())["shard_multiple"]
    manifest = json.loads((out / schema.MANIFEST_FILE).read_text())
    files: dict[str, int] = {}
    for name in manifest["files"]:
        if name.endswith(".parquet"):
            partition = name.rsplit("-", 3)[0]  # data/vqa/sarvqa2/vhr/train
            files[partition] = files.get(partition, 0) + 1
    small = {p: n for p, n in files.items() if n % 8}
    assert small and report["multiple"] == 8 and set(report["partitions_with_fewer_rows"]) == set(small)
    assert all(rows < 8 for rows in report["partitions_with_fewer_rows"].values())
    uneven = {
        f"{name}/{split}": info["files"]
        for name, config in manifest["configs"].items()
        for split, info in config["splits"].items()
        if info["files"] % 8
    }
    assert report["configs_not_a_multiple"] == uneven and "vqa/train" in uneven
    warned = "\n".join(result.warnings)
    assert "--shard-multiple 8 (shard_multiple=8 in Python)" in warned
    assert all(p in warned for p in small) and f"vqa/train ({uneven['vqa/train']} files)" in warned


def test_no_shard_multiple_entry_when_every_count_is_a_multiple(synthetic_raw, tmp_path):
    result = build_release(synthetic_raw, tmp_path / "out", progress=False)
    assert "shard_multiple" not in json.loads((tmp_path / "out" / schema.REPORT_FILE).read_text())
    assert not any("shard" in warning for warning in result.warnings)
