"""Build a release folder from a raw release: partitioned Parquet shards, dataset card, MANIFEST, report.

The folder loads with plain `datasets` (YAML `configs:` in the card; no loading script). Every config is
a union of partitions selected by a glob, so no config copies another's bytes. `build_release` runs the
steps in data-flow order: stage the texts while writing the shards (`parallel`, `shards`, with the
originals stored by `original_files`), account for unreadable images, then write the report, card and
MANIFEST (`finish`), in a work folder that replaces the release folder at the very end
(`sarlang1m.output_folders`). Every argument is checked first, before anything is read.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from datasets.utils.py_utils import convert_file_size_to_int

from .. import schema
from ..errors import InputError
from ..messages import naming
from ..output_folders import RELEASE_FOLDER, check_output_folder, swap_into_place, work_folder
from ..publish.push_checks import hub_repo_id, release_version
from ..raw.layout import RawLayout, is_synthetic, open_layout
from ..summary import ConfigSummary
from .finish import ReleaseNames, config_summaries, finish_release
from .parallel import stage_and_write
from .records import SARStatistics
from .report import MissingImagesError
from .shard_plan import shard_multiple_report
from .shards import ShardResult
from .staging import Partition, Staging, mark_unreadable

__all__ = ["BuildResult", "build_release"]


@dataclass
class BuildResult:
    """What `build_release` wrote, with the figures the CLI prints."""

    out: Path
    configs: dict[str, ConfigSummary]
    #: distinct images in the release
    images: int
    #: Parquet rows: one per image and task (an image with captions and questions has two)
    rows: int
    texts: int
    skipped: int
    warnings: list[str]


def build_release(
    raw: str | Path,
    out: str | Path,
    *,
    sardet_root: str | Path | None = None,
    num_proc: int = 1,
    max_shard_size: int | str = "500MB",
    shard_multiple: int = 1,
    overwrite: bool = False,
    allow_missing: bool = False,
    text_format: str = "json",
    version: str = schema.RELEASE_VERSION,
    repo_id: str = schema.DEFAULT_REPO_ID,
    progress: bool = True,
) -> BuildResult:
    """Turn the authors' raw release at `raw` into a release folder at `out` (see the module docstring).

    `raw` is a folder (unzipped, or holding the upload's archives side by side) or one zip archive;
    `sardet_root` a folder or one archive of SARDet-100K (see `raw.layout.open_layout`). `out` must be a new
    path, an empty folder, or (with `overwrite`) a release folder; never the input.
    """
    version, repo_id = release_version(version), hub_repo_id(repo_id)
    options = {
        "allow_missing": allow_missing,
        "max_shard_bytes": _checked_options(num_proc, max_shard_size, shard_multiple),
        "shard_multiple": shard_multiple,
        "progress": progress,
    }
    out = Path(out)
    inputs = [raw] if sardet_root is None else [raw, sardet_root]
    check_output_folder(out, inputs=inputs, replaceable=RELEASE_FOLDER, overwrite=overwrite)
    layout = open_layout(raw, sardet_root=sardet_root, text_format=text_format)
    names = ReleaseNames(version=version, synthetic=is_synthetic(layout.release), repo_id=repo_id)
    work = work_folder(out, "building")
    try:
        with naming(out, work / "release", work):
            result = _write_release(layout, work, names, options, num_proc)
            check_output_folder(out, inputs=inputs, replaceable=RELEASE_FOLDER, overwrite=overwrite)  # again, now
            swap_into_place(work / "release", out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        layout.close()
    result.out = out.absolute()
    return result


def _write_release(layout: RawLayout, work: Path, names: ReleaseNames, options: dict, num_proc: int) -> BuildResult:
    """Stage, write the shards, account for unreadable images and finish, in `work` (its `release` folder)."""
    release, staging_path = work / "release", work / "staging.sqlite"
    release.mkdir()
    results = stage_and_write(layout, staging_path, release, options, num_proc=num_proc, progress=options["progress"])
    staging = Staging(staging_path)
    _skip_unreadable(staging, staging_path, results, allow_missing=options["allow_missing"])
    stats = SARStatistics()
    for result in results:
        stats.merge(result.stats)
    configs = config_summaries(results, release)
    sharding = shard_multiple_report(_partition_shards(results), configs, options["shard_multiple"])
    report = finish_release(release, staging, layout, stats, configs, names, sharding)
    images = staging.images_used()
    staging.close()
    return BuildResult(
        release,
        configs,
        images=images,
        rows=sum(r.images for r in results),
        texts=report["texts_used"],
        skipped=report["texts_skipped"],
        warnings=report["warnings"],
    )


def _checked_options(num_proc: int, max_shard_size: int | str, shard_multiple: int) -> int:
    """Refuse a bad option before any work (the CLI checks them too; Python callers get the same words).
    Returns the largest shard in bytes."""
    for name, value in (("num_proc", num_proc), ("shard_multiple", shard_multiple)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name} must be a whole number of at least 1, got {value!r}")
    try:
        max_shard_bytes = convert_file_size_to_int(max_shard_size)
    except (TypeError, ValueError):
        max_shard_bytes = 0
    if max_shard_bytes < 1:
        raise InputError(f"max_shard_size must be a size such as 500MB or 2GB, got {max_shard_size!r}")
    return max_shard_bytes


def _partition_shards(results: list[ShardResult]) -> list[tuple[Partition, int, int]]:
    """(partition, rows planned, shards) of every partition written."""
    totals: dict[Partition, list[int]] = {}
    for result in results:
        entry = totals.setdefault(result.partition, [0, 0])
        entry[0] += result.images + len(result.failures)
        entry[1] += 1
    return [(partition, rows, shards) for partition, (rows, shards) in totals.items()]


def _skip_unreadable(staging: Staging, staging_path: Path, results: list[ShardResult], *, allow_missing: bool) -> None:
    """Images that turned out unreadable while writing: an error, or (`allow_missing`) their texts skipped."""
    failures = [f for r in results for f in r.failures]
    if failures:
        if not allow_missing:
            texts = sum(schema.text_count(p.task, staging.texts(p, image)) for p, image, _ in failures)
            unreadable = list(dict.fromkeys((image, why) for _, image, why in failures))
            raise MissingImagesError("unreadable", unreadable[:20], len(unreadable), texts)
        mark_unreadable(staging_path, failures)
