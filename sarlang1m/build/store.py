"""The staging store's layout: its SQLite tables, and the keys its rows are written and read by.

The store is written by `stager` (one text group at a time) and read by `staging.Staging` (in the main
process and in every shard worker). Both sides take the table definitions, `Partition`, `ImageRow` and
the SQL that selects one text group from here, so a reader and the writer cannot disagree on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import schema

SCHEMA = """
CREATE TABLE files(idx INTEGER PRIMARY KEY, path TEXT, format TEXT, task TEXT, split TEXT, subset TEXT,
                   style TEXT, sha256 TEXT, bytes INTEGER, twins TEXT);
CREATE TABLE texts(seq INTEGER PRIMARY KEY, id TEXT, file_idx INTEGER, row INTEGER, turn INTEGER,
                   task TEXT, subset TEXT, split TEXT, image_id TEXT, image_name TEXT,
                   question TEXT, text TEXT, application TEXT, subtype TEXT, bbox TEXT,
                   style TEXT, skip TEXT, skip_detail TEXT);
CREATE TABLE problems(file_idx INTEGER, row INTEGER, turn INTEGER, reason TEXT, detail TEXT);
CREATE TABLE images(image_id TEXT, kind TEXT, name TEXT, path TEXT, ref TEXT, bytes INTEGER);
CREATE TABLE rows(task TEXT, subset TEXT, tier TEXT, split TEXT, image_id TEXT, image_path TEXT,
                  image_kind TEXT, sar_path TEXT, bytes INTEGER, texts INTEGER, shard INTEGER, shards INTEGER);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE INDEX images_by_id ON images(image_id, kind, name);
CREATE INDEX rows_by_shard ON rows(task, subset, tier, split, shard, image_id);
"""
#: Rows inserted or updated per `executemany`.
BATCH = 20_000


@dataclass(frozen=True)
class Partition:
    """The smallest unit a config needs, and one split of it."""

    task: str
    subset: str | None
    tier: str
    split: str

    @property
    def directory(self) -> str:
        return schema.partition_dir(self.task, self.tier, self.subset)


@dataclass(frozen=True)
class ImageRow:
    """An image to write, with the files it comes from (`image_kind`: preprocessed, sardet or generated).

    `image_path` and `sar_path` are refs (`raw.files.read_ref` reads them in any process).
    """

    image_id: str
    image_path: str
    image_kind: str
    sar_path: str | None
    bytes: int
    texts: int


def group_condition(task: str, subset: str | None, split: str, table: str = "") -> str:
    """SQL selecting one (task, subset, split), with literal values so that its partial indexes are used.

    Every query on one group of `texts` goes through this: with bound parameters SQLite cannot pick a partial
    index and scans the whole table (70 ms per query at 1.1M texts).
    """
    if task not in schema.TASKS or split not in schema.SPLITS or subset not in (None, *schema.SUBSETS):
        raise ValueError(f"not a text group: {(task, subset, split)}")
    p = f"{table}." if table else ""
    return (
        f"{p}task = '{task}' AND {p}subset {'IS NULL' if subset is None else f'= {subset!r}'} AND {p}split = '{split}'"
    )


GROUP = "task = ? AND subset IS ? AND split = ?"
#: One group of texts, as `group_condition` and `GROUP` take it: (task, subset, split).
GroupKey = tuple[str, str | None, str]
