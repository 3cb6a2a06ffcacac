"""Curated Croissant metadata (`croissant.json`) of a release: one RecordSet per config.

The Hub generates a Croissant file for every dataset, but from the Parquet types alone: it knows
nothing of the original GeoTIFFs beside the shards, nothing of the splits' meaning, the licences or the nested texts.
This one is written from `schema`: per config a `cr:FileSet` of its Parquet shards (the same globs as
the card's `configs:`), a RecordSet whose fields map every column (the `image` as `sc:ImageObject`,
`qa`/`captions` column-wise: one array sub-field per text field), a `split` field tied to a `cr:Split`
RecordSet, and the licences, citation and version. The files live in the Hub repository at the release's tag (the `repo`
FileObject); a local copy of the release is read with ``mapping={"repo": folder}`` (`open_croissant`).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import datasets

from .. import schema
from ..errors import NotFoundError, missing_extra
from ..summary import ConfigSummary
from .changelog import release_date

CROISSANT_VERSION = "http://mlcommons.org/croissant/1.1"
#: The id of the FileObject standing for the Hub repository; `open_croissant` maps it to a folder.
REPO_ID = "repo"
SPLITS_RECORD_SET = "splits"
PARQUET_FORMAT = "application/x-parquet"
TIFF_FORMAT = "image/tiff"
ORIGINALS_FILE_SET = "originals"
#: The Hub's own Croissant files give this in place of a checksum for a git repository.
_GIT_REPO_CHECKSUM = "https://github.com/mlcommons/croissant/issues/80"

#: The JSON-LD context of Croissant 1.1 (as the specification and mlcroissant write it).
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "excludes": "cr:excludes",
    "extract": "cr:extract",
    "field": "cr:field",
    "fileObject": "cr:fileObject",
    "fileProperty": "cr:fileProperty",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

#: Croissant data types of the `datasets.Value` dtypes the schema uses.
_DATA_TYPES = {
    "string": "sc:Text",
    "binary": "sc:Text",
    "float64": "sc:Float",
    "float32": "sc:Float",
    "int32": "sc:Integer",
    "int64": "sc:Integer",
    "bool": "sc:Boolean",
}


def croissant_metadata(
    configs: dict[str, ConfigSummary],
    *,
    version: str,
    synthetic: bool,
    repo_id: str = schema.DEFAULT_REPO_ID,
    originals: bool = True,
) -> dict[str, Any]:
    """The Croissant JSON-LD of a release whose per-config summary (as the build computes it) is `configs`.

    With `originals`, a `cr:FileSet` of the original GeoTIFFs (``originals/**``), which rows name by
    their ``sar_path``.
    """
    if not configs:
        raise ValueError("configs is empty: a release needs at least one config with data files")
    revision = f"v{version}"
    splits = [s for s in schema.SPLITS if any(s in c.splits for c in configs.values())]
    metadata: dict[str, Any] = {
        "@context": copy.deepcopy(CONTEXT),  # a copy: mlcroissant edits the context it is given
        "@type": "sc:Dataset",
        "conformsTo": CROISSANT_VERSION,
        "name": schema.PRETTY_NAME + (" (synthetic)" if synthetic else ""),
        "alternateName": [repo_id] if synthetic else [schema.DATASET_NAME, repo_id],
        "description": _description(synthetic, _contents(configs)),
        "url": f"https://huggingface.co/datasets/{repo_id}",
        **(_synthetic_credits(repo_id, version) if synthetic else _credits()),
        "version": version,
        "license": _licences(),
        "keywords": [*schema.TASK_CATEGORIES, *schema.TAGS, *(["synthetic"] if synthetic else [])],
        "inLanguage": "en",
        "isAccessibleForFree": True,
        "isLiveDataset": False,
        "distribution": [
            {
                "@type": "cr:FileObject",
                "@id": REPO_ID,
                "name": REPO_ID,
                "description": f"The Hugging Face dataset repository {repo_id} at tag {revision}.",
                "contentUrl": f"https://huggingface.co/datasets/{repo_id}/tree/{revision}",
                "encodingFormat": "git+https",
                "sha256": _GIT_REPO_CHECKSUM,
            },
            *(_file_set(name, config) for name, config in configs.items()),
            *([_originals_file_set()] if originals else []),
        ],
        "recordSet": [_splits_record_set(splits), *(_record_set(name, config) for name, config in configs.items())],
    }
    if date := release_date(version):
        metadata["datePublished"] = date
    return metadata


def write_croissant(
    release: str | Path,
    *,
    configs: dict[str, ConfigSummary],
    version: str,
    synthetic: bool,
    repo_id: str = schema.DEFAULT_REPO_ID,
) -> Path:
    """Write `croissant.json` into the release folder; returns its path."""
    path = Path(release) / schema.CROISSANT_FILE
    originals = (Path(release) / schema.ORIGINALS_DIR).is_dir()
    metadata = croissant_metadata(configs, version=version, synthetic=synthetic, repo_id=repo_id, originals=originals)
    path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def open_croissant(release: str | Path):
    """The release's Croissant metadata as an `mlcroissant.Dataset` reading the local folder's files."""
    try:
        import mlcroissant
    except ImportError as error:
        raise missing_extra("mlcroissant", "reading Croissant metadata") from error
    release = Path(release).absolute()
    path = release / schema.CROISSANT_FILE
    if not path.is_file():
        raise NotFoundError(f"{path}: no Croissant metadata (build the release with this package)")
    return mlcroissant.Dataset(jsonld=path, mapping={REPO_ID: release})


# ---------------------------------------------------------------------------------- pieces


_LAYOUT = (
    "One row per image and task, with the 8-bit image, the original GeoTIFF where one exists, provenance "
    "columns and the nested texts."
)


def _contents(configs: dict[str, ConfigSummary]) -> str:
    """What this release holds, counted by the build: texts and image rows of each task's all-texts config."""
    parts = []
    for task, unit in (("vqa", "visual questions"), ("captions", "captions")):
        whole = [c for c in configs.values() if c.task == task and c.subset is None and c.tier is None]
        if whole:
            splits = whole[0].splits.values()
            texts, images = sum(s.texts for s in splits), sum(s.images for s in splits)
            parts.append(f"{texts:,} {unit} on {images:,} image rows")
    return "This release holds " + (" and ".join(parts) or "no texts") + "."


def _description(synthetic: bool, contents: str) -> str:
    if synthetic:
        return (
            "SYNTHETIC DATA, NOT SARLANG-1M: a test release built by the sarlang1m package from synthetic raw data "
            "(`sarlang1m synth`, or the package's tests) in the layout of SARLANG-1M, which it imitates "
            f"(isBasedOn); its pixels and texts are synthetic. {contents} {_LAYOUT}"
        )
    return (
        "SARLANG-1M: a benchmark for vision-language modelling of SAR images, about 1.13 million image-text "
        "pairs (captions and multi-task visual questions) over 118k SAR images at 0.1-25 m, from SpaceNet6, "
        f"DFC2023, OpenEarthMap-SAR and SARDet-100K. {contents} {_LAYOUT} Each image stays under its source "
        "dataset's licence; SARDet-100K (CC BY-NC 4.0) makes the release non-commercial in practice."
    )


def _credits() -> dict[str, Any]:
    """SARLANG-1M's own: its authors created it, and their paper is how it is cited."""
    return {
        "sameAs": [schema.PAPER_URL, schema.AUTHORS_REPO_URL],
        "creator": [{"@type": "sc:Person", "name": name} for name in _authors(schema.citation())],
        "citeAs": schema.citation(),
    }


def _synthetic_credits(repo_id: str, version: str) -> dict[str, Any]:
    """A synthetic release was created by this package; the paper is what it imitates, not its source."""
    return {
        "creator": [
            {
                "@type": "sc:Organization",
                "name": "sarlang1m",
                "description": "The Python package that generated this synthetic release.",
            }
        ],
        "citeAs": (
            f"@misc{{sarlang1m_synthetic,\n  title={{{schema.PRETTY_NAME} (synthetic), version {version}}},\n"
            f"  howpublished={{\\url{{https://huggingface.co/datasets/{repo_id}}}}},\n"
            "  note={Synthetic test data generated by the sarlang1m package; not SARLANG-1M, whose paper it "
            "imitates}\n}"
        ),
        "isBasedOn": {
            "@type": "sc:ScholarlyArticle",
            "name": _title(schema.citation()),
            "url": schema.PAPER_URL,
            "author": [{"@type": "sc:Person", "name": name} for name in _authors(schema.citation())],
        },
    }


def _licences() -> list[str]:
    """The licence URLs of the source datasets, in schema order, without repeats."""
    urls = [s.license_url for s in schema.SOURCES.values() if s.name != "unknown" and s.license_url]
    return list(dict.fromkeys(urls))


def _title(bibtex: str) -> str:
    """The title of a BibTeX entry, its braces removed."""
    match = re.search(r"title\s*=\s*\{(.+?)\}\s*,?\s*$", bibtex, re.MULTILINE)
    if not match:
        raise ValueError("the citation has no title field")
    return match.group(1).replace("{", "").replace("}", "")


def _authors(bibtex: str) -> list[str]:
    """Author names of a BibTeX entry, "First Last" (from "Last, First and ...")."""
    match = re.search(r"author\s*=\s*\{(.+?)\}\s*,?\s*$", bibtex, re.MULTILINE)
    if not match:
        raise ValueError("the citation has no author field")
    names = []
    for author in match.group(1).split(" and "):
        last, _, first = (part.strip() for part in author.partition(","))
        names.append(f"{first} {last}".strip())
    return names


def _file_set_id(config: str) -> str:
    return f"{config}-parquet"


def _file_set(config: str, summary: ConfigSummary) -> dict[str, Any]:
    return {
        "@type": "cr:FileSet",
        "@id": _file_set_id(config),
        "name": _file_set_id(config),
        "description": f"Parquet shards of config {config!r}.",
        "containedIn": {"@id": REPO_ID},
        "encodingFormat": PARQUET_FORMAT,
        "includes": [info.data_files for info in summary.splits.values()],
    }


def _originals_file_set() -> dict[str, Any]:
    return {
        "@type": "cr:FileSet",
        "@id": ORIGINALS_FILE_SET,
        "name": ORIGINALS_FILE_SET,
        "description": "The original GeoTIFFs, byte for byte, each stored once; a row names its own by sar_path "
        "(relative to the repository root) and checks it by sar_sha256.",
        "containedIn": {"@id": REPO_ID},
        "encodingFormat": TIFF_FORMAT,
        "includes": [f"{schema.ORIGINALS_DIR}/**/*.tif"],
    }


