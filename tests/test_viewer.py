"""Dataset Viewer compatibility, checked by the viewer's own rules (re-implemented here, on purpose).

The rules, from the open-source dataset-viewer service (production limits):
- an `Image` cell is opened with PIL and re-encoded as JPEG, else PNG; a cell that does neither fails;
- Parquet files are used as they are only if no row group is over 100 MB (uncompressed), else re-converted;
- a page of 100 rows is served by reading the whole row groups that hold it, at most 300 MB of them;
- the first-rows response keeps at least 10 rows and at most 100 under 200 KB of JSON: Image cells become
  asset URLs, other cells (binary as base64) are cut to 100 bytes, last rows first, when over the limit;
- split names match `^\\w+(\\.\\w+)*$` (no dashes), at most 30 splits per config, at most 4,000 configs,
  config names usable as folder names, and one default config.
"""

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import PIL.Image
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from datasets import Features, get_dataset_config_names, get_dataset_default_config_name

from sarlang1m import card as card_module
from sarlang1m import schema
from sarlang1m.card import render_card, viewer_scans
from sarlang1m.manifest import read_manifest
from sarlang1m.release import build_release

COPY_ROW_GROUP_BYTES = 100_000_000
SCAN_BYTES = 300_000_000
PAGE_ROWS = 100
FIRST_ROWS_MIN = 10
FIRST_ROWS_MAX_BYTES = 200_000
MIN_CELL_BYTES = 100
MAX_SPLITS = 30
MAX_CONFIGS = 4000
SPLIT_NAME = re.compile(r"^\w+(\.\w+)*$")
CONFIG_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*$")


# ------------------------------------------------------------------------- the rules, re-implemented


def reencodes_like_the_viewer(data: bytes) -> str:
    """The format the viewer would store an image cell in (JPEG first, then PNG); raises if neither."""
    image = PIL.Image.open(io.BytesIO(data))
    for fmt in ("JPEG", "PNG"):
        try:
            image.save(io.BytesIO(), format=fmt)
            return fmt
        except OSError:
            continue
    raise ValueError(f"mode {image.mode} can be written neither as JPEG nor as PNG")


def row_groups(paths: list[Path]) -> list[tuple[int, int]]:
    """(rows, uncompressed bytes) of every row group, in the viewer's file order (sorted names)."""
    groups = []
    for path in sorted(paths):
        metadata = pq.ParquetFile(path).metadata
        groups += [
            (metadata.row_group(i).num_rows, metadata.row_group(i).total_byte_size)
            for i in range(metadata.num_row_groups)
        ]
    return groups


def page_scans(groups: list[tuple[int, int]], page_rows: int = PAGE_ROWS) -> list[int]:
    """Bytes read for each page of `page_rows` rows: every row group that holds one of its rows."""
    owner = [index for index, (rows, _) in enumerate(groups) for _ in range(rows)]
    return [
        sum(groups[g][1] for g in sorted(set(owner[start : start + page_rows])))
        for start in range(0, len(owner), page_rows)
    ]


def cell_json(value, is_image: bool, row_idx: int) -> object:
    if value is None:
        return None
    if is_image:  # replaced by an asset URL and the image's size
        image = PIL.Image.open(io.BytesIO(value["bytes"]))
        url = f"https://datasets-server.huggingface.co/assets/org/name/--/0123456789abcdef/--/c/train/{row_idx}/image/image.jpg"
        return {"src": url, "height": image.height, "width": image.width}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def size(obj: object) -> int:
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode())


def first_rows_response(table: pa.Table, features: Features) -> tuple[int, bool]:
    """(bytes of the rows in the response, whether cells had to be cut), following the viewer's truncation."""
    images = {name for name, feature in features.items() if type(feature).__name__ == "Image"}
    rows = table.slice(0, PAGE_ROWS).to_pylist()
    items = [
        {"row_idx": i, "row": {k: cell_json(v, k in images, i) for k, v in row.items()}, "truncated_cells": []}
        for i, row in enumerate(rows)
    ]
    kept = items[:FIRST_ROWS_MIN]
    total = 2 + sum(size(item) + 1 for item in kept)
    if total < FIRST_ROWS_MAX_BYTES:
        for item in items[FIRST_ROWS_MIN:]:
            if total + size(item) + 1 >= FIRST_ROWS_MAX_BYTES:
                break
            kept.append(item)
            total += size(item) + 1
        return total, False
    for item in reversed(kept):
        if total < FIRST_ROWS_MAX_BYTES:
            break
        before = size(item)
        for name, value in item["row"].items():
            serialized = json.dumps(value)
            if name not in images and len(serialized.encode()) > MIN_CELL_BYTES:
                item["row"][name] = serialized.encode()[:MIN_CELL_BYTES].decode(errors="ignore")
                item["truncated_cells"].append(name)
        total += size(item) - before
    return total, True


