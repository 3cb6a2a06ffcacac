"""Build a release folder from a raw release: partitioned Parquet shards, dataset card, MANIFEST, report.

The folder loads with plain `datasets` (YAML `configs:` in the card; no loading script). Every config is
a union of partitions selected by a glob, so no config copies another's bytes. The build writes into a
hidden sibling folder and renames it at the end: an interrupted build never leaves a folder that looks
like a release, and the MANIFEST is written last.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue
import shutil
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from multiprocessing.managers import SyncManager
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import TypedDict

import datasets
from datasets.arrow_writer import ParquetWriter
from datasets.utils.py_utils import convert_file_size_to_int
from tqdm.auto import tqdm

from .. import __version__, schema
from ..card import write_card
from ..card.croissant import write_croissant
from ..card.preview import write_sample_grid
from ..errors import OutputExistsError, ReleaseError
from ..publish.manifest import (
    file_entries,
    iter_original_references,
    original_sizes,
    originals_problems,
    originals_summary,
    write_manifest,
)
from ..raw.layout import find_layout, is_synthetic
from ..summary import ConfigSummary, SplitSummary, configs_to_json
from .records import SARStatistics, iter_records
from .report import SKIP_REASONS, FileAccount, MissingImagesError
from .staging import Partition, Stager, Staging, mark_unreadable

#: Bytes of one Parquet row group, and at most one viewer page of rows (100) per group: the viewer reads
#: whole row groups to serve a page, so a page never costs more than one group's worth of images.
ROW_GROUP_BYTES = 32 * 2**20
MAX_ROWS_PER_ROW_GROUP = 100
_PROGRESS_EVERY = 16


@dataclass
class ShardResult:
    path: str
    partition: Partition
    images: int = 0
    texts: int = 0
    num_bytes: int = 0
    failures: list[tuple[Partition, str, str]] = field(default_factory=list)
    stats: SARStatistics = field(default_factory=SARStatistics)


class _ReleaseNames(TypedDict):
    """What the card and the Croissant metadata both name the release by."""

    version: str
    synthetic: bool
    repo_id: str


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
    """Turn the authors' raw release at `raw` into a release folder at `out` (see the module docstring)."""
    out = Path(out).absolute()
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    layout = find_layout(raw, sardet_root=sardet_root, text_format=text_format)
    work = out.parent / f".{out.name}.building-{os.getpid()}"
    _remove_stale_builds(out)
    shutil.rmtree(work, ignore_errors=True)
    (work / "release").mkdir(parents=True)
    try:
        staging_path, release = work / "staging.sqlite", work / "release"
        options = {
            "allow_missing": allow_missing,
            "max_shard_bytes": convert_file_size_to_int(max_shard_size),
            "shard_multiple": shard_multiple,
            "progress": progress,
        }
        results = _stage_and_write(layout, staging_path, release, options, num_proc=num_proc, progress=progress)
        staging = Staging(staging_path)
        failures = [f for r in results for f in r.failures]
        if failures:
            if not allow_missing:
                texts = sum(len(schema.text_records(p.task, staging.texts(p, image))) for p, image, _ in failures)
                unreadable = list(dict.fromkeys((image, why) for _, image, why in failures))
                raise MissingImagesError("unreadable", unreadable[:20], len(unreadable), texts)
            mark_unreadable(staging_path, failures)
        stats = SARStatistics()
        for result in results:
            stats.merge(result.stats)
        configs = _config_summaries(results, release)
        synthetic = is_synthetic(layout.root)
        report = _write_report(staging, release, stats, synthetic=synthetic)
        sar_statistics = stats.summary()
        originals = _check_originals(release)
        names = _ReleaseNames(version=version, synthetic=synthetic, repo_id=repo_id)
        write_card(release, configs=configs, sar_statistics=sar_statistics, **names)
        write_croissant(release, configs=configs, **names)
        write_sample_grid(release)
        files = file_entries(release)
        problems = originals_problems(files, iter_original_references(release, files))
        if problems:  # a bug, not bad input: rows and originals are written together
            raise RuntimeError(f"rows and originals disagree: {problems[:5]}")
        write_manifest(
            release,
            {
                "dataset": schema.PRETTY_NAME,
                "version": version,
                "repo_id": repo_id,
                "synthetic": synthetic,
                "generator": _generator_versions(),
                "inputs": {
                    "text_files": report["files"],
                    "image_files": staging.counts(),
                    "sardet_root_given": layout.sardet_root is not None,
                },
                "configs": configs_to_json(configs),
                "report": {"texts_used": report["texts_used"], "texts_skipped": report["texts_skipped"]},
                "sar_statistics": sar_statistics,
                "originals": originals,
            },
            files,
        )
        staging.close()
        _swap_into_place(release, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BuildResult(
        out,
        configs,
        images=sum(r.images for r in results),
        texts=report["texts_used"],
        skipped=report["texts_skipped"],
        warnings=report["warnings"],
    )


# ------------------------------------------------------------------------------------ shards


def _stage_and_write(
    layout, staging_path: Path, release: Path, options: dict, *, num_proc: int, progress: bool
) -> list[ShardResult]:
    """Stage the text groups one by one and write each group's shards as soon as it is staged.

    With several processes, the shards of the small groups are written while the largest is still
    being read, so that reading 1M texts (one process) and writing shards (all of them) overlap.
    """
    bar = tqdm(total=0, desc="writing shards", unit=" images", disable=not progress, dynamic_ncols=True)
    texts_done = 0

    def advance(images: int, texts: int) -> None:
        nonlocal texts_done
        texts_done += texts
        bar.update(images)
        bar.set_postfix_str(f"{texts_done} texts, {texts_done / max(bar.format_dict['elapsed'], 1e-9):.0f} texts/s")

    with _ShardWriters(num_proc, advance) as writers:  # worker processes start before the store is opened
        stager = Stager(layout, staging_path, **options)
        try:
            for group in stager.groups:
                for partition, shards in stager.stage(group):
                    bar.total += stager.db.execute(
                        "SELECT count(*) FROM rows WHERE task = ? AND subset IS ? AND tier = ? AND split = ?",
                        (partition.task, partition.subset, partition.tier, partition.split),
                    ).fetchone()[0]
                    bar.refresh()
                    for shard in range(shards):
                        writers.submit((staging_path, release, partition, shard, shards))
            stager.finish()
        except BaseException:
            stager.abort()
            raise
        results = writers.results()
    bar.close()
    return sorted(results, key=lambda r: r.path)


class _ShardWriters:
    """Runs shard jobs in this process (one process) or in a pool, relaying progress to `advance`."""

    def __init__(self, num_proc: int, advance):
        self.advance = advance
        self.pending: list[AsyncResult[ShardResult]] = []
        self.done: list[ShardResult] = []
        self.pool: Pool | None = None
        self.manager: SyncManager | None = None
        if num_proc > 1:
            # fork where it is safe (Linux): workers need no `if __name__ == "__main__"` guard in user scripts.
            context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
            self.manager = context.Manager()
            self.updates = self.manager.Queue()
            self.pool = context.Pool(num_proc, initializer=_init_worker, initargs=(self.updates,))

    def __enter__(self) -> _ShardWriters:
        return self

    def submit(self, job: tuple) -> None:
        if self.pool is None:
            self.done.append(_write_shard(job, self.advance))
        else:
            self.pending.append(self.pool.apply_async(_write_shard_in_worker, (job,)))
            _drain(self.updates, self.advance, timeout=0)

    def results(self) -> list[ShardResult]:
        while self.pending and not all(p.ready() for p in self.pending):
            _drain(self.updates, self.advance, timeout=0.2)
        if self.pool is not None:
            _drain(self.updates, self.advance, timeout=0)
        return self.done + [p.get() for p in self.pending]

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            if exc[0] is None:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()
        if self.manager is not None:
            self.manager.shutdown()


def _drain(updates, advance, timeout: float) -> None:
    try:
        while True:
            advance(*updates.get(timeout=timeout))
            timeout = 0
    except queue.Empty:
        return


#: A pool worker's queue of (images, texts) progress updates to the main process, set by `_init_worker`.
_worker_updates: queue.Queue[tuple[int, int]] | None = None


def _init_worker(updates: queue.Queue[tuple[int, int]]) -> None:
    global _worker_updates
    _worker_updates = updates
    # The main process reads texts while workers write shards; it is the critical path, so it goes first.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(5)


def _write_shard_in_worker(job: tuple) -> ShardResult:
    updates = _worker_updates
    if updates is None:
        raise RuntimeError("a shard worker runs without the progress queue `_init_worker` gives it")
    return _write_shard(job, lambda images, texts: updates.put((images, texts)))


def _write_shard(job: tuple, advance) -> ShardResult:
    """Write one shard file; report progress every few images."""
    staging_path, release, partition, shard, shards = job
    staging = Staging(staging_path)
    try:
        return _write_shard_file(staging, release, partition, shard, shards, advance)
    finally:
        staging.close()


def _write_shard_file(
    staging: Staging, release: Path, partition: Partition, shard: int, shards: int, advance
) -> ShardResult:
    features = schema.FEATURES[partition.task]
    folder = release / partition.directory
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / schema.shard_name(partition.split, shard, shards)
    result = ShardResult(path.relative_to(release).as_posix(), partition)
    row_group = _rows_per_row_group(staging.average_bytes(partition, shard))
    text_column = schema.TEXT_COLUMN[partition.task]
    pending_images = pending_texts = 0
    buffered_rows = buffered_bytes = 0
    with ParquetWriter(
        path=str(path), features=features, writer_batch_size=row_group, embed_local_files=False
    ) as writer:
        originals = OriginalsWriter(release)
        records = iter_records(
            staging, partition, shard, stats=result.stats, failures=result.failures, originals=originals
        )
        for record in records:
            # The row count comes from the shard's mean row size; a run of rows far above the mean
            # (large scene images among small chips) would still make a huge row group, held in memory
            # until written, so a group is also closed once it holds ROW_GROUP_BYTES.
            buffered_rows += 1
            buffered_bytes += _payload_bytes(record)
            if buffered_rows >= row_group or buffered_bytes >= ROW_GROUP_BYTES:
                writer.write(record, writer_batch_size=1)  # writes the buffered rows as one row group
                buffered_rows = buffered_bytes = 0
            else:
                writer.write(record)
            result.images += 1
            texts = len(schema.text_records(partition.task, record[text_column], row=record["image_id"]))
            result.texts += texts
            pending_images += 1
            pending_texts += texts
            if pending_images >= _PROGRESS_EVERY:
                advance(pending_images, pending_texts)
                pending_images = pending_texts = 0
        _, result.num_bytes = writer.finalize()
    advance(pending_images + len(result.failures), pending_texts)
    return result


def _payload_bytes(record: dict) -> int:
    """The bytes a row holds in its image column (its texts are small beside it; originals are files)."""
    return len(record["image"]["bytes"])


class OriginalsWriter:
    """Stores each original GeoTIFF once under the release, whichever task, split or worker meets it first.

    Each file is written under a temporary name and renamed, so a concurrent writer of the same original
    (its captions and VQA shards, in two workers) never sees a partial file. Two different files that
    would land on the same path are refused: a path in the release means one content.
    """

    def __init__(self, release: Path) -> None:
        self.release = release

    def __call__(self, path: str, data: bytes) -> None:
        target = self.release / path
        if target.is_file():
            if target.stat().st_size != len(data) or target.read_bytes() != data:
                raise ReleaseError(
                    f"{path}: two different original GeoTIFFs have this file name in one source; "
                    "rename one in the raw release"
                )
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)


