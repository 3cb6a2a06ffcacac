"""Files in the authors' layout: GeoTIFFs, preprocessed PNGs, SARDet-100K images and COCO files, the
caption and VQA texts as CSV and LLaMA-Factory JSON twins, and the ground-truth labels.

Each text file has its own dialect (`TEXT_FILES`): header names, column order, a headerless CSV, a
UTF-8 BOM, image folder prefixes, `messages` or `conversations`, multi-turn records. Nobody outside has
published the real files' dialect, so the synthetic release carries several, and a reader that passes
on it passes on any of them. Every image file says it is synthetic (TIFF ImageDescription, PNG tEXt,
JPEG comment; BMP has no room for text).
"""

from __future__ import annotations

import csv
import io
import json
import random
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import tifffile
from PIL import Image

from .. import schema
from ..sar.geotiff import GDAL_RADIOMETRY_ITEM
from ..sar.preprocess import encode_png, preprocess_for_vlm
from .catalog import ImageRecord
from .names import ROTTERDAM_UTM31N
from .wording import Text

SARIMAGES = "SARimages"
ORIGINALS = "SARimages_original"
SARDET_ROOT = "SARDet_100K"
#: SARDet-100K folders per SARLANG split: its `val` partition is SARLANG-1M's test split.
SARDET_FOLDERS = {"train": "train", "test": "val"}
#: SARDet-100K's category names (COCO `categories`), in its order, with 0-based ids.
SARDET_CATEGORIES = ("Aircraft", "Ship", "Car", "Tank", "Bridge", "Harbor")
LABELS_FILE = "synthetic_truth/labels.csv"
README_FILE = "SYNTHETIC.md"
LABEL_COLUMNS = (
    "file",
    "csv_line",
    "json_record",
    "json_turn",
    "image",
    "source",
    "split",
    "task",
    "subset",
    "application",
    "subtype",
    "answer_type",
    "caption_style",
    "bbox",
)
#: The original radiometry of each SARVQA2 source's GeoTIFFs (see `render.sar_raster`).
RADIOMETRY: dict[str, schema.Radiometry] = {"spacenet6": "db", "dfc2023": "amplitude", "openearthmap_sar": "amplitude"}


def marker(seed: int, version: str) -> str:
    return f"SYNTHETIC data from sarlang1m synth {version} (seed {seed}): not real SAR imagery nor SARLANG-1M"


# --------------------------------------------------------------------------------------- images


@dataclass(frozen=True)
class TiffVariant:
    compression: str
    tiled: bool
    predictor: bool


#: Cycled over the release's GeoTIFFs so that every decoder path is exercised.
TIFF_VARIANTS = (
    TiffVariant("adobe_deflate", tiled=True, predictor=True),
    TiffVariant("zstd", tiled=True, predictor=False),
    TiffVariant("lzw", tiled=False, predictor=True),
    TiffVariant("adobe_deflate", tiled=False, predictor=False),
    TiffVariant("zstd", tiled=False, predictor=True),
    TiffVariant("lzw", tiled=True, predictor=False),
)
_WGS84_DEGREE_M = 111_320.0


def _geotags(record: ImageRecord) -> list[tuple]:
    """GeoTIFF tags: pixel scale, tie point and key directory (UTM 31N for SpaceNet6, else WGS 84)."""
    gsd = float(np.mean(schema.SOURCES[record.source].gsd_m))
    if record.source == "spacenet6":
        rng = random.Random(record.stem)
        easting = ROTTERDAM_UTM31N[0] + rng.uniform(-6000, 6000)
        northing = ROTTERDAM_UTM31N[1] + rng.uniform(-4000, 4000)
        keys = (1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32631)
        scale, tie = (gsd, gsd, 0.0), (0.0, 0.0, 0.0, round(easting, 2), round(northing, 2), 0.0)
    else:
        degrees = gsd / _WGS84_DEGREE_M
        keys = (1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326)
        scale, tie = (degrees, degrees, 0.0), (0.0, 0.0, 0.0, record.lon, record.lat, 0.0)
    return [(33550, "d", 3, scale, True), (33922, "d", 6, tie, True), (34735, "H", len(keys), keys, True)]


