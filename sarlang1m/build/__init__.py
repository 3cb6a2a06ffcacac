"""2. From the authors' raw release to a release folder: staging, records, the release writer.

`release.build_release` runs the steps in data-flow order. `stager` labels and de-duplicates the texts
into an SQLite store laid out by `store` (on disk), `matching` matches them to their image files and
`shard_plan` cuts each partition into shards; `staging` reads the store back. `parallel` stages the
text groups while `shards` writes the Parquet shards of those already staged, one row per image and
task from `records` (which also decides each original's radiometry), with the originals stored by
`original_files`. `finish` writes the report, card and MANIFEST; `sarlang1m.output_folders` swaps the
result into place atomically. `builder` is the same records as a `datasets` builder over a raw release; `report`
accounts for every text row read.
"""

from .release import BuildResult, build_release

__all__ = ["BuildResult", "build_release"]
