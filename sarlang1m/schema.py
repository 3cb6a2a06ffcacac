"""The single definition of a SARLANG-1M release.

Sources, resolution tiers, applications, answer types, columns, configs, partitions and file names
are defined here and nowhere else, so that the reader, the builder, the card, the loaders and the
evaluator cannot disagree. Figures marked "paper" come from the SARLANG-1M paper (arXiv 2504.03254)
and are used to generate a synthetic release of the same shape and to compare a build against.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Literal, get_args

import datasets

from .errors import InputError, ReleaseError

# --------------------------------------------------------------------------------------------
# The release as a whole

DATASET_NAME = "sarlang-1m"
PRETTY_NAME = "SARLANG-1M"
#: Hub repository of the published release, and the revision `sarlang1m.load` pins by default.
DEFAULT_REPO_ID = "sarlang1m/SARLANG-1M"
RELEASE_VERSION = "1.0.0"
RELEASE_REVISION = f"v{RELEASE_VERSION}"

TASKS = ("captions", "vqa")
SPLITS = ("train", "test")
SUBSETS = ("sarvqa1", "sarvqa2")

#: Files at the root of a release folder.
CARD_FILE = "README.md"
MANIFEST_FILE = "MANIFEST.json"
REPORT_FILE = "build_report.json"
CROISSANT_FILE = "croissant.json"
SAMPLE_GRID_FILE = "sample_grid.png"
DATA_DIR = "data"
#: Folder of the original GeoTIFFs: ``originals/<source>/<file name>``, each stored once, listed by no config
#: (so `datasets` never downloads them for image-only use), read by path (see `sarlang1m.originals`).
ORIGINALS_DIR = "originals"
#: Entries per folder the Hub recommends staying under; a source expected to exceed it is bucketed.
MAX_FOLDER_ENTRIES = 10_000

# --------------------------------------------------------------------------------------------
# What a release says about itself: the card's YAML, the Croissant metadata and the builder's
# `DatasetInfo` all read these, so the three cannot drift apart.

TAGS = ("sar", "remote-sensing", "earth-observation", "geospatial", "synthetic-aperture-radar")
TASK_CATEGORIES = ("visual-question-answering", "image-to-text")
LICENSE_NAME = "sarlang-1m-mixed-source-licences"
LICENSE_LINK = "https://github.com/Jimmyxichen/SARLANG-1M"
PAPER_URL = "https://arxiv.org/abs/2504.03254"
AUTHORS_REPO_URL = "https://github.com/Jimmyxichen/SARLANG-1M"
#: The authors' BibTeX entry; a packaged file so that it can be copied as it is.
CITATION_FILE = Path(__file__).parent / "card" / "assets" / "citation.bib"


def citation() -> str:
    """The authors' BibTeX entry for SARLANG-1M (`CITATION_FILE`)."""
    return CITATION_FILE.read_text(encoding="utf-8").strip()


# --------------------------------------------------------------------------------------------
# Resolution tiers. The paper defines none; these bounds are ours and documented in the card.


@dataclass(frozen=True)
class Tier:
    name: str
    gsd_m: tuple[float, float]
    description: str


TIERS: dict[str, Tier] = {
    t.name: t
    for t in (
        Tier("vhr", (0.0, 0.5), "very high resolution: GSD up to 0.5 m"),
        Tier("high", (0.5, 2.0), "high resolution: GSD above 0.5 m, up to 2 m"),
        Tier("medium", (2.0, 5.0), "medium resolution: GSD above 2 m, up to 5 m"),
        Tier("low", (5.0, 25.0), "low resolution: GSD above 5 m, up to 25 m"),
        Tier("mixed", (0.1, 25.0), "unknown within 0.1-25 m (SARDet-100K images whose origin is not known)"),
    )
}


# --------------------------------------------------------------------------------------------
# Radiometry of the original SAR pixels (see sarlang1m.sar)

Radiometry = Literal["amplitude", "intensity", "db", "complex", "display"]
RADIOMETRIES: tuple[Radiometry, ...] = get_args(Radiometry)