def _rows_per_row_group(average_row_bytes: float) -> int:
    return max(1, min(MAX_ROWS_PER_ROW_GROUP, int(ROW_GROUP_BYTES // max(average_row_bytes, 1))))


# ------------------------------------------------------------------------------ summaries


def _check_originals(release: Path) -> dict:
    """Files and bytes of the originals per source; refuses a folder over the Hub's entry limit."""
    sizes = original_sizes(release)
    for folder, entries in Counter(name.rsplit("/", 1)[0] for name in sizes).items():
        if entries > schema.MAX_FOLDER_ENTRIES:
            raise ReleaseError(
                f"{folder} holds {entries} originals, over the Hub's {schema.MAX_FOLDER_ENTRIES} entries per folder: "
                "this source needs bucketing (see schema.original_path)"
            )
    return originals_summary(sizes)


def _config_summaries(results: list[ShardResult], release: Path) -> dict[str, ConfigSummary]:
    """Per config and split: images, texts, files, bytes; only configs and splits that have files."""
    tiers: dict[str, set[str]] = {}
    for result in results:
        tiers.setdefault(result.partition.task, set()).add(result.partition.tier)
    summaries: dict[str, ConfigSummary] = {}
    for spec in schema.config_specs(tiers):
        splits: dict[str, SplitSummary] = {}
        for split in schema.SPLITS:
            members = [
                r
                for r in results
                if r.partition.task == spec.task and r.partition.split == split and spec.includes(r.partition.directory)
            ]
            if members:
                splits[split] = SplitSummary(
                    images=sum(r.images for r in members),
                    texts=sum(r.texts for r in members),
                    files=len(members),
                    num_bytes=sum(r.num_bytes for r in members),
                    download_bytes=sum((release / r.path).stat().st_size for r in members),
                    data_files=spec.split_glob(split),
                )
        if splits:
            summaries[spec.name] = ConfigSummary(
                task=spec.task,
                description=spec.description,
                default=spec.default,
                subset=spec.subset,
                tier=spec.tier,
                splits=splits,
            )
    return summaries


def _write_report(staging: Staging, release: Path, stats: SARStatistics, *, synthetic: bool) -> dict:
    accounts = staging.file_accounts()
    unbalanced = [a.path for a in accounts if not a.balanced()]
    if unbalanced:  # a bug, not bad input: refuse to publish a release that cannot account for its rows
        raise RuntimeError(f"rows not accounted for in {unbalanced}")
    skipped = list(staging.skipped())
    report = {
        "synthetic": synthetic,
        "texts_read": sum(a.rows for a in accounts),
        "texts_used": sum(a.used for a in accounts),
        "texts_skipped": len(skipped),
        "skip_reasons": {reason: SKIP_REASONS[reason] for reason in sorted({s["reason"] for s in skipped})},
        "warnings": staging.warnings(),
        "files": [_input_entry(a) for a in accounts],
        # per source: how many originals got each radiometry, and which rule decided (file, source_rule, pixels)
        "sar_radiometry": stats.provenance(),
        "skipped": skipped,
    }
    (release / schema.REPORT_FILE).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def _input_entry(account: FileAccount) -> dict:
    return {**asdict(account), "skipped": dict(sorted(account.skipped.items()))}


def _generator_versions() -> dict[str, str]:
    import huggingface_hub
    import pyarrow

    return {
        "sarlang1m": __version__,
        "datasets": datasets.__version__,
        "huggingface_hub": huggingface_hub.__version__,
        "pyarrow": pyarrow.__version__,
    }


# --------------------------------------------------------------------------- atomic swap


def _swap_into_place(release: Path, out: Path) -> None:
    """Rename the finished release onto `out`; an old release is moved aside first, then deleted."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    release.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _remove_stale_builds(out: Path) -> None:
    """Delete work folders of earlier builds of `out` that were killed (their process is gone)."""
    for stale in out.parent.glob(f".{out.name}.building-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
