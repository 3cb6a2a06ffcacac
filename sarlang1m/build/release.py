"""Build a release folder from a raw release: partitioned Parquet shards, dataset card, MANIFEST, report.

The folder loads with plain `datasets` (YAML `configs:` in the card; no loading script). Every config is
a union of partitions selected by a glob, so no config copies another's bytes. `build_release` runs the
steps in data-flow order: stage the texts while writing the shards (`parallel`, `shards`, with the
originals stored by `original_files`), account for unreadable images, then write the report, card and
MANIFEST (`finish`), in a work folder that replaces the release folder at the very end (`work_folder`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from datasets.utils.py_utils import convert_file_size_to_int

from .. import schema
from ..errors import OutputExistsError
from ..raw.layout import is_synthetic, open_layout
from ..summary import ConfigSummary
from .finish import ReleaseNames, config_summaries, finish_release
from .parallel import stage_and_write
from .records import SARStatistics
from .report import MissingImagesError
from .shards import ShardResult
from .staging import Staging, mark_unreadable
from .work_folder import remove_stale_builds, swap_into_place

__all__ = ["BuildResult", "build_release"]


@dataclass
class BuildResult:
    """What `build_release` wrote, with the figures the CLI prints."""

    out: Path
    configs: dict[str, ConfigSummary]
    images: int
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
    `sardet_root` a folder or one archive of SARDet-100K (see `raw.layout.open_layout`).
    """
    out = Path(out).absolute()
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    layout = open_layout(raw, sardet_root=sardet_root, text_format=text_format)
    work = out.parent / f".{out.name}.building-{os.getpid()}"
    try:
        remove_stale_builds(out)
        shutil.rmtree(work, ignore_errors=True)
        (work / "release").mkdir(parents=True)
        staging_path, release = work / "staging.sqlite", work / "release"
        options = {
            "allow_missing": allow_missing,
            "max_shard_bytes": convert_file_size_to_int(max_shard_size),
            "shard_multiple": shard_multiple,
            "progress": progress,
        }
        results = stage_and_write(layout, staging_path, release, options, num_proc=num_proc, progress=progress)
        staging = Staging(staging_path)
        _skip_unreadable(staging, staging_path, results, allow_missing=allow_missing)
        stats = SARStatistics()
        for result in results:
            stats.merge(result.stats)
        configs = config_summaries(results, release)
        names = ReleaseNames(version=version, synthetic=is_synthetic(layout.release), repo_id=repo_id)
        report = finish_release(release, staging, layout, stats, configs, names)
        staging.close()
        swap_into_place(release, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        layout.close()
    return BuildResult(
        out,
        configs,
        images=sum(r.images for r in results),
        texts=report["texts_used"],
        skipped=report["texts_skipped"],
        warnings=report["warnings"],
    )


def _skip_unreadable(staging: Staging, staging_path: Path, results: list[ShardResult], *, allow_missing: bool) -> None:
    """Images that turned out unreadable while writing: an error, or (`allow_missing`) their texts skipped."""
    failures = [f for r in results for f in r.failures]
    if failures:
        if not allow_missing:
            texts = sum(schema.text_count(p.task, staging.texts(p, image)) for p, image, _ in failures)
            unreadable = list(dict.fromkeys((image, why) for _, image, why in failures))
            raise MissingImagesError("unreadable", unreadable[:20], len(unreadable), texts)
        mark_unreadable(staging_path, failures)
