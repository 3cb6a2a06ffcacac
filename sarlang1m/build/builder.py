"""`SARLANG1M`: a `datasets` builder that reads the authors' raw release directly.

Loading scripts are gone from `datasets` (4.0), so `load_dataset` cannot find this class by name:
instantiate it. It yields the same records as the published release (one per image, texts nested),
which makes it the way to check a release against the raw files, or to use a raw release without
building one:

    from sarlang1m import SARLANG1M
    builder = SARLANG1M(config_name="vqa", data_dir="raw/", sardet_root="SARDet_100K/")
    builder.download_and_prepare()
    train = builder.as_dataset(split="train")
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import datasets

from .. import schema
from ..raw.layout import open_layout
from .records import iter_records
from .staging import Partition, Staging

logger = logging.getLogger(__name__)


@dataclass
class SARLANG1MConfig(datasets.BuilderConfig):
    """A named config of the release (see `schema.config_specs`) plus where the raw files are."""

    task: str = "vqa"
    subset: str | None = None
    tier: str | None = None
    sardet_root: str | None = None
    allow_missing: bool = False
    text_format: str = "json"

    @property
    def spec(self) -> schema.ConfigSpec:
        return schema.ConfigSpec(self.name, self.task, self.description or "", self.subset, self.tier)


class SARLANG1M(datasets.GeneratorBasedBuilder):
    """SARLANG-1M from the authors' raw release (`data_dir`), one record per image with texts nested."""

    BUILDER_CONFIG_CLASS = SARLANG1MConfig
    BUILDER_CONFIGS = [  # noqa: RUF012 (the attribute datasets reads)
        SARLANG1MConfig(name=s.name, description=s.description, task=s.task, subset=s.subset, tier=s.tier)
        for s in schema.config_specs()
    ]
    DEFAULT_CONFIG_NAME = "vqa"
    DEFAULT_WRITER_BATCH_SIZE = 100

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=self.config.description,
            features=schema.FEATURES[self.config.task],
            homepage=schema.AUTHORS_REPO_URL,
            citation=schema.citation(),
            license="other: per-source licences (see the dataset card)",
        )

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        if not self.config.data_dir:
            raise ValueError(
                "SARLANG1M reads the authors' raw release: pass data_dir=<its folder, a folder of its archives, "
                "or one archive>"
            )
        config = self.config
        layout = open_layout(config.data_dir, sardet_root=config.sardet_root, text_format=config.text_format)
        work = Path(tempfile.mkdtemp(prefix="sarlang1m-staging-"))
        weakref.finalize(self, shutil.rmtree, work, True)
        try:
            staging = Staging.build(layout, work / "staging.sqlite", allow_missing=self.config.allow_missing)
        finally:
            layout.close()  # the staged refs reopen the files where the examples are generated
        spec = self.config.spec
        by_split: dict[str, list[Partition]] = {}
        for partition, _ in staging.partitions():
            if partition.task == spec.task and spec.includes(partition.directory):
                by_split.setdefault(partition.split, []).append(partition)
        staging.close()
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"staging_path": str(staging.path), "partitions": parts})
            for split, parts in sorted(by_split.items())
        ]

    def _generate_examples(self, staging_path: str, partitions: list[Partition]):
        staging = Staging(staging_path)
        failures: list | None = [] if self.config.allow_missing else None
        for partition in partitions:
            for record in iter_records(staging, partition, failures=failures):
                yield f"{partition.directory}/{record['image_id']}", record
        for _, image, reason in failures or []:
            logger.warning("skipped unreadable image %s: %s", image, reason)
        staging.close()
