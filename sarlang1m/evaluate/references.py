"""Ground truth for the evaluation, taken from a release.

The scoring functions take plain iterables of reference records, so they can be tested and reused
without a release; reading a release (a local folder or a Hub repository at a revision) is the thin
layer at the bottom. Only the text columns are read: image bytes never leave the Parquet files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, ReleaseError
from ..raw.classify import answer_type
from ..release_files import read_parquet_rows, release_data_files
from ..resolve import read_release_manifest, release_name, requested_revision, resolve_release
from ..schema import FEATURES, TEXT_COLUMN, config_spec, text_records

#: Per-image columns the evaluation reads, besides the nested texts.
_IMAGE_COLUMNS = ("image_id", "source", "tier")


@dataclass(frozen=True)
class VQAReference:
    """One question of the release with the attributes accuracy is broken down by."""

    id: str
    question: str
    answer: str
    application: str
    subtype: str | None
    answer_type: str
    image_id: str
    source: str
    tier: str
    subset: str


@dataclass(frozen=True)
class CaptionReference:
    """One caption of the release: the reference a predicted caption is scored against."""

    id: str
    text: str
    style: str
    image_id: str
    source: str
    tier: str


def _field(record: Mapping[str, Any], name: str, where: str, *, nullable: bool = False) -> Any:
    """A field of a release record, with an error naming the record if it is absent or null."""
    if name not in record:
        raise ReleaseError(f"{where}: missing field {name!r}")
    value = record[name]
    if value is None and not nullable:
        raise ReleaseError(f"{where}: field {name!r} is null")
    return value


def _unique(references: Iterable[Any]) -> list[Any]:
    """The references as a list, refusing repeated ids (a prediction could not say which it answers)."""
    seen: dict[str, str] = {}
    unique = []
    for reference in references:
        if reference.id in seen:
            raise ReleaseError(
                f"reference id {reference.id!r} appears twice (images {seen[reference.id]!r} and "
                f"{reference.image_id!r}); ids must be unique within a split"
            )
        seen[reference.id] = reference.image_id
        unique.append(reference)
    return unique


def _vqa_records(rows: Iterable[Mapping[str, Any]]) -> Iterator[VQAReference]:
    for row in rows:
        image_id = _field(row, "image_id", "release row")
        where = f"image {image_id!r}"
        source, tier = _field(row, "source", where), _field(row, "tier", where)
        subset = _field(row, "subset", where)
        for qa in text_records("vqa", _field(row, "qa", where), image_id=image_id):
            qa_where = f"{where}, question {qa.get('id')!r}"
            yield VQAReference(
                id=_field(qa, "id", where),
                question=_field(qa, "question", qa_where),
                answer=_field(qa, "answer", qa_where),
                application=_field(qa, "application", qa_where),
                subtype=_field(qa, "subtype", qa_where, nullable=True),
                answer_type=answer_type(qa["answer"], qa["application"], qa["subtype"]),
                image_id=image_id,
                source=source,
                tier=tier,
                subset=subset,
            )


def vqa_references(rows: Iterable[Mapping[str, Any]]) -> list[VQAReference]:
    """Flatten release rows of a VQA config (one per image, questions nested) into questions."""
    return _unique(_vqa_records(rows))


def _caption_records(rows: Iterable[Mapping[str, Any]]) -> Iterator[CaptionReference]:
    for row in rows:
        image_id = _field(row, "image_id", "release row")
        where = f"image {image_id!r}"
        source, tier = _field(row, "source", where), _field(row, "tier", where)
        for caption in text_records("captions", _field(row, "captions", where), image_id=image_id):
            caption_where = f"{where}, caption {caption.get('id')!r}"
            yield CaptionReference(
                id=_field(caption, "id", where),
                text=_field(caption, "text", caption_where),
                style=_field(caption, "style", caption_where),
                image_id=image_id,
                source=source,
                tier=tier,
            )


def caption_references(rows: Iterable[Mapping[str, Any]]) -> list[CaptionReference]:
    """Flatten release rows of a captions config (one per image, captions nested) into captions."""
    return _unique(_caption_records(rows))


# --------------------------------------------------------------------------------------------
# Reading a release


def load_release_rows(release: str | Path, config: str, split: str, task: str) -> Iterator[dict[str, Any]]:
    """Rows of one config and split of a release, with only the columns the evaluation needs.

    The config's Parquet files (as the release's card lists them) are read one by one, column by
    column, so neither the image bytes nor a local Arrow cache are produced for a one-off
    evaluation, and a damaged file is named with the command that checks the release.
    """
    spec = config_spec(config)
    if spec.task != task:
        raise InputError(f"config {config!r} holds {spec.task}, not {task}")
    columns = [c for c in (*_IMAGE_COLUMNS, "subset", TEXT_COLUMN[task]) if c in FEATURES[task]]
    path, revision = resolve_release(release)
    try:
        files = release_data_files(config, split, path, revision)
    except FileNotFoundError as error:
        raise ReleaseError(
            f"cannot read split {split!r} of config {config!r} from release {release}: {error}"
        ) from error
    for file in files:
        yield from read_parquet_rows(file, columns, release=release_name(path, revision))


def release_meta(release: str | Path, config: str, split: str) -> dict[str, Any]:
    """What a score was computed on, for its report: the release and the revision that was read.

    `release` is the folder, or ``ORG/NAME@REV`` with the revision actually read (the pinned one
    when none was named); `release_commit` is the commit that revision resolved to (Hub, when the
    Hub says), `release_version` the version in the release's MANIFEST. A synthetic release says so.
    """
    path, revision = resolve_release(release)  # a Hub revision comes back resolved to its commit
    meta: dict[str, Any] = {"release": release_name(path, requested_revision(release))}
    if revision is not None:
        commit = revision if re.fullmatch(r"[0-9a-f]{40}", revision) else _hub_commit(path, revision)
        if commit:
            meta["release_commit"] = commit
    try:
        manifest = read_release_manifest(path, revision)
    except (OSError, ValueError):
        manifest = {}
    if manifest.get("version"):
        meta["release_version"] = str(manifest["version"])
    meta.update({"config": config, "split": split})
    if manifest.get("synthetic"):
        meta["synthetic"] = True
    return meta


def _hub_commit(repo_id: str, revision: str) -> str | None:
    """The commit a Hub revision points to, or None if the Hub cannot say (the score stands without it)."""
    from huggingface_hub import HfApi

    try:
        return HfApi().dataset_info(repo_id, revision=revision).sha
    except Exception:  # any failure of an optional detail (network, permissions): the report omits it
        return None


def describe_scope(meta: dict[str, Any]) -> str:
    """What the references of a report are, for messages: config, split and release."""
    return f"config {meta['config']!r}, split {meta['split']!r} of release {meta['release']}"


def load_vqa_references(release: str | Path, *, config: str = "vqa", split: str = "test") -> list[VQAReference]:
    """The questions of a release's VQA config and split."""
    return vqa_references(load_release_rows(release, config, split, "vqa"))


def load_caption_references(
    release: str | Path, *, config: str = "captions", split: str = "test"
) -> list[CaptionReference]:
    """The captions of a release's captions config and split."""
    return caption_references(load_release_rows(release, config, split, "captions"))