def _splits_record_set(splits: list[str]) -> dict[str, Any]:
    field_id = f"{SPLITS_RECORD_SET}/split_name"
    return {
        "@type": "cr:RecordSet",
        "@id": SPLITS_RECORD_SET,
        "name": SPLITS_RECORD_SET,
        "description": "The splits of the authors: an image keeps its split across tasks; no validation split.",
        "dataType": "cr:Split",
        "key": {"@id": field_id},
        "field": [{"@type": "cr:Field", "@id": field_id, "name": "split_name", "dataType": "sc:Text"}],
        "data": [{field_id: split} for split in splits],
    }


def _record_set(config: str, summary: ConfigSummary) -> dict[str, Any]:
    task = summary.task
    file_set = {"fileSet": {"@id": _file_set_id(config)}}
    fields = [
        {
            "@type": "cr:Field",
            "@id": f"{config}/split",
            "name": "split",
            "description": "The split of the row, from its shard's file name.",
            "dataType": "sc:Text",
            "source": {
                **file_set,
                "extract": {"fileProperty": "fullpath"},
                "transform": {"regex": _split_regex(config)},
            },
            "references": {"field": {"@id": f"{SPLITS_RECORD_SET}/split_name"}},
        }
    ]
    for column, feature in schema.FEATURES[task].items():
        fields.append(_field(f"{config}/{column}", column, feature, file_set, column, json_path=None))
    return {
        "@type": "cr:RecordSet",
        "@id": config,
        "name": config,
        "description": summary.description,
        "key": {"@id": f"{config}/image_id"},
        "field": fields,
    }


