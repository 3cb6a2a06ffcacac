"""Cutting each partition of a staged group into shards of about equal bytes, none empty.

Shard numbers are decided in the store, before any shard is written, so shard names (`-00003-of-00008`)
are known up front and each shard can be written by any worker independently.
"""

from __future__ import annotations

import math
import sqlite3

from .store import BATCH, GROUP, GroupKey


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
        target = min(images, math.ceil(max(1, math.ceil(total / max_shard_bytes)) / shard_multiple) * shard_multiple)
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