# --------------------------------------------------------------------------------------------
# Source datasets


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    subset: str
    sensor: str
    gsd_m: tuple[float, float]
    tier: str
    polarizations: tuple[str, ...]
    #: Radiometry of the source's original GeoTIFF when it is documented; None: inferred per file.
    radiometry: Radiometry | None
    license: str
    license_url: str
    commercial_use: bool
    homepage: str
    paper_images: int


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            name="spacenet6",
            title="SpaceNet6 (Rotterdam)",
            subset="sarvqa2",
            sensor="Capella Space airborne X-band, quad-pol",
            gsd_m=(0.5, 0.5),
            tier="vhr",
            polarizations=("HH", "HV", "VH", "VV"),
            radiometry="db",
            license="CC BY-SA 4.0 (reported)",
            license_url="https://creativecommons.org/licenses/by-sa/4.0/",
            commercial_use=True,
            homepage="https://spacenet.ai/sn6-challenge/",
            paper_images=3311,
        ),
        Source(
            name="dfc2023",
            title="IEEE GRSS Data Fusion Contest 2023",
            subset="sarvqa2",
            sensor="Gaofen-3 C-band (reported), single-pol",
            gsd_m=(0.5, 2.0),
            tier="high",
            polarizations=(),
            radiometry=None,
            license="IEEE GRSS DFC2023 terms of use",
            license_url="https://www.grss-ieee.org/community/technical-committees/2023-ieee-grss-data-fusion-contest/",
            commercial_use=False,
            homepage="https://www.grss-ieee.org/community/technical-committees/2023-ieee-grss-data-fusion-contest/",
            paper_images=5222,
        ),
        Source(
            name="openearthmap_sar",
            title="OpenEarthMap-SAR (Umbra)",
            subset="sarvqa2",
            sensor="Umbra X-band spotlight, single-pol",
            gsd_m=(0.15, 0.5),
            tier="vhr",
            polarizations=(),
            radiometry=None,
            license="CC BY 4.0 (Umbra open data)",
            license_url="https://creativecommons.org/licenses/by/4.0/",
            commercial_use=True,
            homepage="https://github.com/cliffbb/OpenEarthMap-SAR",
            paper_images=4813,
        ),
        Source(
            name="sardet_100k",
            title="SARDet-100K",
            subset="sarvqa1",
            sensor="mixed: GF-3, Sentinel-1, TerraSAR-X, TanDEM-X, RadarSat-2, HISEA-1, airborne",
            gsd_m=(0.1, 25.0),
            tier="mixed",
            polarizations=(),
            radiometry="display",
            license="CC BY-NC 4.0",
            license_url="https://creativecommons.org/licenses/by-nc/4.0/",
            commercial_use=False,
            homepage="https://github.com/zcablii/SARDet_100K",
            paper_images=104985,
        ),
        Source(
            name="unknown",
            title="Unrecognised file name",
            subset="sarvqa2",
            sensor="unknown",
            gsd_m=(0.1, 25.0),
            tier="mixed",
            polarizations=(),
            radiometry=None,
            license="unknown",
            license_url="",
            commercial_use=False,
            homepage="",
            paper_images=0,
        ),
    )
}

# --------------------------------------------------------------------------------------------
# Applications (the paper's seven), the sub-types of "others", answer types and caption styles


@dataclass(frozen=True)
class Application:
    name: str
    title: str
    task: str
    paper_texts: int


APPLICATIONS: dict[str, Application] = {
    a.name: a
    for a in (
        Application("image_description", "Image Description", "captions", 45_650),
        Application("object_identification", "Object Identification", "vqa", 484_620),
        Application("object_classification", "Object Classification", "vqa", 132_525),
        Application("instance_counting", "Instance Counting", "vqa", 117_382),
        Application("region_referring", "Region Referring", "vqa", 221_450),
        Application("object_positioning", "Object Positioning", "vqa", 106_171),
        Application("others", "Others", "vqa", 18_479),
    )
}
VQA_APPLICATIONS = tuple(a for a, spec in APPLICATIONS.items() if spec.task == "vqa")

