"""Writing one Parquet shard of a partition: its records, in row groups sized for the Dataset Viewer.

A shard job names everything it needs (store, release folder, partition, shard number), so it runs
the same in the main process or in a pool worker, and a worker opens its own read-only `Staging`.
Row groups hold at most one viewer page of rows and at most `ROW_GROUP_BYTES` of images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import schema
from ..compat import parquet_writer
from .original_files import OriginalsWriter
from .records import SARStatistics, iter_records
from .staging import Partition, Staging

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


#: Called with (images, texts) done since the last call, to move a progress bar.
Advance = Callable[[int, int], None]


def write_shard(job: tuple, advance: Advance) -> ShardResult:
    """Write one shard file; report progress every few images."""
    staging_path, release, partition, shard, shards = job
    staging = Staging(staging_path)
    try:
        return _write_shard_file(staging, release, partition, shard, shards, advance)
    finally:
        staging.close()


def _write_shard_file(
    staging: Staging, release: Path, partition: Partition, shard: int, shards: int, advance: Advance
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
    with parquet_writer(
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
            texts = schema.text_count(partition.task, record[text_column], row=record["image_id"])
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


def _rows_per_row_group(average_row_bytes: float) -> int:
    return max(1, min(MAX_ROWS_PER_ROW_GROUP, int(ROW_GROUP_BYTES // max(average_row_bytes, 1))))