def gdal_metadata(source: str) -> str:
    """The GDAL_METADATA XML (TIFF tag 42112) of a source's originals: what GIS tools show about a file.

    The dataset item RADIOMETRY declares the pixels' radiometry (`gdalinfo` lists ``RADIOMETRY=amplitude``);
    multi-band files name each band's polarisation as its description and as a POLARIZATION item.
    """
    items = [f'<Item name="{GDAL_RADIOMETRY_ITEM}">{RADIOMETRY[source]}</Item>']
    for band, polarization in enumerate(schema.SOURCES[source].polarizations):
        items.append(f'<Item name="DESCRIPTION" sample="{band}" role="description">{polarization}</Item>')
        items.append(f'<Item name="POLARIZATION" sample="{band}">{polarization}</Item>')
    return "<GDALMetadata>\n  " + "\n  ".join(items) + "\n</GDALMetadata>\n"


def geotiff_bytes(record: ImageRecord, pixels: np.ndarray, description: str) -> bytes:
    """The original GeoTIFF of a SARVQA2 image, in the variant its number picks.

    SpaceNet6 files alternate planar (bands as planes) and interleaved layouts; planar ones also carry
    SMinSampleValue / SMaxSampleValue, as some writers do. Every file declares its radiometry twice: in
    GDAL_METADATA (`gdal_metadata`) and in its ImageDescription text.
    """
    variant = TIFF_VARIANTS[record.tiff_number % len(TIFF_VARIANTS)]
    extratags = [*_geotags(record), (42112, "s", 0, gdal_metadata(record.source), True)]
    data, planar = pixels, None
    if pixels.ndim == 3:
        planar = "separate" if record.spacenet6_number % 2 == 0 else "contig"
        if planar == "contig":
            data = np.ascontiguousarray(np.moveaxis(pixels, 0, -1))
        else:
            bands = pixels.shape[0]
            extratags += [
                (340, "f", bands, tuple(float(v) for v in pixels.reshape(bands, -1).min(axis=1)), True),
                (341, "f", bands, tuple(float(v) for v in pixels.reshape(bands, -1).max(axis=1)), True),
            ]
    side = max(record.width, record.height)
    tile = (16, 16) if side <= 64 else (32, 32) if side < 512 else (256, 256)  # 256: GDAL's usual tile
    buffer = io.BytesIO()
    tifffile.imwrite(
        buffer,
        data,
        photometric="minisblack",
        planarconfig=planar,
        compression=variant.compression,
        predictor=variant.predictor,
        tile=tile if variant.tiled else None,
        rowsperstrip=None if variant.tiled else 8,
        description=description,
        software="sarlang1m synth",
        metadata=None,
        extratags=extratags,
    )
    return buffer.getvalue()


def with_png_text(png: bytes, keyword: str, text: str) -> bytes:
    """PNG bytes with a tEXt chunk inserted right after IHDR (Latin-1 text, as the PNG spec wants)."""
    signature_and_ihdr = 8 + 4 + 4 + 13 + 4
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG starting with IHDR")
    payload = keyword.encode("latin-1") + b"\x00" + text.encode("latin-1")
    chunk = struct.pack(">I", len(payload)) + b"tEXt" + payload
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + payload) & 0xFFFFFFFF)
    return png[:signature_and_ihdr] + chunk + png[signature_and_ihdr:]


def preprocessed_png(record: ImageRecord, pixels: np.ndarray, description: str) -> bytes:
    """The 8-bit PNG of SARimages/, made from the GeoTIFF pixels with the authors-like preprocessing."""
    polarizations = schema.SOURCES[record.source].polarizations or None
    grey = preprocess_for_vlm(pixels, radiometry=RADIOMETRY[record.source], polarizations=polarizations)
    return with_png_text(encode_png(grey), "Description", description)


def sardet_bytes(record: ImageRecord, pixels: np.ndarray, description: str) -> bytes:
    """A SARDet-100K-like 8-bit file in the record's format (jpg, png or bmp)."""
    image = Image.fromarray(pixels)
    buffer = io.BytesIO()
    if record.extension == "jpg":
        image.save(buffer, format="JPEG", quality=92, comment=description.encode("latin-1"))
        return buffer.getvalue()
    if record.extension == "png":
        image.save(buffer, format="PNG")
        return with_png_text(buffer.getvalue(), "Description", description)
    image.save(buffer, format="BMP")
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------- COCO