#: Sub-types of "others" with their reported counts in the paper.
OTHERS_SUBTYPES: dict[str, int] = {
    "reasoning": 14_048,
    "shape": 2_391,
    "direction": 1_103,
    "pattern": 857,
    "land_cover": 80,
}

ANSWER_TYPES = ("yes_no", "number", "category", "position", "free_text")
CAPTION_STYLES = ("concise", "detailed")

#: The closed vocabularies of SARVQA1 (questions generated from SARDet-100K boxes).
SARVQA1_CLASSES = ("tank", "car", "aircraft", "harbor", "bridge", "ship")
SARVQA1_POSITIONS = ("top", "center", "bottom", "left", "right")
#: What the authors tell users to prepend to SARVQA1 questions when mixing it with SARVQA2.
CLASS_PROMPTS = {
    "classes": "The classes are: " + ", ".join(SARVQA1_CLASSES) + ".",
    "positions": "The classes are: " + ", ".join(SARVQA1_POSITIONS) + ".",
}
#: The 16 land-cover classes of the paper's statistics figure.
LAND_COVER_CLASSES = (
    "Residential",
    "Industrial",
    "Urban",
    "Mixed-use",
    "Park",
    "Recreational",
    "Residential and construction",
    "Forest",
    "Minimal",
    "Parking area",
    "Commercial",
    "Farming",
    "Urban development",
    "Agricultural field",
    "Energy generation and agriculture",
    "Vegetation",
)

#: The paper's prompts (used by the exports and by the evaluation examples).
CAPTION_PROMPT = "Describe the content of this image in one sentence."
VQA_PROMPT = "Question: {question}. Answer the question concisely."
#: The image placeholder of LLaMA-Factory and LLaVA user turns (removed from questions on reading).
IMAGE_TOKEN = "<image>"


@dataclass(frozen=True)
class PaperCounts:
    """Reported sizes of the real release, per split (used by `synth --paper-scale`)."""

    sardet_images: dict[str, int]
    caption_images: dict[str, int]
    captions: dict[str, dict[str, int]]
    vqa_images: dict[str, int]
    vqa_texts: dict[str, int]

    @property
    def images(self) -> int:
        return sum(self.vqa_images.values())

    @property
    def texts(self) -> int:
        return sum(self.vqa_texts.values()) + sum(sum(s.values()) for s in self.captions.values())


PAPER = PaperCounts(
    sardet_images={"train": 94_493, "test": 10_492},
    caption_images={"train": 9_341, "test": 4_005},
    captions={
        "train": {"concise": 17_487, "detailed": 14_481},
        "test": {"concise": 7_492, "detailed": 6_190},
    },
    vqa_images={"train": 103_834, "test": 14_497},
    vqa_texts={"train": 955_372, "test": 125_255},
)

# --------------------------------------------------------------------------------------------
# Columns: one row per image and task, its texts nested. Each column is defined once, here: its name,
# its `datasets` feature, its description (card, Croissant) and the tasks that have it.
#
# The texts of an image are stored column-wise, a struct of lists (as SQuAD stores `answers`):
# ``qa = {"id": [...], "question": [...], ...}``, one list per field, item i of every list belonging to
# text i. Stored as a list of records, each text would repeat its field names in every JSON response of
# the Dataset Viewer, about a third of a question's bytes; `text_records` turns a row's texts back
# into one dict per text.
#
# A stored text id is local to its image (``q`` or ``c`` and a hash, e.g. ``q1d4ee82dd``): repeating the
# image id in every text would cost about a fifth of a VQA row in the viewer. The id users see and write
# (pairs, exports, references, predictions files, the build report) is the global one, `text_id`.
#
# Rows hold what the authors' release says and where it came from, not what can be computed from it:
# a question's answer type (`sarlang1m.raw.classify.answer_type`, from its answer) and an image's
# SHA-256 (the MANIFEST checks every shard's bytes) would cost about a tenth of a VQA row in the viewer,
# which pushed the preview of the largest configs over its response limit. Pairs and the evaluator
# still give each question its ``answer_type``.

