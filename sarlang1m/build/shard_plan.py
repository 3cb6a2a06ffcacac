"""Cutting each partition of a staged group into shards of about equal bytes, none empty.

Shard numbers are decided in the store, before any shard is written, so shard names (`-00003-of-00008`)
are known up front and each shard can be written by any worker independently.

With a shard multiple N (nodes x workers), every partition with at least N rows gets a multiple of N
shards. A partition with fewer rows cannot (no shard is ever empty): it gets one shard per row, and
`shard_multiple_report` names it, with the configs whose file count it leaves short of a multiple.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable

from ..messages import option_hint
from ..summary import ConfigSummary
from .store import BATCH, GROUP, GroupKey, Partition


def plan_shards(db: sqlite3.Connection, key: GroupKey, max_shard_bytes: int, shard_multiple: int = 1) -> None:
    """Cut each partition of a group into shards of about equal bytes, images in id order, none empty.

    With `shard_multiple` N, a partition gets a multiple of N shards (when it has at least N images), so
    that every config, a union of partitions, can be split evenly among N = nodes x workers.
    """
    tiers = db.execute(
        f"SELECT tier, sum(bytes), count(*) FROM rows WHERE {GROUP} GROUP BY tier ORDER BY tier", key
    ).fetchall()
    for tier, total, images in tiers:
        where, args = f"{GROUP} AND tier = ?", (*key, tier)
        target = shard_count(total, images, max_shard_bytes, shard_multiple)
        before, previous, assigned = 0, -1, []
        rows = db.cursor().execute(f"SELECT rowid, bytes FROM rows WHERE {where} ORDER BY image_id", args)
        for index, (rowid, size) in enumerate(rows):
            by_bytes = min(target - 1, before * target // max(total, 1))
            # No shard left empty: never skip a shard, and keep one image for each shard still to come.
            shard = min(max(by_bytes, previous, target - (images - index)), previous + 1)
            assigned.append((shard, target, rowid))
            before, previous = before + size, shard
            if len(assigned) >= BATCH:
                db.executemany("UPDATE rows SET shard = ?, shards = ? WHERE rowid = ?", assigned)
                assigned = []
        db.executemany("UPDATE rows SET shard = ?, shards = ? WHERE rowid = ?", assigned)


def shard_count(total_bytes: int, rows: int, max_shard_bytes: int, multiple: int = 1) -> int:
    """Shards of a partition: enough for `max_shard_bytes`, rounded up to a multiple of `multiple`, at most
    one per row; with fewer rows than the rounded count, the largest multiple that leaves none empty (so
    shards may exceed `max_shard_bytes`), and one per row when even one multiple has too few rows."""
    by_bytes = max(1, math.ceil(total_bytes / max_shard_bytes))
    rounded = math.ceil(by_bytes / multiple) * multiple
    if rounded <= rows:
        return rounded
    return rows // multiple * multiple or rows


def shard_multiple_report(
    partitions: Iterable[tuple[Partition, int, int]], configs: dict[str, ConfigSummary], multiple: int
) -> tuple[dict, list[str]]:
    """Where a shard multiple could not be met: the report's entry and the warnings to print.

    `partitions` gives each partition's (partition, rows, shards). Empty when every count is a multiple.
    """
    short = {f"{p.directory}/{p.split}": rows for p, rows, shards in sorted(partitions, key=str) if shards % multiple}
    uneven = {
        f"{name}/{split}": info.files
        for name, config in configs.items()
        for split, info in config.splits.items()
        if info.files % multiple
    }
    if not short:  # every partition's count is a multiple, so every config's (a sum of them) is too
        return {}, []
    option = option_hint("shard_multiple", str(multiple))
    entry = {"multiple": multiple, "partitions_with_fewer_rows": short, "configs_not_a_multiple": uneven}
    partitions_text = ", ".join(f"{path} ({rows} rows)" for path, rows in short.items())
    configs_text = ", ".join(f"{name} ({files} files)" for name, files in uneven.items())
    warnings = [
        f"{option}: {len(short)} partition(s) have fewer rows than {multiple}, so one shard per row (no shard is "
        f"left empty): {partitions_text}",
        f"{option}: config splits whose file count is not a multiple of {multiple} (split_dataset_by_node then "
        f"has every node read all their files and keep 1 row in {multiple}): {configs_text}",
    ]
    return entry, warnings
