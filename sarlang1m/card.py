"""The dataset card (README.md of a release): YAML metadata that makes the folder loadable, and its body.

The YAML `configs:` block is what replaced loading scripts: `load_dataset(folder_or_repo, "vqa")` reads
it. The body is rendered from the Jinja template in `dataset_card/` through huggingface_hub's card API.
"""

from __future__ import annotations

from pathlib import Path

import datasets
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData

from . import schema
from .staging import Staging

TEMPLATE = Path(__file__).parent / "dataset_card" / "template.md"


def card_data(configs: dict[str, dict], *, version: str, synthetic: bool) -> DatasetCardData:
    """The YAML header: licence, tags, configs (data files per split) and dataset_info per config."""
    data = DatasetCardData(
        pretty_name=schema.PRETTY_NAME + (" (synthetic)" if synthetic else ""),
        license="other",
        license_name="sarlang-1m-mixed-source-licences",
        license_link="https://github.com/Jimmyxichen/SARLANG-1M",
        language=["en"],
        task_categories=["visual-question-answering", "image-to-text"],
        tags=["sar", "remote-sensing", "earth-observation", "geospatial", "synthetic-aperture-radar"]
        + (["synthetic"] if synthetic else []),
        size_categories=[
            _size_category(sum(s["texts"] for c in configs.values() if c["default"] for s in c["splits"].values()))
        ],
        source_datasets=["SpaceNet6", "DFC2023", "OpenEarthMap-SAR", "SARDet-100K"],
    )
    MetadataConfigs(
        {
            name: {
                "data_files": [
                    {"split": split, "path": info["data_files"]} for split, info in config["splits"].items()
                ],
                **({"default": True} if config["default"] else {}),
            }
            for name, config in configs.items()
        }
    ).to_dataset_card_data(data)
    DatasetInfosDict(
        {
            name: datasets.DatasetInfo(
                description=config["description"],
                features=schema.FEATURES[config["task"]],
                splits=datasets.SplitDict(
                    {
                        split: datasets.SplitInfo(split, num_bytes=info["num_bytes"], num_examples=info["images"])
                        for split, info in config["splits"].items()
                    }
                ),
                download_size=sum(i["download_bytes"] for i in config["splits"].values()),
                dataset_size=sum(i["num_bytes"] for i in config["splits"].values()),
            )
            for name, config in configs.items()
        }
    ).to_dataset_card_data(data)
    return data


def write_card(
    release: Path,
    *,
    configs: dict[str, dict],
    staging: Staging,
    version: str,
    synthetic: bool,
    sar_statistics: dict,
) -> None:
    data = card_data(configs, version=version, synthetic=synthetic)
    card = DatasetCard.from_template(
        data,
        template_path=str(TEMPLATE),
        version=version,
        synthetic=synthetic,
        configs=configs,
        sources=schema.SOURCES,
        sar_statistics=sar_statistics,
    )
    (release / schema.CARD_FILE).write_text(str(card), encoding="utf-8")


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"