#: The fields of one caption and of one question, with the type of one value.
CAPTION_FIELDS = {
    "id": datasets.Value("string"),
    "text": datasets.Value("string"),
    "style": datasets.Value("string"),
}
QA_FIELDS = {
    "id": datasets.Value("string"),
    "question": datasets.Value("string"),
    "answer": datasets.Value("string"),
    "application": datasets.Value("string"),
    "subtype": datasets.Value("string"),
    "bbox": datasets.List(datasets.Value("float32")),
}
_TEXT_FIELDS = {"captions": CAPTION_FIELDS, "vqa": QA_FIELDS, "qa": QA_FIELDS}


def text_id(image_id: str, local_id: str) -> str:
    """The global id of a text: its image's id, a hyphen, and its id within the image (``qa.id``, ``captions.id``).

    The one place that composes it: views, exports, the evaluator's references and the build report all
    name a text by this string, and predictions files are keyed by it.
    """
    return f"{image_id}-{local_id}"


def local_text_id(image_id: str, global_id: str) -> str:
    """The inverse of `text_id`: the id stored in a row, from the global id of a text of image `image_id`."""
    prefix = text_id(image_id, "")
    if not global_id.startswith(prefix) or len(global_id) == len(prefix):
        raise ValueError(f"text id {global_id!r} is not of image {image_id!r} (expected {prefix!r} and a local id)")
    return global_id[len(prefix) :]


def _column_wise(fields: dict[str, Any]) -> dict[str, datasets.List]:
    """The feature of a texts column: one list per field (see above)."""
    return {name: datasets.List(feature) for name, feature in fields.items()}


def text_count(task_or_column: str, texts: Mapping[str, Sequence[Any]] | None, *, row: object = None) -> int:
    """How many texts a row's column-wise texts hold, after the shape checks of `text_records` (which see);
    cheap enough for the build, which counts every row's texts."""
    if task_or_column not in _TEXT_FIELDS:
        raise ValueError(f"unknown task or text column {task_or_column!r}; expected one of {list(_TEXT_FIELDS)}")
    if texts is None:
        return 0
    where = f"row {row!r}: " if row is not None else ""
    if not isinstance(texts, Mapping):
        raise ReleaseError(
            f"{where}{task_or_column!r} is a {type(texts).__name__}, not the column-wise mapping of field -> list"
            f" of values this package writes (fields {list(_TEXT_FIELDS[task_or_column])}); rebuild the release"
            " with this version of sarlang1m"
        )
    unknown = sorted(set(texts) - set(_TEXT_FIELDS[task_or_column]))
    if unknown:
        raise ReleaseError(
            f"{where}{task_or_column!r} has unknown field(s) {unknown}; expected {list(_TEXT_FIELDS[task_or_column])}"
        )
    lengths = {name: len(values) if values is not None else 0 for name, values in texts.items()}
    if len(set(lengths.values())) > 1:
        raise ReleaseError(
            f"{where}the fields of {task_or_column!r} hold different numbers of texts {lengths}; every field"
            " needs one value per text: rebuild the release or fix the row"
        )
    return next(iter(lengths.values()), 0)


def text_records(
    task_or_column: str,
    texts: Mapping[str, Sequence[Any]] | None,
    *,
    image_id: str | None = None,
    row: object = None,
) -> list[dict]:
    """A row's column-wise texts (``qa`` or ``captions``) as one dict per text, in order.

    `task_or_column` is ``vqa``/``qa`` or ``captions``; `texts` the row's value (None: no texts). With the
    row's `image_id`, each dict's ``id`` is the text's global id (`text_id`), the one users see and key
    predictions by; without it, the id as stored, unique only within the image (for code that counts
    texts or writes them back, e.g. with `text_columns`). `row` names the row in errors when `image_id` is
    not given. A field absent from `texts` is absent from the dicts. Lists of different lengths, an unknown
    field, or texts stored as a list of records (the layout of builds before the column-wise one) are a
    `ReleaseError` naming the row.
    """
    count = text_count(task_or_column, texts, row=image_id if image_id is not None else row)
    if texts is None or not count:
        return []
    columns = {name: values if values is not None else () for name, values in texts.items()}
    if image_id is not None and "id" in columns:
        columns["id"] = [text_id(image_id, local) if local is not None else None for local in columns["id"]]
    return [{name: values[i] for name, values in columns.items()} for i in range(count)]


