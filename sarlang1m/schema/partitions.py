"""Where rows and originals live in a release, and the configs: every config is a union of partitions
(tier for captions, subset x tier for VQA), selected by a glob."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fnmatch import fnmatch

from ..errors import InputError
from .release import DATA_DIR, MAX_FOLDER_ENTRIES, ORIGINALS_DIR, SUBSETS, TASKS
from .source_datasets import SOURCES, TIERS


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


#: How the description of a task's tier config opens; the tier's description ends it.
_TIER_CONFIG_OPENINGS = {"vqa": "Visual questions on", "captions": "Captions of"}


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
                description = f"{_TIER_CONFIG_OPENINGS[task]} {TIERS[tier].description}."
                specs.append(ConfigSpec(f"{task}-{tier}", task, description, tier=tier))
    return specs


def config_spec(name: str) -> ConfigSpec:
    for spec in config_specs():
        if spec.name == name:
            return spec
    raise InputError(f"unknown config {name!r}; expected one of {[s.name for s in config_specs()]}")