def _split_regex(config: str) -> str:
    """The split of a shard from its path, e.g. `^(?:data/vqa/.+/vhr/)?(train|test)(?:\\-.+\\.parquet)?$`.

    mlcroissant turns this regex into globs to read only one split (`filters={"<config>/split": "test"}`),
    so the config's folders are part of it; the optional groups let the value match again after the join
    with the splits (mlcroissant applies the transform twice).
    """
    folders, _, shard = schema.config_spec(config).split_glob("SPLIT").rpartition("/")
    prefix = re.escape(folders + "/").replace(r"\*", ".+")
    suffix = re.escape(shard.removeprefix("SPLIT")).replace(r"\*", ".+")
    return rf"^(?:{prefix})?({'|'.join(schema.SPLITS)})(?:{suffix})?$"


def _field(
    field_id: str, name: str, feature: Any, file_set: dict, column: str, *, json_path: str | None
) -> dict[str, Any]:
    """A Croissant field for a column (or, with `json_path`, for a member of a nested column's items)."""
    field: dict[str, Any] = {"@type": "cr:Field", "@id": field_id, "name": name}
    description = schema.COLUMN_DESCRIPTIONS.get(name) if json_path is None else None
    if description:
        field["description"] = description
    source: dict[str, Any] = {**file_set, "extract": {"column": column}}
    if json_path:
        source["transform"] = {"jsonPath": json_path}
    if isinstance(feature, datasets.Image):
        field["dataType"] = "sc:ImageObject"
        source["transform"] = {"jsonPath": f"{json_path}.bytes" if json_path else "bytes"}
        field["source"] = source
    elif isinstance(feature, dict):  # column-wise texts: one array per member, read by its JSON path
        field["subField"] = [
            _field(f"{field_id}/{member}", member, inner, file_set, column, json_path=member)
            for member, inner in feature.items()
        ]
    elif isinstance(feature, datasets.List):
        inner = _field(field_id, name, feature.feature, file_set, column, json_path=json_path)
        field.update(dataType=inner["dataType"], isArray=True, arrayShape="-1", source=source)
    elif isinstance(feature, datasets.Value):
        if feature.dtype not in _DATA_TYPES:
            raise ValueError(f"column {column!r}: no Croissant data type for dtype {feature.dtype!r}")
        field["dataType"] = _DATA_TYPES[feature.dtype]
        field["source"] = source
    else:
        raise ValueError(f"column {column!r}: no Croissant mapping for feature {type(feature).__name__}")
    return field