def split_files(release: Path, data_files: str) -> list[Path]:
    return sorted(release.glob(data_files))


# ------------------------------------------------------------------------------------ the release


def test_every_image_reencodes_as_jpeg_or_png_in_8_bits(tiny_release):
    for path in sorted((tiny_release / schema.DATA_DIR).rglob("*.parquet")):
        for cell in pq.read_table(path, columns=["image"])["image"].to_pylist():
            image = PIL.Image.open(io.BytesIO(cell["bytes"]))
            assert image.mode in ("1", "L", "LA", "P", "RGB", "RGBA"), (path.name, image.mode)
            assert reencodes_like_the_viewer(cell["bytes"]) in ("JPEG", "PNG")


def test_a_16_bit_source_image_becomes_8_bit(tiny_raw, tmp_path):
    """Synthetic: a SARDet-100K image saved as a 16-bit PNG (mode I;16) reaches the release as 8 bits."""
    pixels = np.random.default_rng(0).integers(0, 65535, (32, 32), dtype=np.uint16)
    buffer = io.BytesIO()
    PIL.Image.fromarray(pixels).save(buffer, format="PNG")
    assert PIL.Image.open(io.BytesIO(buffer.getvalue())).mode.startswith("I")
    (tiny_raw / "SARDet_100K" / "JPEGImages" / "train" / "0000001.png").write_bytes(buffer.getvalue())
    build_release(tiny_raw, tmp_path / "out", progress=False)
    shard = next((tmp_path / "out" / "data" / "vqa" / "sarvqa1").rglob("train-*.parquet"))
    cell = pq.read_table(shard, columns=["image"])["image"][0].as_py()
    assert PIL.Image.open(io.BytesIO(cell["bytes"])).mode == "L"
    assert reencodes_like_the_viewer(cell["bytes"]) == "JPEG"


def test_a_float_image_fails_the_viewer_rule():
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.zeros((4, 4), dtype=np.float32)).save(buffer, format="TIFF")
    with pytest.raises(ValueError, match="neither as JPEG nor as PNG"):
        reencodes_like_the_viewer(buffer.getvalue())


def test_row_groups_and_pages_stay_within_the_viewer_limits(tiny_release):
    manifest = read_manifest(tiny_release)
    for config, summary in manifest["configs"].items():
        for split, info in summary["splits"].items():
            groups = row_groups(split_files(tiny_release, info["data_files"]))
            assert groups, (config, split)
            assert max(b for _, b in groups) <= COPY_ROW_GROUP_BYTES
            assert max(page_scans(groups)) <= SCAN_BYTES


def test_first_rows_fit_without_truncation(tiny_release):
    manifest = read_manifest(tiny_release)
    for config, summary in manifest["configs"].items():
        features = schema.FEATURES[summary["task"]]
        for split, info in summary["splits"].items():
            table = pa.concat_tables(pq.read_table(p) for p in split_files(tiny_release, info["data_files"]))
            total, truncated = first_rows_response(table, features)
            assert total < FIRST_ROWS_MAX_BYTES and not truncated, (config, split, total)


def test_config_and_split_names_follow_the_hub_rules(tiny_release):
    meta = yaml.safe_load((tiny_release / schema.CARD_FILE).read_text().split("---\n")[1])
    configs = meta["configs"]
    assert 1 <= len(configs) <= MAX_CONFIGS
    for config in configs:
        assert CONFIG_NAME.match(config["config_name"]), config["config_name"]
        splits = [f["split"] for f in config["data_files"]]
        assert 1 <= len(splits) <= MAX_SPLITS and len(set(splits)) == len(splits)
        for split in splits:
            assert SPLIT_NAME.match(split) and "-" not in split and not split.startswith("partial")
        for data_file in config["data_files"]:
            assert list(tiny_release.glob(data_file["path"])), data_file
    assert [c["config_name"] for c in configs if c.get("default")] == ["vqa"]
    assert get_dataset_default_config_name(str(tiny_release)) == "vqa"
    assert len(get_dataset_config_names(str(tiny_release))) == len(configs)
    all_possible = schema.config_specs()
    assert len(all_possible) <= MAX_CONFIGS and all(CONFIG_NAME.match(s.name) for s in all_possible)


