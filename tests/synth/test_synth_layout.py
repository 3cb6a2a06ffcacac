"""File writers of the synthetic release: GeoTIFF variants, PNG marker, COCO streaming, text twins."""

from __future__ import annotations

import io
import json
import random

import numpy as np
import pytest
import tifffile
from PIL import Image

from sarlang1m.synth.catalog import ImageRecord
from sarlang1m.synth.layout import (
    TEXT_FILES,
    TIFF_VARIANTS,
    CocoWriter,
    TextFileWriter,
    geotiff_bytes,
    with_png_text,
)
from sarlang1m.synth.wording import Text


def _record(source: str, number: int, **extra) -> ImageRecord:
    fields = dict(
        index=number, source=source, split="train", stem=f"SN6_Rotterdam_{number}", extension="png", width=40,
        height=40, place="", lat=51.9, lon=4.5, used=True, n_objects=0, channels=1, tiff_number=number,
        spacenet6_number=number,
    )  # fmt: skip
    return ImageRecord(**{**fields, **extra})


@pytest.mark.parametrize("number", range(len(TIFF_VARIANTS) * 2))
def test_geotiff_variants_decode_to_the_same_pixels(number: int):
    pixels = np.random.default_rng(number).normal(-15, 5, size=(4, 40, 40)).astype(np.float32)
    data = geotiff_bytes(_record("spacenet6", number), pixels, "SYNTHETIC test")
    variant = TIFF_VARIANTS[number % len(TIFF_VARIANTS)]
    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        page = tif.pages[0]
        assert page.compression.name.lower() == variant.compression
        assert page.is_tiled == variant.tiled
        assert page.description.startswith("SYNTHETIC")
        assert 33550 in page.tags and 33922 in page.tags and 34735 in page.tags  # GeoTIFF
        decoded = tif.series[0].asarray()
    if number % 2:  # interleaved
        decoded = np.moveaxis(decoded, -1, 0)
    np.testing.assert_array_equal(decoded, pixels)


def test_png_text_chunk_is_read_back_and_non_png_is_refused():
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(buffer, format="PNG")
    marked = with_png_text(buffer.getvalue(), "Description", "SYNTHETIC data")
    image = Image.open(io.BytesIO(marked))
    image.load()
    assert image.text["Description"] == "SYNTHETIC data"
    with pytest.raises(ValueError, match="not a PNG"):
        with_png_text(b"GIF89a....", "Description", "x")


def test_coco_writer_streams_a_valid_file(tmp_path):
    writer = CocoWriter(tmp_path / "Annotations" / "train.json", "SYNTHETIC")
    writer.add(
        _record("sardet_100k", 1, stem="0000012", extension="jpg"), [("ship", (1, 2, 3, 4)), ("tank", (0, 0, 5, 5))]
    )
    writer.add(_record("sardet_100k", 2, stem="0000034", extension="bmp"), [])
    writer.close()
    coco = json.loads((tmp_path / "Annotations" / "train.json").read_text())
    assert [i["file_name"] for i in coco["images"]] == ["0000012.jpg", "0000034.bmp"]
    names = {c["id"]: c["name"] for c in coco["categories"]}
    assert [(a["image_id"], names[a["category_id"]], a["bbox"]) for a in coco["annotations"]] == [
        (12, "Ship", [1.0, 2.0, 3.0, 4.0]),
        (12, "Tank", [0.0, 0.0, 5.0, 5.0]),
    ]
    assert list((tmp_path / "Annotations").iterdir()) == [tmp_path / "Annotations" / "train.json"]


def test_multi_turn_records_put_the_image_token_in_the_first_turn_only(tmp_path):
    style = TEXT_FILES[("sarvqa2", "train", "")]
    assert style.json_multi_turn
    writer = TextFileWriter(tmp_path, style)
    texts = [Text(f"Question {i}?", f"Answer {i}.", "object_identification") for i in range(9)]
    places = writer.write(_record("spacenet6", 0), texts, random.Random(0))
    writer.close()
    records = json.loads((tmp_path / f"{style.stem}.json").read_text())
    assert len(records) < 9  # grouped
    turns = [(r, t) for r, record in enumerate(records, 1) for t in range(len(record["messages"]) // 2)]
    assert [(p[1], p[2]) for p in places] == turns
    for record in records:
        users = [m["content"] for m in record["messages"] if m["role"] == "user"]
        assert users[0].startswith("<image>") and not any("<image>" in u for u in users[1:])


def test_a_text_spanning_lines_is_refused(tmp_path):
    writer = TextFileWriter(tmp_path, TEXT_FILES[("sarvqa1", "test", "")])
    with pytest.raises(ValueError, match="spans lines"):
        writer.write(_record("sardet_100k", 0), [Text("Two\nlines?", "No.", "x")], random.Random(0))