class CocoWriter:
    """Streams a COCO file (images, annotations, categories) without holding it: the annotations go to
    a side file first and are appended when the file is closed."""

    def __init__(self, path: Path, description: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._side_path = path.with_name(path.name + ".annotations.part")
        self._main = path.open("w", encoding="utf-8")
        self._side = self._side_path.open("w+", encoding="utf-8")
        info = {"description": description, "version": "synthetic", "contributor": "sarlang1m synth"}
        categories = [{"id": i, "name": name, "supercategory": "none"} for i, name in enumerate(SARDET_CATEGORIES)]
        self._main.write('{"info": ' + json.dumps(info) + ', "licenses": [], "categories": ')
        self._main.write(json.dumps(categories) + ', "images": [')
        self._images = self._annotations = 0

    def add(self, record: ImageRecord, boxes: list[tuple[str, tuple[int, int, int, int]]]) -> None:
        image_id = int(record.stem)
        entry = {"id": image_id, "file_name": record.file_name, "width": record.width, "height": record.height}
        self._main.write(("," if self._images else "") + "\n" + json.dumps(entry))
        self._images += 1
        for category, (x, y, w, h) in boxes:
            self._annotations += 1
            annotation = {
                "id": self._annotations,
                "image_id": image_id,
                "category_id": SARDET_CATEGORIES.index(category.capitalize()),
                "bbox": [float(x), float(y), float(w), float(h)],
                "area": float(w * h),
                "iscrowd": 0,
                "segmentation": [],
            }
            self._side.write(("," if self._annotations > 1 else "") + "\n" + json.dumps(annotation))

    def close(self) -> None:
        self._main.write('\n], "annotations": [')
        self._side.seek(0)
        while chunk := self._side.read(1 << 20):
            self._main.write(chunk)
        self._main.write("\n]}\n")
        self._main.close()
        self._side.close()
        self._side_path.unlink()


# ---------------------------------------------------------------------------------------- texts


@dataclass(frozen=True)
class TextFileStyle:
    """How one of the authors' text files is written (its CSV and its JSON twin)."""

    stem: str  # path in the release, without suffix
    task: str  # captions | vqa
    csv_header: tuple[str, ...] | None  # None: headerless
    csv_fields: tuple[str, ...]  # what each column holds: image, question, answer, caption
    csv_bom: bool
    csv_image_prefix: bool
    json_variant: str  # messages | conversations
    json_multi_turn: bool
    json_indent: int | None
    image_token_newline: bool


TEXT_FILES: dict[tuple[str, str, str], TextFileStyle] = {
    ("captions", "train", ""): TextFileStyle(
        "Text/caption/Caption-training", "captions", ("image", "caption"), ("image", "caption"),
        csv_bom=True, csv_image_prefix=False, json_variant="messages", json_multi_turn=False, json_indent=2,
        image_token_newline=False,
    ),
    ("captions", "test", "detailed"): TextFileStyle(
        "Text/caption/Caption_test", "captions", None, ("image", "caption"),
        csv_bom=False, csv_image_prefix=False, json_variant="conversations", json_multi_turn=False,
        json_indent=None, image_token_newline=True,
    ),
    ("captions", "test", "concise"): TextFileStyle(
        "Text/caption/Caption_test1", "captions", ("text", "Image"), ("caption", "image"),
        csv_bom=False, csv_image_prefix=True, json_variant="messages", json_multi_turn=False, json_indent=None,
        image_token_newline=False,
    ),
    ("sarvqa1", "train", ""): TextFileStyle(
        "Text/VQA/train/SARVQA1_train", "vqa", ("Question", "Answer", "image_path"), ("question", "answer", "image"),
        csv_bom=False, csv_image_prefix=False, json_variant="conversations", json_multi_turn=True,
        json_indent=None, image_token_newline=False,
    ),
    ("sarvqa1", "test", ""): TextFileStyle(
        "Text/VQA/test/SARVQA1_test", "vqa", ("img", "question", "answer"), ("image", "question", "answer"),
        csv_bom=False, csv_image_prefix=True, json_variant="messages", json_multi_turn=False, json_indent=2,
        image_token_newline=True,
    ),
    ("sarvqa2", "train", ""): TextFileStyle(
        "Text/VQA/train/SARVQA2_train", "vqa", None, ("image", "question", "answer"),
        csv_bom=False, csv_image_prefix=False, json_variant="messages", json_multi_turn=True, json_indent=2,
        image_token_newline=False,
    ),
    ("sarvqa2", "test", ""): TextFileStyle(
        "Text/VQA/test/SARVQA2_test", "vqa", ("answer", "Image", "question"), ("answer", "image", "question"),
        csv_bom=False, csv_image_prefix=True, json_variant="conversations", json_multi_turn=False,
        json_indent=None, image_token_newline=True,
    ),
}  # fmt: skip
_ROLES = {"messages": ("role", "content", "user", "assistant"), "conversations": ("from", "value", "human", "gpt")}


def caption_file_key(split: str, style: str) -> tuple[str, str, str]:
    return ("captions", split, "" if split == "train" else style)


class TextFileWriter:
    """Writes the CSV and the JSON of one text file side by side and reports where each text went."""

    def __init__(self, root: Path, style: TextFileStyle):
        self.style = style
        csv_path, json_path = root / f"{style.stem}.csv", root / f"{style.stem}.json"
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        self._csv_file = csv_path.open("w", encoding="utf-8-sig" if style.csv_bom else "utf-8", newline="")
        self._csv = csv.writer(self._csv_file)
        self._json = json_path.open("w", encoding="utf-8")
        self._json.write("[")
        self._line = 0
        if style.csv_header:
            self._csv.writerow(style.csv_header)
            self._line = 1
        self.records = 0
        self.texts = 0

    def _user_turn(self, content: str, first: bool) -> str:
        if not first:
            return content
        return schema.IMAGE_TOKEN + ("\n" if self.style.image_token_newline else "") + content

    def write(self, record: ImageRecord, texts: list[Text], rng: random.Random) -> list[tuple[int, int, int]]:
        """Writes one image's texts; returns (csv_line, json_record, json_turn) of each, 1-based lines and
        records, 0-based turns (as a reader counts them)."""
        image = record.file_name
        csv_image = f"{SARIMAGES}/{image}" if self.style.csv_image_prefix else image
        places = []
        for text in texts:
            values = {"image": csv_image, "answer": text.answer, "caption": text.answer}
            if text.question is not None:  # captions have none
                values["question"] = text.question
            row = [values[field] for field in self.style.csv_fields]
            if any("\n" in value or "\r" in value for value in row):
                raise ValueError(f"{self.style.stem}: a text of {image} spans lines: {row!r}")
            self._csv.writerow(row)
            self._line += 1
            places.append(self._line)
        chunks: list[list[Text]] = []
        if self.style.json_multi_turn:
            start = 0
            while start < len(texts):
                size = rng.randint(1, 4)
                chunks.append(texts[start : start + size])
                start += size
        else:
            chunks = [[text] for text in texts]
        role_key, text_key, user, assistant = _ROLES[self.style.json_variant]
        located = []
        for chunk in chunks:
            turns = []
            for turn, text in enumerate(chunk):
                prompt = schema.CAPTION_PROMPT if self.style.task == "captions" else text.question
                if prompt is None:
                    raise ValueError(f"{self.style.stem}: a question text of {image} has no question")
                turns.append({role_key: user, text_key: self._user_turn(prompt, turn == 0)})
                turns.append({role_key: assistant, text_key: text.answer})
                located.append((self.records + 1, turn))
            entry = {self.style.json_variant: turns, "images": [f"{SARIMAGES}/{image}"]}
            dumped = json.dumps(entry, ensure_ascii=False, indent=self.style.json_indent)
            if self.style.json_indent:
                dumped = dumped.replace("\n", "\n" + " " * self.style.json_indent)
                dumped = " " * self.style.json_indent + dumped
            self._json.write(("," if self.records else "") + "\n" + dumped)
            self.records += 1
        self.texts += len(texts)
        return [(line, rec, turn) for line, (rec, turn) in zip(places, located, strict=True)]

    def close(self) -> None:
        self._csv_file.close()
        self._json.write("\n]\n")
        self._json.close()


class LabelsWriter:
    """`synthetic_truth/labels.csv`: per text, where it is and what the generator made it as."""

    def __init__(self, root: Path):
        path = root / LABELS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow(LABEL_COLUMNS)

    def write(self, style: TextFileStyle, record: ImageRecord, texts: list[Text], places: list[tuple[int, int, int]]):
        task = style.task
        subset = "" if task == "captions" else record.subset
        for text, (line, json_record, turn) in zip(texts, places, strict=True):
            bbox = "" if text.bbox is None else json.dumps([float(v) for v in text.bbox])
            self._csv.writerow(
                (style.stem, line, json_record, turn, record.file_name, record.source, record.split, task, subset,
                 text.application, text.subtype, text.answer_type, text.style, bbox)
            )  # fmt: skip

    def close(self) -> None:
        self._file.close()