# ------------------------------------------------------------------------------ rows too big to view


def big_sar_release(root: Path, rows: int, sar_bytes: int, rows_per_group: int) -> dict[str, dict]:
    """Synthetic: a one-config release whose rows carry incompressible `sar` cells of `sar_bytes` each."""
    rng = np.random.default_rng(0)
    png = io.BytesIO()
    PIL.Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(png, format="PNG")
    records = []
    for i in range(rows):
        record = dict.fromkeys(schema.FEATURES["vqa"])
        record.update(
            image_id=f"SN6_Rotterdam_{i}",
            image={"bytes": png.getvalue(), "path": f"SN6_Rotterdam_{i}.png"},
            sar=rng.bytes(sar_bytes),
            sar_radiometry="db",
            polarizations=["HH", "HV", "VH", "VV"],
            source="spacenet6",
            tier="vhr",
            width=16,
            height=16,
            subset="sarvqa2",
            qa=[
                {
                    "id": f"{i}-q",
                    "question": "Is there a ship?",
                    "answer": "Yes.",
                    "application": "object_identification",
                }
            ],
        )
        records.append(record)
    path = root / "data" / "vqa" / "sarvqa2" / "vhr" / "train-00000-of-00001.parquet"
    path.parent.mkdir(parents=True)
    table = pa.Table.from_pylist(records, schema=schema.FEATURES["vqa"].arrow_schema)
    pq.write_table(table, path, row_group_size=rows_per_group, compression="none")
    data_files = "data/vqa/sarvqa2/vhr/train-*.parquet"
    summary = {"images": rows, "texts": rows, "files": 1, "num_bytes": 0, "download_bytes": path.stat().st_size}
    return {
        "vqa-vhr": {
            "task": "vqa",
            "description": "vqa on very high resolution.",
            "default": True,
            "subset": None,
            "tier": "vhr",
            "splits": {"train": {**summary, "data_files": data_files}},
        }
    }


def test_rows_like_spacenet6_originals_break_the_page_limit(tmp_path, monkeypatch):
    """Scaled down to keep the test fast: pages of 10 rows (not 100) of 1.3 MB `sar` cells (not 13 MB, a
    4-band 900x900 float32 GeoTIFF), so bytes per page and the scan limit are both 1:100; row groups of a
    few rows, as the build writes them for rows of this size (64 MiB row-group target)."""
    scale = 10
    configs = big_sar_release(tmp_path, rows=30, sar_bytes=13_000_000 // scale, rows_per_group=4)
    groups = row_groups(split_files(tmp_path, configs["vqa-vhr"]["splits"]["train"]["data_files"]))
    assert max(page_scans(groups, page_rows=PAGE_ROWS // scale)) > SCAN_BYTES // scale**2
    # the card sees the same thing from the footers and says so
    monkeypatch.setattr(card_module, "VIEWER_PAGE_ROWS", PAGE_ROWS // scale)
    monkeypatch.setattr(card_module, "VIEWER_SCAN_BYTES", SCAN_BYTES // scale**2)
    (scan,) = viewer_scans(tmp_path, configs)
    assert scan.page_bytes == max(page_scans(groups, page_rows=PAGE_ROWS // scale))
    assert not scan.pages_fit
    text = str(render_card(tmp_path, configs=configs, version="1.0.0", synthetic=True, sar_statistics={}))
    row = next(line for line in text.splitlines() if line.startswith("| `vqa-vhr` | train |"))
    assert row.rstrip(" |").endswith("no")
    assert "The configs marked `no` hold rows too large for the viewer" in text


def test_first_rows_of_big_rows_are_cut_but_still_served(tmp_path):
    configs = big_sar_release(tmp_path, rows=12, sar_bytes=30_000, rows_per_group=4)
    table = pq.read_table(split_files(tmp_path, configs["vqa-vhr"]["splits"]["train"]["data_files"])[0])
    total, truncated = first_rows_response(table, schema.FEATURES["vqa"])
    assert truncated and total < FIRST_ROWS_MAX_BYTES
