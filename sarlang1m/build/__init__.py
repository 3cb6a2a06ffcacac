"""2. From the authors' raw release to a release folder: staging, records, the release writer.

`staging` labels, de-duplicates and matches the texts to their images (SQLite, on disk); `records` makes
one row per image and task (and decides each original's radiometry); `release` writes the Parquet
shards, the originals, the card, the report and the MANIFEST, atomically; `builder` is the same records
as a `datasets` builder over a raw release; `report` accounts for every text row read.
"""

from .release import BuildResult, build_release

__all__ = ["BuildResult", "build_release"]
