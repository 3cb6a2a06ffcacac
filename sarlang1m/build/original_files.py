"""The originals of a release: each GeoTIFF stored once beside the Parquet, and checked against the Hub's limits.

Originals are plain files under `originals/`, named by `schema.original_path`: the shards only name
them. The same original is met by the captions and the VQA shards of its image, possibly in two
workers at once, so writing one must be idempotent and atomic.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .. import schema
from ..atomic import atomic_path
from ..errors import ReleaseError
from ..publish.manifest import original_sizes, originals_summary


class OriginalsWriter:
    """Stores each original GeoTIFF once under the release, whichever task, split or worker meets it first.

    Each file is written under a temporary name and renamed, so a concurrent writer of the same original
    (its captions and VQA shards, in two workers) never sees a partial file. Two different files that
    would land on the same path are refused: a path in the release means one content.
    """

    def __init__(self, release: Path) -> None:
        self.release = release

    def stored(self, path: str) -> bytes | None:
        """The original already stored at `path`, if any: its image's other task reads it here rather than
        from the inputs again (a member inflated twice, or fetched twice from the Hub)."""
        target = self.release / path
        return target.read_bytes() if target.is_file() else None

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
        with atomic_path(target) as partial:
            partial.write_bytes(data)


def check_originals(release: Path) -> dict:
    """Files and bytes of the originals per source; refuses a folder over the Hub's entry limit."""
    sizes = original_sizes(release)
    for folder, entries in Counter(name.rsplit("/", 1)[0] for name in sizes).items():
        if entries >= schema.MAX_FOLDER_ENTRIES:
            raise ReleaseError(
                f"{folder} holds {entries} originals; the Hub asks for fewer than {schema.MAX_FOLDER_ENTRIES} entries "
                "per folder: "
                "this source needs bucketing (see schema.original_path)"
            )
    return originals_summary(sizes)
