"""The columns: one row per image and task, its texts nested. Each column is defined once, here: its
name, its `datasets` feature, its description (card, Croissant) and the tasks that have it; `FEATURES`
and `COLUMN_DESCRIPTIONS` are derived from `COLUMNS`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import datasets

from .release import TASKS
from .source_datasets import SOURCES, TIERS
from .text_fields import CAPTION_FIELDS, QA_FIELDS


def _column_wise(fields: dict[str, Any]) -> dict[str, datasets.List]:
    """The feature of a texts column: one list per field (see `text_fields`)."""
    return {name: datasets.List(feature) for name, feature in fields.items()}


@dataclass(frozen=True)
class Column:
    """One column of the release: the single place that names, types and describes it."""

    name: str
    feature: datasets.features.features.FeatureType
    description: str
    tasks: tuple[str, ...] = ("captions", "vqa")

    def __post_init__(self) -> None:
        if not self.description.strip():
            raise ValueError(f"column {self.name!r} needs a description (it is shown in the card)")


def _string(name: str, description: str, tasks: tuple[str, ...] = ("captions", "vqa")) -> Column:
    return Column(name, datasets.Value("string"), description, tasks)


#: The columns, in the order of the Parquet files.
COLUMNS: tuple[Column, ...] = (
    _string("image_id", "File name of the image without extension; unique within a task."),
    _string("file_name", "File name of the image in the authors' release (or in SARDet-100K)."),
    Column(
        "image",
        datasets.Image(),
        "8-bit image a VLM sees: the authors' preprocessed PNG, or the SARDet-100K file as is.",
    ),
    _string(
        "sar_path",
        "Path of the original GeoTIFF in the release, relative to its root (originals/<source>/...); "
        "null where the release has none, e.g. SARDet-100K.",
    ),
    _string("sar_sha256", "SHA-256 of the original GeoTIFF (checked when it is read)."),
    Column("sar_bytes", datasets.Value("int64"), "Size of the original GeoTIFF in bytes."),
    _string(
        "sar_radiometry", "What the values of the original GeoTIFF are: amplitude, intensity, db, complex or display."
    ),
    Column(
        "polarizations",
        datasets.List(datasets.Value("string")),
        "Polarisation of each band of the original GeoTIFF, when known.",
    ),
    _string("source", "Source dataset: " + ", ".join(s for s in SOURCES if s != "unknown") + "."),
    _string("tier", "Resolution tier: " + ", ".join(TIERS) + "."),
    Column("gsd_m_min", datasets.Value("float64"), "Finest ground sampling distance of the source, in metres."),
    Column("gsd_m_max", datasets.Value("float64"), "Coarsest ground sampling distance of the source, in metres."),
    _string("sensor", "Sensor of the source dataset."),
    _string("location", "Place named by the file name (city, region, country), when it names one."),
    Column("lat", datasets.Value("float64"), "Latitude in degrees, when the file name carries it."),
    Column("lon", datasets.Value("float64"), "Longitude in degrees, when the file name carries it."),
    Column("width", datasets.Value("int32"), "Width of `image` in pixels."),
    Column("height", datasets.Value("int32"), "Height of `image` in pixels."),
    _string(
        "subset", "SARVQA1 (SARDet-100K images, questions from boxes) or SARVQA2 (0.1-1 m scenes).", tasks=("vqa",)
    ),
    Column(
        "captions",
        _column_wise(CAPTION_FIELDS),
        "Captions of the image, column-wise: one list per field (id, text, style: concise or detailed),"
        " item i of each list for caption i. An id is unique within the image; the global id is"
        " <image_id>-<id>.",
        tasks=("captions",),
    ),
    Column(
        "qa",
        _column_wise(QA_FIELDS),
        "Questions about the image, column-wise: one list per field (id, question, answer, application,"
        " subtype, bbox), item i of each list for question i. An id is unique within the image; the"
        " global id is <image_id>-<id>.",
        tasks=("vqa",),
    ),
)

FEATURES: dict[str, datasets.Features] = {
    task: datasets.Features({c.name: c.feature for c in COLUMNS if task in c.tasks}) for task in TASKS
}
#: The nested column holding a task's texts.
TEXT_COLUMN = {"captions": "captions", "vqa": "qa"}
COLUMN_DESCRIPTIONS = {c.name: c.description for c in COLUMNS}
