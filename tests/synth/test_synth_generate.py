"""The default synthetic release, end to end: layout, names, pixels, COCO, text twins, labels, determinism."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import tifffile
from PIL import Image

from sarlang1m import schema
from sarlang1m.sar import read_sar_metadata
from sarlang1m.sources import identify
from sarlang1m.synth import generate, write_synthetic_release
from sarlang1m.synth.catalog import REAL_SARDET_SIZES, REAL_SIZES
from sarlang1m.synth.layout import RADIOMETRY

TEXT_STEMS = {
    "Text/caption/Caption-training": "captions",
    "Text/caption/Caption_test": "captions",
    "Text/caption/Caption_test1": "captions",
    "Text/VQA/train/SARVQA1_train": "vqa",
    "Text/VQA/train/SARVQA2_train": "vqa",
    "Text/VQA/test/SARVQA1_test": "vqa",
    "Text/VQA/test/SARVQA2_test": "vqa",
}
_HEADER_NAMES = {
    "image": "image",
    "img": "image",
    "image_path": "image",
    "question": "question",
    "answer": "answer",
    "caption": "answer",
    "text": "answer",
}


def _read_csv(path: Path, task: str) -> tuple[list[tuple[str, str, str]], bool, bool]:
    """(image, question, answer) rows, whether the file has a header and a BOM (independent of the writer)."""
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    header = [c.lower() for c in rows[0]]
    has_header = all(c in _HEADER_NAMES for c in header)
    if has_header:
        fields, rows = [_HEADER_NAMES[c] for c in header], rows[1:]
    else:
        fields = ["image", "question", "answer"] if task == "vqa" else ["image", "answer"]
    out = []
    for row in rows:
        values = dict(zip(fields, row, strict=True))
        out.append((values["image"].removeprefix("SARimages/"), values.get("question", ""), values["answer"]))
    return out, has_header, bom


def _read_json(path: Path, task: str) -> tuple[list[tuple[str, str, str]], Counter]:
    """(image, question, answer) per user/assistant pair, and which variants the records use."""
    variants: Counter = Counter()
    out = []
    for record in json.loads(path.read_text(encoding="utf-8")):
        key = "messages" if "messages" in record else "conversations"
        role, text = ("role", "content") if key == "messages" else ("from", "value")
        turns = record[key]
        variants[key] += 1
        variants["multi_turn"] += len(turns) > 2
        (image,) = record["images"]
        assert image.startswith("SARimages/")
        for i in range(0, len(turns), 2):
            user, assistant = turns[i], turns[i + 1]
            assert user[role] in ("user", "human") and assistant[role] in ("assistant", "gpt")
            assert user[text].startswith("<image>") == (i == 0)
            prompt = user[text].removeprefix("<image>").strip()
            if task == "captions":
                assert prompt == schema.CAPTION_PROMPT
                prompt = ""
            out.append((image.removeprefix("SARimages/"), prompt, assistant[text]))
    return out, variants


@pytest.fixture(scope="module")
def texts(default_release):
    root, _ = default_release
    return {stem: _read_csv(root / f"{stem}.csv", task)[0] for stem, task in TEXT_STEMS.items()}


def test_layout_and_marker(default_release):
    root, summary = default_release
    for folder in ("SARimages", "SARimages_original", "SARDet_100K/JPEGImages/train", "SARDet_100K/JPEGImages/val"):
        assert any((root / folder).iterdir()), folder
    for stem in TEXT_STEMS:
        assert (root / f"{stem}.csv").is_file() and (root / f"{stem}.json").is_file()
    readme = (root / "SYNTHETIC.md").read_text()
    assert "SYNTHETIC" in readme and "seed: 0" in readme and f"version: {summary.version}" in readme
    assert summary.total_images == 120 and summary.total_texts == 1_140
    assert not [p for p in root.parent.iterdir() if "incomplete" in p.name]


def test_every_name_names_its_source_and_pngs_match_geotiffs(default_release, texts):
    root, summary = default_release
    pngs = {p.stem for p in (root / "SARimages").iterdir()}
    tifs = {p.stem for p in (root / "SARimages_original").iterdir()}
    assert pngs == tifs
    sardet = list((root / "SARDet_100K/JPEGImages").rglob("*.*"))
    assert {identify(p.name).source for p in sardet} == {"sardet_100k"}
    sources = Counter(identify(stem).source for stem in pngs)
    used = {img.rsplit(".", 1)[0] for rows in texts.values() for img, _, _ in rows}
    unused = pngs - used
    assert len(unused) == summary.unused_images >= 1
    for source in ("spacenet6", "dfc2023", "openearthmap_sar"):
        assert sources[source] >= sum(summary.images[source].values())
    assert {identify(img).source for rows in texts.values() for img, _, _ in rows} == set(summary.images)


def test_geotiffs_have_each_source_dtype_bands_and_varied_layouts(default_release):
    root, _ = default_release
    layouts = set()
    for path in (root / "SARimages_original").iterdir():
        with tifffile.TiffFile(path) as tif:
            page, array = tif.pages[0], tif.series[0].asarray()
            assert page.description.startswith("SYNTHETIC")
            layouts.add((page.compression.name, page.is_tiled))
            source = identify(path.name).source
            if source == "spacenet6":
                assert array.dtype == "float32" and 4 in array.shape and array.ndim == 3
                layouts.add(("planar", page.planarconfig.name))
            else:
                assert array.ndim == 2 and array.dtype == {"dfc2023": "uint16", "openearthmap_sar": "uint8"}[source]
        with Image.open(root / "SARimages" / f"{path.stem}.png") as png:
            assert png.mode == "L" and png.size == (page.imagewidth, page.imagelength)
            assert "SYNTHETIC" in png.text["Description"]
    compressions = {c for c, _ in layouts if c != "planar"}
    assert compressions == {"ADOBE_DEFLATE", "ZSTD", "LZW"}
    assert {tiled for c, tiled in layouts if c != "planar"} == {True, False}
    assert {p for c, p in layouts if c == "planar"} == {"SEPARATE", "CONTIG"}


def test_geotiffs_declare_their_radiometry_where_gis_tools_read_it(default_release):
    root, _ = default_release
    for path in (root / "SARimages_original").iterdir():
        source = identify(path.name).source
        with tifffile.TiffFile(path) as tif:
            xml = tif.pages[0].tags["GDAL_METADATA"].value
        assert f'<Item name="RADIOMETRY">{RADIOMETRY[source]}</Item>' in xml
        header = read_sar_metadata(path.read_bytes(), inspect_pixels=False)
        assert header.declared_radiometry == RADIOMETRY[source]
        assert header.band_descriptions == schema.SOURCES[source].polarizations  # SpaceNet6: HH, HV, VH, VV


def test_real_sizes_write_each_source_at_its_real_pixel_size_and_type(tmp_path):
    """`synth --real-sizes`: SpaceNet6 4 x 900 x 900 float32 dB, DFC2023 512 x 512 uint16, OpenEarthMap-SAR
    1024 x 1024 uint8, SARDet-100K chips of several sizes; the PNGs match their GeoTIFFs."""
    summary = write_synthetic_release(tmp_path / "real", images=16, seed=2, real_sizes=True, progress=False)
    root = summary.root
    assert summary.real_sizes and "real_sizes=True" in (root / "SYNTHETIC.md").read_text()
    expected = {"spacenet6": ("float32", 4), "dfc2023": ("uint16", 1), "openearthmap_sar": ("uint8", 1)}
    seen = set()
    for path in (root / "SARimages_original").iterdir():
        source = identify(path.name).source
        header = read_sar_metadata(path.read_bytes())
        side = REAL_SIZES[source]
        assert (str(header.dtype), header.bands, header.height, header.width) == (*expected[source], side, side)
        assert header.declared_radiometry == RADIOMETRY[source]
        with Image.open(root / "SARimages" / f"{path.stem}.png") as png:
            assert png.size == (side, side)
        seen.add(source)
    assert seen == set(expected)
    sizes = set()
    for path in (root / "SARDet_100K/JPEGImages").rglob("*.*"):
        with Image.open(path) as image:
            assert REAL_SARDET_SIZES.min_side <= min(image.size) <= max(image.size) <= REAL_SARDET_SIZES.max_side
            sizes.add(image.size)
    assert len(sizes) >= 3


def _coco(root: Path, folder: str) -> dict:
    return json.loads((root / "SARDet_100K/Annotations" / f"{folder}.json").read_text())


def test_coco_files_are_valid_and_boxes_lie_inside_their_images(default_release):
    root, summary = default_release
    for split, folder in (("train", "train"), ("test", "val")):
        coco = _coco(root, folder)
        assert "SYNTHETIC" in coco["info"]["description"]
        images = {i["id"]: i for i in coco["images"]}
        assert len(images) == summary.images["sardet_100k"][split]
        files = {p.name for p in (root / "SARDet_100K/JPEGImages" / folder).iterdir()}
        assert {i["file_name"] for i in images.values()} == files
        assert {Path(f).suffix for f in files} == {".jpg", ".png", ".bmp"}
        modes = set()
        for entry in images.values():
            with Image.open(root / "SARDet_100K/JPEGImages" / folder / entry["file_name"]) as image:
                assert image.size == (entry["width"], entry["height"])
                modes.add(image.mode)
                if entry["file_name"].endswith(".jpg"):
                    assert b"SYNTHETIC" in image.info["comment"]
                elif entry["file_name"].endswith(".png"):
                    assert "SYNTHETIC" in image.text["Description"]
        assert modes == {"L", "RGB"}
        categories = {c["id"]: c["name"] for c in coco["categories"]}
        assert {name.lower() for name in categories.values()} == set(schema.SARVQA1_CLASSES)
        ids = [a["id"] for a in coco["annotations"]]
        assert len(set(ids)) == len(ids)
        for a in coco["annotations"]:
            image = images[a["image_id"]]
            x, y, w, h = a["bbox"]
            assert a["category_id"] in categories and w > 0 and h > 0
            assert x >= 0 and y >= 0 and x + w <= image["width"] and y + h <= image["height"]


def test_sarvqa1_answers_agree_with_the_coco_boxes(default_release, texts):
    root, _ = default_release
    checked = Counter()
    for split, folder in (("train", "train"), ("test", "val")):
        coco = _coco(root, folder)
        names = {c["id"]: c["name"].lower() for c in coco["categories"]}
        boxes: dict[str, list] = {i["file_name"]: [] for i in coco["images"]}
        files = {i["id"]: i["file_name"] for i in coco["images"]}
        for a in coco["annotations"]:
            boxes[files[a["image_id"]]].append((names[a["category_id"]], tuple(a["bbox"])))
        for image, question, answer in texts[f"Text/VQA/{split}/SARVQA1_{split}"]:
            answer = answer.lower().rstrip(".")
            present = Counter(c for c, _ in boxes[image])
            if m := re.search(r"\[([\d.]+), ([\d.]+), ([\d.]+), ([\d.]+)\]", question):
                box = tuple(float(v) for v in m.groups())
                assert (answer, box) in boxes[image], (image, question)
                checked["box"] += 1
            elif m := re.match(r"How many (\w+) (?:are there|can be seen|does|are visible)", question):
                category = next(c for c in schema.SARVQA1_CLASSES if m.group(1) in (c, c + "s"))
                assert answer == str(present[category]), (image, question)
                checked["count"] += 1
            elif m := re.search(r"\b(?:an? |any )(\w+?)s?\b (?:in|present|visible)", question):
                category = next(c for c in schema.SARVQA1_CLASSES if m.group(1) == c)
                assert answer == ("yes" if present[category] else "no"), (image, question)
                checked["presence"] += 1
    assert checked["box"] and checked["count"] and checked["presence"], checked  # every kind was checked


def test_csv_and_json_twins_hold_the_same_texts_and_every_variant_occurs(default_release, texts):
    root, summary = default_release
    headerless, boms, variants, prefixed = Counter(), 0, Counter(), set()
    for stem, task in TEXT_STEMS.items():
        rows, has_header, bom = _read_csv(root / f"{stem}.csv", task)
        json_rows, json_variants = _read_json(root / f"{stem}.json", task)
        assert Counter(rows) == Counter(json_rows), stem
        assert len(rows) == summary.text_files[stem]
        headerless[task] += not has_header
        boms += bom
        variants.update(json_variants)
        raw_images = [r[0] for r in csv.reader((root / f"{stem}.csv").read_text("utf-8-sig").splitlines())]
        prefixed.add(any(cell.startswith("SARimages/") for cell in raw_images))
        assert len(set(rows)) == len(rows), f"{stem}: duplicate text of an image"
        if task == "vqa":
            assert len({(img, q) for img, q, _ in rows}) == len(rows), f"{stem}: a question asked twice"
    assert headerless == {"vqa": 1, "captions": 1}
    assert boms == 1
    assert variants["messages"] and variants["conversations"] and variants["multi_turn"]
    assert prefixed == {True, False}


def test_captioned_images_are_the_sarvqa2_images_of_the_same_split(texts):
    for split in ("train", "test"):
        caption_stems = ["Text/caption/Caption-training"] if split == "train" else [
            "Text/caption/Caption_test", "Text/caption/Caption_test1"
        ]  # fmt: skip
        captioned = {img for stem in caption_stems for img, _, _ in texts[stem]}
        assert captioned == {img for img, _, _ in texts[f"Text/VQA/{split}/SARVQA2_{split}"]}
        sardet = {img for img, _, _ in texts[f"Text/VQA/{split}/SARVQA1_{split}"]}
        assert not captioned & sardet
    for stem, styles in (("Text/caption/Caption_test", 2), ("Text/caption/Caption_test1", 1)):
        assert {len(re.split(r"(?<=\.)\s+", c)) >= 2 for _, _, c in texts[stem]} == {styles == 2}


def test_labels_point_at_every_text_and_agree_with_the_summary(default_release, texts):
    root, summary = default_release
    with (root / "synthetic_truth/labels.csv").open(encoding="utf-8") as f:
        labels = list(csv.DictReader(f))
    assert len(labels) == summary.total_texts
    applications = Counter(label["application"] for label in labels)
    assert dict(applications) == {k: v for k, v in summary.applications().items() if v}
    assert set(applications) == set(schema.APPLICATIONS)
    assert {label["subtype"] for label in labels if label["application"] == "others"} == set(schema.OTHERS_SUBTYPES)
    assert {label["caption_style"] for label in labels if label["task"] == "captions"} == set(schema.CAPTION_STYLES)
    lines = {stem: (root / f"{stem}.csv").read_text("utf-8-sig").splitlines() for stem in TEXT_STEMS}
    for label in labels:
        line = next(csv.reader([lines[label["file"]][int(label["csv_line"]) - 1]]))
        assert any(cell.removeprefix("SARimages/") == label["image"] for cell in line)
        assert identify(label["image"]).source == label["source"]
        if label["bbox"]:
            box = ", ".join(f"{v:.1f}" for v in json.loads(label["bbox"]))
            assert f"[{box}]" in ",".join(line)


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_whatever_the_workers_and_other_seed_differs(tmp_path):
    one = write_synthetic_release(tmp_path / "one", images=20, seed=7, image_size=32, progress=False)
    two = write_synthetic_release(tmp_path / "two", images=20, seed=7, image_size=32, workers=2, progress=False)
    other = write_synthetic_release(tmp_path / "other", images=20, seed=8, image_size=32, progress=False)
    assert _digests(one.root) == _digests(two.root)
    assert one.images == two.images and one.bytes == two.bytes
    digests, other_digests = _digests(one.root), _digests(other.root)
    assert set(digests) != set(other_digests)  # other names
    assert digests["Text/VQA/test/SARVQA1_test.csv"] != other_digests["Text/VQA/test/SARVQA1_test.csv"]


def test_a_non_empty_out_is_refused_and_an_empty_one_is_used(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"busy is not empty: give a new or empty folder"):
        write_synthetic_release(tmp_path / "busy", images=16, progress=False)
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["keep.txt"]
    (tmp_path / "empty").mkdir()
    summary = write_synthetic_release(tmp_path / "empty", images=16, image_size=24, progress=False)
    assert (summary.root / "SYNTHETIC.md").is_file()


def test_an_interrupted_run_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(generate, "synthetic_readme", fail)
    with pytest.raises(KeyboardInterrupt):
        write_synthetic_release(tmp_path / "out", images=16, image_size=24, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="workers"):
        write_synthetic_release(tmp_path / "w", workers=0, progress=False)
    with pytest.raises(ValueError, match="at least 16 images"):
        write_synthetic_release(tmp_path / "n", images=3, progress=False)
    with pytest.raises(ValueError, match="contradict"):
        write_synthetic_release(tmp_path / "r", image_size=64, real_sizes=True, progress=False)
    assert list(tmp_path.iterdir()) == []