def text_columns(task_or_column: str, records: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The inverse of `text_records`: per-text dicts (missing fields as None) as a row's column-wise texts."""
    if task_or_column not in _TEXT_FIELDS:
        raise ValueError(f"unknown task or text column {task_or_column!r}; expected one of {list(_TEXT_FIELDS)}")
    return {name: [record.get(name) for record in records] for name in _TEXT_FIELDS[task_or_column]}


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

# --------------------------------------------------------------------------------------------
# Partitions and configs: every config is a union of partitions, selected by a glob


def partition_dir(task: str, tier: str, subset: str | None = None) -> str:
    """Folder of the smallest unit a config needs: tier for captions, subset x tier for VQA."""
    if task == "captions":
        return f"{DATA_DIR}/captions/{tier}"
    if task == "vqa":
        if subset not in SUBSETS:
            raise ValueError(f"VQA partition needs a subset in {SUBSETS}, got {subset!r}")
        return f"{DATA_DIR}/vqa/{subset}/{tier}"
    raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")


def original_path(source: str, file_name: str) -> str:
    """Where an original GeoTIFF lives in a release: ``originals/<source>/<file name>``.

    A source whose paper count could reach `MAX_FOLDER_ENTRIES` (and the unrecognised source, whose size
    is unknown) gets a stable two-hex-digit bucket from the file name's SHA-1, ``originals/<source>/ab/<name>``:
    256 buckets keep every folder small up to 2.5M files, and the path never depends on what else was built.
    """
    if not file_name or "/" in file_name or "\\" in file_name or file_name in (".", ".."):
        raise ValueError(f"an original's file name must be a plain name, got {file_name!r}")
    spec = SOURCES[source]
    if spec.paper_images == 0 or spec.paper_images >= MAX_FOLDER_ENTRIES * 0.8:
        bucket = hashlib.sha1(file_name.encode("utf-8")).hexdigest()[:2]
        return f"{ORIGINALS_DIR}/{source}/{bucket}/{file_name}"
    return f"{ORIGINALS_DIR}/{source}/{file_name}"


def shard_name(split: str, index: int, count: int) -> str:
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


@dataclass(frozen=True)
class ConfigSpec:
    name: str
    task: str
    description: str
    subset: str | None = None
    tier: str | None = None
    default: bool = False

    @property
    def partition_glob(self) -> str:
        if self.task == "captions":
            return f"{DATA_DIR}/captions/{self.tier or '*'}"
        return f"{DATA_DIR}/vqa/{self.subset or '*'}/{self.tier or '*'}"

    def split_glob(self, split: str) -> str:
        return f"{self.partition_glob}/{split}-*.parquet"

    def includes(self, partition: str) -> bool:
        return fnmatch(partition, self.partition_glob)


def config_specs(tiers: dict[str, set[str]] | None = None) -> list[ConfigSpec]:
    """Every named config; with `tiers` ({task: tiers present}), also one per tier per task."""
    specs = [
        ConfigSpec("vqa", "vqa", "All visual questions (SARVQA1 and SARVQA2).", default=True),
        ConfigSpec("captions", "captions", "All captions, concise and detailed."),
        ConfigSpec("sarvqa1", "vqa", "SARVQA1: questions on SARDet-100K images, from their boxes.", "sarvqa1"),
        ConfigSpec("sarvqa2", "vqa", "SARVQA2: questions on SpaceNet6, DFC2023, OpenEarthMap-SAR.", "sarvqa2"),
    ]
    for task in TASKS:
        for tier in TIERS:
            if tiers is None or tier in tiers.get(task, set()):
                specs.append(ConfigSpec(f"{task}-{tier}", task, f"{task} on {TIERS[tier].description}.", tier=tier))
    return specs


def config_spec(name: str) -> ConfigSpec:
    for spec in config_specs():
        if spec.name == name:
            return spec
    raise InputError(f"unknown config {name!r}; expected one of {[s.name for s in config_specs()]}")
