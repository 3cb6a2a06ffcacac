"""Stage a raw release: every text read, labelled, de-duplicated and matched to its image files.

Grouping 1.1M texts by image needs either all of them in memory or an external store. An SQLite file
beside the build keeps the build's memory flat whatever the size of the release, gives a
deterministic order, and lets worker processes read their share of images without pickling anything.
The store also remembers every row that is skipped, with its reason, for the build report.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .. import schema
from ..publish.manifest import sha256_file
from ..raw import RawText, RowProblem, answer_type, caption_style, classify_question, parse_bbox, read_text_file
from ..raw.layout import RawLayout, TextFile
from ..sources import identify, image_id
from .report import FileAccount, MissingImagesError

_SCHEMA = """
CREATE TABLE files(idx INTEGER PRIMARY KEY, path TEXT, format TEXT, task TEXT, split TEXT, subset TEXT,
                   style TEXT, sha256 TEXT, bytes INTEGER, twins TEXT);
CREATE TABLE texts(seq INTEGER PRIMARY KEY, id TEXT, file_idx INTEGER, row INTEGER, turn INTEGER,
                   task TEXT, subset TEXT, split TEXT, image_id TEXT, image_name TEXT,
                   question TEXT, text TEXT, application TEXT, subtype TEXT, answer_type TEXT, bbox TEXT,
                   style TEXT, skip TEXT, skip_detail TEXT);
CREATE TABLE problems(file_idx INTEGER, row INTEGER, turn INTEGER, reason TEXT, detail TEXT);
CREATE TABLE images(image_id TEXT, kind TEXT, name TEXT, path TEXT, bytes INTEGER);
CREATE TABLE rows(task TEXT, subset TEXT, tier TEXT, split TEXT, image_id TEXT, image_path TEXT,
                  image_kind TEXT, sar_path TEXT, bytes INTEGER, texts INTEGER, shard INTEGER, shards INTEGER);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE INDEX images_by_id ON images(image_id, kind, name);
