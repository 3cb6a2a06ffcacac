"""The card's YAML header: what makes a release folder loadable and findable on the Hub.

`configs:` (data files per split) is what replaced loading scripts: `load_dataset(folder_or_repo, "vqa")`
reads it; `dataset_info:` gives the features and split sizes; licence, tags and task categories come from
`schema`, the one place the Croissant metadata and the builder read them from too.
"""

from __future__ import annotations

import datasets
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCardData

from .. import schema
from ..summary import ConfigSummary


def card_data(configs: dict[str, ConfigSummary], *, version: str, synthetic: bool) -> DatasetCardData:
    """The YAML header: licence, tags, configs (data files per split) and dataset_info per config."""
    data = DatasetCardData(
        pretty_name=schema.PRETTY_NAME + (" (synthetic)" if synthetic else ""),
        license="other",
        license_name=schema.LICENSE_NAME,
        license_link=schema.LICENSE_LINK,
        language=["en"],
        task_categories=list(schema.TASK_CATEGORIES),
        tags=list(schema.TAGS) + (["synthetic"] if synthetic else []),
        size_categories=[size_category(sum(s.texts for c in configs.values() if c.default for s in c.splits.values()))],
        source_datasets=[source_short_name(s) for s in published_sources()],
    )
    MetadataConfigs(
        {
            name: {
                "data_files": [{"split": split, "path": info.data_files} for split, info in config.splits.items()],
                **({"default": True} if config.default else {}),
            }
            for name, config in configs.items()
        }
    ).to_dataset_card_data(data)
    DatasetInfosDict({name: _dataset_info(config) for name, config in configs.items()}).to_dataset_card_data(data)
    return data


def _dataset_info(config: ConfigSummary) -> datasets.DatasetInfo:
    """The `dataset_info:` entry of one config: features, rows and bytes per split."""
    return datasets.DatasetInfo(
        description=config.description,
        features=schema.FEATURES[config.task],
        splits=datasets.SplitDict(
            {
                split: datasets.SplitInfo(split, num_bytes=info.num_bytes, num_examples=info.images)
                for split, info in config.splits.items()
            }
        ),
        download_size=sum(i.download_bytes for i in config.splits.values()),
        dataset_size=sum(i.num_bytes for i in config.splits.values()),
    )


def size_category(n: int) -> str:
    """The Hub's `size_categories` bucket of `n` texts."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def published_sources() -> list[str]:
    """The sources a release credits (all of `schema.SOURCES` but the "unknown" placeholder)."""
    return [name for name in schema.SOURCES if name != "unknown"]


def source_short_name(source: str) -> str:
    """The short name of a source dataset ("SpaceNet6", "DFC2023"), as `source_datasets` lists it."""
    return schema.SOURCES[source].title.split(" (")[0].replace("IEEE GRSS Data Fusion Contest 2023", "DFC2023")


def source_order(source: str) -> int:
    """Sources in the order `schema.SOURCES` lists them; unknown names last."""
    return list(schema.SOURCES).index(source) if source in schema.SOURCES else len(schema.SOURCES)
