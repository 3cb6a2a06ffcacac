"""Reading a staged raw release: every text read, labelled, de-duplicated and matched to its image files.

The staging store is an SQLite file beside the build (written by `stager`, laid out in `store`): it
keeps the build's memory flat whatever the size of the release, gives a deterministic order, and lets
worker processes read their share of images without pickling anything. `Staging` is how the release
writer, the shard workers and the `datasets` builder read it; the store also remembers every row that
is skipped, with its reason, for the build report.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import schema
from ..raw.layout import RawLayout
from .report import FileAccount
from .stager import Stager, TextGroup, mark_unreadable, text_groups, text_id
from .store import GroupKey, ImageRow, Partition, group_condition

__all__ = [
    "GroupKey",
    "ImageRow",
    "Partition",
    "Stager",
    "Staging",
    "TextGroup",
    "group_condition",
    "mark_unreadable",
    "text_groups",
    "text_id",
]


class Staging:
    """The staged raw release (an SQLite file). Create with `Staging.build`, reopen with `Staging(path)`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)

    # ------------------------------------------------------------------------------ building

    @classmethod
    def build(cls, layout: RawLayout, path: str | Path, **options: Any) -> Staging:
        """Stage every group of `layout` into a new store at `path` (`options`: those of `Stager`)."""
        stager = Stager(layout, path, **options)
        for group in stager.groups:
            stager.stage(group)
        stager.finish()
        return cls(path)

    # ------------------------------------------------------------------------------ reading

    def partitions(self) -> list[tuple[Partition, int]]:
        """Every (partition, split) with rows, and its number of shards, in a fixed order."""
        query = "SELECT DISTINCT task, subset, tier, split, shards FROM rows ORDER BY task, subset, tier, split"
        return [(Partition(t, s, tier, sp), n) for t, s, tier, sp, n in self.db.execute(query)]

    def image_rows(self, partition: Partition, shard: int | None = None) -> Iterator[ImageRow]:
        query = (
            "SELECT image_id, image_path, image_kind, sar_path, bytes, texts FROM rows "
            "WHERE task = ? AND subset IS ? AND tier = ? AND split = ?"
        )
        args: tuple = (partition.task, partition.subset, partition.tier, partition.split)
        if shard is not None:
            query, args = query + " AND shard = ?", (*args, shard)
        for row in self.db.execute(query + " ORDER BY image_id", args):
            yield ImageRow(*row)

    def average_bytes(self, partition: Partition, shard: int) -> float:
        """Mean bytes (8-bit image + GeoTIFF) of the images of one shard."""
        query = "SELECT avg(bytes) FROM rows WHERE task = ? AND subset IS ? AND tier = ? AND split = ? AND shard = ?"
        args = (partition.task, partition.subset, partition.tier, partition.split, shard)
        return self.db.execute(query, args).fetchone()[0] or 0.0

    def texts(self, partition: Partition, image: str) -> dict[str, list]:
        """The texts of one image in one partition, in input order, column-wise as the release stores them
        (ids local to the image: `schema.text_id` composes the global one back)."""
        query = (
            "SELECT id, question, text, application, subtype, bbox, style FROM texts "
            f"WHERE {group_condition(partition.task, partition.subset, partition.split)} AND image_id = ? "
            "AND skip IS NULL ORDER BY seq"
        )
        rows = self.db.execute(query, (image,)).fetchall()
        ids = [schema.local_text_id(image, r[0]) for r in rows]
        if partition.task == "captions":
            return {"id": ids, "text": [r[2] for r in rows], "style": [r[6] for r in rows]}
        return {
            "id": ids,
            "question": [r[1] for r in rows],
            "answer": [r[2] for r in rows],
            "application": [r[3] for r in rows],
            "subtype": [r[4] for r in rows],
            "bbox": [json.loads(r[5]) if r[5] else None for r in rows],
        }

    def file_accounts(self) -> list[FileAccount]:
        """Rows read, used and skipped (by reason) per input file."""
        accounts = {}
        for idx, path, fmt, task, split, subset, style, sha, size, twins in self.db.execute(
            "SELECT * FROM files ORDER BY idx"
        ):
            accounts[idx] = FileAccount(
                path, fmt, task, split, subset, style, sha, size, twins_not_read=json.loads(twins)
            )
        for idx, skip, count in self.db.execute("SELECT file_idx, skip, count(*) FROM texts GROUP BY file_idx, skip"):
            account = accounts[idx]
            account.rows += count
            if skip is None:
                account.used += count
            else:
                account.skipped[skip] = account.skipped.get(skip, 0) + count
        for idx, reason, count in self.db.execute(
            "SELECT file_idx, reason, count(*) FROM problems GROUP BY file_idx, reason"
        ):
            accounts[idx].rows += count
            accounts[idx].skipped[reason] = accounts[idx].skipped.get(reason, 0) + count
        return list(accounts.values())

    def skipped(self) -> Iterator[dict]:
        """Every skipped row with its file, place, reason and detail."""
        query = """
            SELECT f.path, p.row, p.turn, p.reason, p.detail, NULL FROM problems p JOIN files f ON f.idx = p.file_idx
            UNION ALL
            SELECT f.path, t.row, t.turn, t.skip, t.skip_detail, t.id FROM texts t JOIN files f ON f.idx = t.file_idx
            WHERE t.skip IS NOT NULL
            ORDER BY 1, 2, 3"""
        for path, row, turn, reason, detail, text in self.db.execute(query):
            yield {"file": path, "row": row, "turn": turn, "reason": reason, "detail": detail, "id": text}

    def warnings(self) -> list[str]:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'warnings'").fetchone()
        return json.loads(row[0]) if row else []

    def images_used(self) -> int:
        """Distinct images with a text in the release: an image with captions and questions counts once."""
        return self.db.execute("SELECT count(DISTINCT image_id) FROM texts WHERE skip IS NULL").fetchone()[0]

    def refused(self) -> list[dict[str, str]]:
        """Input entries that were never read, and why (`raw.layout.RawLayout.refused`)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'refused'").fetchone()
        return [{"entry": entry, "reason": reason} for entry, reason in json.loads(row[0])] if row else []

    def counts(self) -> dict[str, int]:
        """Images found on disk, per kind."""
        return dict(self.db.execute("SELECT kind, count(*) FROM images GROUP BY kind ORDER BY kind"))

    def close(self) -> None:
        self.db.close()
