"""Writing the staging store: every text read, labelled and de-duplicated, one text group at a time.

Grouping 1.1M texts by image needs either all of them in memory or an external store; an SQLite file
beside the build keeps the build's memory flat whatever the size of the release, and remembers every
row that is skipped, with its reason, for the build report. `Stager` commits each group completely
(texts, duplicates, images via `matching`, shards via `shard_plan`) before reading the next, so shard
writers can start on it while the larger groups are still read.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from .. import schema
from ..raw import RawText, RowProblem, caption_style, classify_question, parse_bbox, read_text_stream
from ..raw.files import describe_ref, open_ref, sha256_of
from ..raw.layout import RawLayout, TextFile
from ..sources import image_id
from .matching import resolve_images
from .shard_plan import plan_shards
from .store import BATCH, SCHEMA, GroupKey, Partition, group_condition


def text_id(task: str, subset: str | None, split: str, image: str, question: str | None, text: str) -> str:
    """A stable global id (`schema.text_id`): the image id and a hash of the text, so it survives re-ordering
    and format changes. Rows store the part after the image id (`Staging.texts`); staging keeps the global
    id, which the build report names and duplicates are found by."""
    digest = hashlib.blake2b(
        "\x1f".join((task, subset or "", split, image, question or "", text)).encode("utf-8"), digest_size=5
    ).hexdigest()
    return schema.text_id(image, f"{'q' if task == 'vqa' else 'c'}{digest}")


@dataclass(frozen=True)
class TextGroup:
    """The text files of one (task, subset, split): the unit that is staged, de-duplicated and planned at once."""

    task: str
    subset: str | None
    split: str
    files: tuple[TextFile, ...]

    @property
    def bytes(self) -> int:
        return sum(f.file.size for f in self.files)


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
        self.db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;" + SCHEMA)
        _stage_images(self.db, layout)
        self.refused = layout.refused()
        self.db.execute("INSERT INTO meta VALUES ('refused', ?)", (json.dumps(self.refused),))
        self.db.commit()
        self.bar = tqdm(desc="reading texts", unit=" texts", disable=not progress, dynamic_ncols=True)

    def stage(self, group: TextGroup) -> list[tuple[Partition, int]]:
        """Read, label, de-duplicate, match and plan one group; commit it; return its partitions and shards."""
        for text_file in group.files:
            _stage_file(self.db, self._files, text_file, self.bar)
            self._files += 1
        key: GroupKey = (group.task, group.subset, group.split)
        _index_group(self.db, key, self._groups_staged)
        self._groups_staged += 1
        _mark_duplicates(self.db, key)
        resolve_images(self.db, key, self.allow_missing, self.unknown)
        plan_shards(self.db, key, self.max_shard_bytes, self.shard_multiple)
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
        if self.refused:
            warnings.append(
                f"{len(self.refused)} input(s) not read (links, unsafe or repeated archive members), listed "
                f"with their reasons in the build report's inputs_refused: {[entry for entry, _ in self.refused[:3]]}"
            )
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


def _stage_file(db: sqlite3.Connection, idx: int, text_file: TextFile, bar: tqdm) -> None:
    file, spec = text_file.file, text_file.spec
    db.execute(
        "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            idx,
            file.path,
            text_file.format,
            spec.task,
            spec.split,
            spec.subset,
            spec.style,
            sha256_of(file),
            file.size,
            json.dumps([twin.path for twin in text_file.twins]),
        ),
    )
    texts, problems = [], []
    for result in read_text_stream(open_ref(file.ref), describe_ref(file.ref), spec.task):
        if isinstance(result, RowProblem):
            problems.append((idx, result.row, result.turn, result.reason, result.detail))
            continue
        texts.append(_text_row(idx, text_file, result))
        if len(texts) >= BATCH:
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
        labels: tuple = ("image_description", None, None, style)
    else:
        application, subtype = classify_question(raw.question or "", raw.text)
        bbox = parse_bbox(raw.question or "")
        labels = (application, subtype, json.dumps(bbox) if bbox else None, None)
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
        "application, subtype, bbox, style) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


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
    for kind, file in layout.image_files():
        rows.append((image_id(file.name), kind, file.name, file.path, file.ref, file.size))
        if len(rows) >= BATCH:
            db.executemany("INSERT INTO images VALUES (?, ?, ?, ?, ?, ?)", rows)
            rows = []
    db.executemany("INSERT INTO images VALUES (?, ?, ?, ?, ?, ?)", rows)