CREATE INDEX rows_by_shard ON rows(task, subset, tier, split, shard, image_id);
"""
_BATCH = 20_000


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
    """An image to write, with the files it comes from (`image_kind`: preprocessed, sardet or generated)."""

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


def text_id(task: str, subset: str | None, split: str, image: str, question: str | None, text: str) -> str:
    """A stable global id (`schema.text_id`): the image id and a hash of the text, so it survives re-ordering
    and format changes. Rows store the part after the image id (`Staging.texts`); staging keeps the global
    id, which the build report names and duplicates are found by."""
    digest = hashlib.blake2b(
        "\x1f".join((task, subset or "", split, image, question or "", text)).encode("utf-8"), digest_size=5
    ).hexdigest()
    return schema.text_id(image, f"{'q' if task == 'vqa' else 'c'}{digest}")


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
            "SELECT id, question, text, application, subtype, answer_type, bbox, style FROM texts "
            f"WHERE {group_condition(partition.task, partition.subset, partition.split)} AND image_id = ? "
            "AND skip IS NULL ORDER BY seq"
        )
        rows = self.db.execute(query, (image,)).fetchall()
        ids = [schema.local_text_id(image, r[0]) for r in rows]
        if partition.task == "captions":
            return {"id": ids, "text": [r[2] for r in rows], "style": [r[7] for r in rows]}
        return {
            "id": ids,
            "question": [r[1] for r in rows],
            "answer": [r[2] for r in rows],
            "application": [r[3] for r in rows],
            "subtype": [r[4] for r in rows],
            "answer_type": [r[5] for r in rows],
            "bbox": [json.loads(r[6]) if r[6] else None for r in rows],
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

    def counts(self) -> dict[str, int]:
        """Images found on disk, per kind."""
        return dict(self.db.execute("SELECT kind, count(*) FROM images GROUP BY kind ORDER BY kind"))

    def close(self) -> None:
        self.db.close()


@dataclass(frozen=True)
class TextGroup:
    """The text files of one (task, subset, split): the unit that is staged, de-duplicated and planned at once."""

    task: str
    subset: str | None
    split: str
    files: tuple[TextFile, ...]

    @property
    def bytes(self) -> int:
        return sum(f.path.stat().st_size for f in self.files)


def text_groups(layout: RawLayout) -> list[TextGroup]:
    """Groups of text files, smallest first (so that their shards can be written while larger ones are read)."""
    groups: dict[tuple, list[TextFile]] = {}
    for text_file in layout.text_files:
        spec = text_file.spec
        groups.setdefault((spec.task, spec.subset or "", spec.split), []).append(text_file)
    made = [TextGroup(task, subset or None, split, tuple(files)) for (task, subset, split), files in groups.items()]
    return sorted(made, key=lambda g: (g.bytes, g.task, g.subset or "", g.split))


class Stager:
    """Writes the store one `TextGroup` at a time.

    Each `stage` commits a group completely (texts, duplicates, images, shard plan), so that shards of
    that group can be written by other processes while the next group is read: the store is in WAL mode,
    where readers see committed groups and never block the writer. `Staging.build` stages every group.
    """

    def __init__(
        self,
        layout: RawLayout,
        path: str | Path,
        *,
        allow_missing: bool = False,
        max_shard_bytes: int = 500 * 2**20,
        shard_multiple: int = 1,
        progress: bool = True,
    ):
        if shard_multiple < 1:
            raise ValueError(f"shard_multiple must be at least 1, got {shard_multiple}")
        self.layout, self.path = layout, Path(path)
        self.allow_missing, self.max_shard_bytes, self.shard_multiple = allow_missing, max_shard_bytes, shard_multiple
        self.groups = text_groups(layout)
        self.unknown: set[str] = set()  # normally empty: names that match no source pattern
        self._files = 0
        self._groups_staged = 0
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;" + _SCHEMA)
        _stage_images(self.db, layout)
        self.db.commit()
        self.bar = tqdm(desc="reading texts", unit=" texts", disable=not progress, dynamic_ncols=True)

    def stage(self, group: TextGroup) -> list[tuple[Partition, int]]:
        """Read, label, de-duplicate, match and plan one group; commit it; return its partitions and shards."""
        for text_file in group.files:
            _stage_file(self.db, self._files, text_file, self.layout.root, self.bar)
            self._files += 1
        key: GroupKey = (group.task, group.subset, group.split)
        _index_group(self.db, key, self._groups_staged)
        self._groups_staged += 1
        _mark_duplicates(self.db, key)
        _resolve_images(self.db, key, self.allow_missing, self.unknown)
        _plan_shards(self.db, key, self.max_shard_bytes, self.shard_multiple)
        self.db.commit()
        query = "SELECT DISTINCT tier, shards FROM rows WHERE task = ? AND subset IS ? AND split = ? ORDER BY tier"
        return [(Partition(group.task, group.subset, tier, group.split), n) for tier, n in self.db.execute(query, key)]

    def finish(self) -> None:
        """Warnings that need every group, then close the store."""
        self.bar.close()
        leaks = self.db.execute(
            "SELECT task, count(*), min(image_id) FROM (SELECT task, image_id FROM rows GROUP BY task, image_id "
            "HAVING count(DISTINCT split) > 1) GROUP BY task"
        ).fetchall()
        warnings = [f"{n} {task} image(s) appear in both train and test (e.g. {example})" for task, n, example in leaks]
        if self.unknown:
            names = sorted(self.unknown)
            warnings.append(f"{len(names)} image name(s) match no source pattern (source 'unknown'): {names[:5]}")
        self.db.execute("INSERT INTO meta VALUES ('warnings', ?)", (json.dumps(warnings),))
        self.db.commit()
        self.db.close()

    def abort(self) -> None:
        self.bar.close()
        self.db.close()


def mark_unreadable(path: Path, failures: Iterable[tuple[Partition, str, str]]) -> None:
    """Skip the texts of images that turned out unreadable while writing (with --allow-missing)."""
    with closing(sqlite3.connect(path)) as db:
        for partition, image, detail in failures:
            db.execute(
                "UPDATE texts SET skip = 'unreadable_image', skip_detail = ? "
                f"WHERE {group_condition(partition.task, partition.subset, partition.split)} "
                "AND image_id = ? AND skip IS NULL",
                (detail, image),
            )
        db.commit()


# ---------------------------------------------------------------------------------- staging steps


def _stage_file(db: sqlite3.Connection, idx: int, text_file: TextFile, root: Path, bar: tqdm) -> None:
    db.execute(
        "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            idx,
            _relative(text_file.path, root),
            text_file.format,
            text_file.spec.task,
            text_file.spec.split,
            text_file.spec.subset,
            text_file.spec.style,
            sha256_file(text_file.path),
            text_file.path.stat().st_size,
            json.dumps([_relative(p, root) for p in text_file.twins]),
        ),
    )
    texts, problems = [], []
    for result in read_text_file(text_file.path, text_file.spec.task):
        if isinstance(result, RowProblem):
            problems.append((idx, result.row, result.turn, result.reason, result.detail))
            continue
        texts.append(_text_row(idx, text_file, result))
        if len(texts) >= _BATCH:
            _insert_texts(db, texts)
            bar.update(len(texts))
            texts = []
    _insert_texts(db, texts)
    bar.update(len(texts))
    db.executemany("INSERT INTO problems VALUES (?, ?, ?, ?, ?)", problems)


def _text_row(idx: int, text_file: TextFile, raw: RawText) -> tuple:
    spec = text_file.spec
    image = image_id(raw.image_ref)
    name = raw.image_ref.replace("\\", "/").rsplit("/", 1)[-1]
    if spec.task == "captions":
        style = spec.style or raw.style or caption_style(raw.text)
        labels: tuple = ("image_description", None, None, None, style)
    else:
        application, subtype = classify_question(raw.question or "", raw.text)
        bbox = parse_bbox(raw.question or "")
        kind = answer_type(raw.text, application, subtype)
        labels = (application, subtype, kind, json.dumps(bbox) if bbox else None, None)
    key = text_id(spec.task, spec.subset, spec.split, image, raw.question, raw.text)
    return (
        key,
        idx,
        raw.row,
        raw.turn,
        spec.task,
        spec.subset,
        spec.split,
        image,
        name,
        raw.question,
        raw.text,
        *labels,
    )


def _insert_texts(db: sqlite3.Connection, rows: list[tuple]) -> None:
    db.executemany(
        "INSERT INTO texts(id, file_idx, row, turn, task, subset, split, image_id, image_name, question, text, "
        "application, subtype, answer_type, bbox, style) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


_GROUP = "task = ? AND subset IS ? AND split = ?"
#: One group of texts, as `group_condition` and `_GROUP` take it: (task, subset, split).
GroupKey = tuple[str, str | None, str]


def _index_group(db: sqlite3.Connection, key: GroupKey, number: int) -> None:
    """Partial indexes over one group's texts, built in one sorted pass after its rows are inserted.

    Indexes over the whole table would be updated row by row while the next (large) group is inserted,
    which doubles the cost of staging it.
    """
    condition = group_condition(*key)
    db.execute(f"CREATE INDEX texts_by_id_{number} ON texts(id, seq) WHERE {condition}")
    db.execute(f"CREATE INDEX texts_by_image_{number} ON texts(image_id, seq) WHERE {condition}")


def _mark_duplicates(db: sqlite3.Connection, key: GroupKey) -> None:
    """The second and later copies of a text (same task, subset, split, image, question, answer) are skipped."""
    group, first = group_condition(*key), group_condition(*key, table="first")
    db.execute(
        f"UPDATE texts SET skip = 'duplicate' WHERE {group} "
        f"AND seq > (SELECT min(seq) FROM texts first WHERE first.id = texts.id AND {first})"
    )
    db.execute(
        f"""UPDATE texts SET skip_detail = (
               SELECT 'same as ' || f.path || ' row ' || first.row || ' turn ' || first.turn
               FROM texts first JOIN files f ON f.idx = first.file_idx
               WHERE first.id = texts.id AND {first} ORDER BY first.seq LIMIT 1)
           WHERE {group} AND skip = 'duplicate'"""
    )


def _stage_images(db: sqlite3.Connection, layout: RawLayout) -> None:
    rows = []
    for kind, path in layout.image_files():
        rows.append((image_id(path.name), kind, path.name, str(path), path.stat().st_size))
        if len(rows) >= _BATCH:
            db.executemany("INSERT INTO images VALUES (?, ?, ?, ?, ?)", rows)
            rows = []
    db.executemany("INSERT INTO images VALUES (?, ?, ?, ?, ?)", rows)


def _resolve_images(db: sqlite3.Connection, key: GroupKey, allow_missing: bool, unknown: set[str]) -> None:
    """Match each image of a group to its 8-bit image and original GeoTIFF (streamed: flat memory)."""
    missing: list[tuple[str, str]] = []
    missing_ids: list[tuple[str]] = []
    missing_images = missing_texts = 0
    rows: list[tuple] = []
    groups = db.cursor().execute(
        "SELECT task, subset, split, image_id, min(image_name), count(*) FROM texts "
        f"WHERE {group_condition(*key)} AND skip IS NULL GROUP BY image_id ORDER BY image_id"
    )
    for task, subset, split, image, name, count in groups:
        candidates = db.execute(
            "SELECT kind, name, path, bytes FROM images WHERE image_id = ? ORDER BY kind, path", (image,)
        ).fetchall()
        picked = _pick_image(image, name, candidates)
        if picked is None:
            missing_images += 1
            missing_texts += count
            if len(missing) < 20:
                missing.append((name, f"referenced by {count} {task} text(s) of {subset or task} {split}"))
            if allow_missing:
                missing_ids.append((image,))
            continue
        (kind, path, size), sar = picked
        info = identify(image)
        if info.source == "unknown":
            unknown.add(image)
        sar_path, sar_size = sar or (None, 0)
        rows.append((task, subset, info.tier, split, image, path, kind, sar_path, size + sar_size, count))
        if len(rows) >= _BATCH:
            db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)", rows)
            rows = []
    db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)", rows)
    if missing_images:
        if not allow_missing:
            raise MissingImagesError("missing", missing, missing_images, missing_texts)
        db.executemany(
            "UPDATE texts SET skip = 'missing_image', skip_detail = 'no file for ' || image_name "
            f"WHERE {group_condition(*key)} AND image_id = ? AND skip IS NULL",
            missing_ids,
        )


def _pick_image(image: str, name: str, candidates: list[tuple]) -> tuple[tuple, tuple | None] | None:
    """((kind, path, bytes) of the 8-bit image, (path, bytes) of the GeoTIFF or None), or None if missing.

    SARDet-100K files are taken from the SARDet root first, then from SARimages/; among several files
    with the same stem, the one whose name matches the text's reference wins. A source image with only
    its GeoTIFF gets an 8-bit image generated by the build (kind `generated`).
    """
    by_kind: dict[str, list[tuple]] = {}
    for kind, file_name, path, size in candidates:
        by_kind.setdefault(kind, []).append((file_name, path, size))
    original = by_kind.get("original", [])
    sar = (original[0][1], original[0][2]) if original else None
    order = ("sardet", "preprocessed") if identify(image).source == "sardet_100k" else ("preprocessed", "sardet")
    for kind in order:
        files = [f for f in by_kind.get(kind, []) if not f[0].lower().endswith((".tif", ".tiff"))]
        if files:
            exact = [f for f in files if f[0] == name]
            file_name, path, size = (exact or files)[0]
            return (kind, path, size), sar
    if sar:
        return ("generated", sar[0], 0), sar  # its size is counted once, as the GeoTIFF's
    return None


def _plan_shards(db: sqlite3.Connection, key: GroupKey, max_shard_bytes: int, shard_multiple: int = 1) -> None:
    """Cut each partition of a group into shards of about equal bytes, images in id order, none empty.

    With `shard_multiple` N, a partition gets a multiple of N shards (when it has at least N images), so
    that every config, a union of partitions, can be split evenly among N = nodes x workers.
    """
    tiers = db.execute(
        f"SELECT tier, sum(bytes), count(*) FROM rows WHERE {_GROUP} GROUP BY tier ORDER BY tier", key
    ).fetchall()
    for tier, total, images in tiers:
        where, args = f"{_GROUP} AND tier = ?", (*key, tier)
        target = min(images, math.ceil(max(1, math.ceil(total / max_shard_bytes)) / shard_multiple) * shard_multiple)
        before, previous, assigned = 0, -1, []
        rows = db.cursor().execute(f"SELECT rowid, bytes FROM rows WHERE {where} ORDER BY image_id", args)
        for index, (rowid, size) in enumerate(rows):
            by_bytes = min(target - 1, before * target // max(total, 1))
            # No shard left empty: never skip a shard, and keep one image for each shard still to come.
            shard = min(max(by_bytes, previous, target - (images - index)), previous + 1)
            assigned.append((shard, target, rowid))
            before, previous = before + size, shard
            if len(assigned) >= _BATCH:
                db.executemany("UPDATE rows SET shard = ?, shards = ? WHERE rowid = ?", assigned)
                assigned = []
        db.executemany("UPDATE rows SET shard = ?, shards = ? WHERE rowid = ?", assigned)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
