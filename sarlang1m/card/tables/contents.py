"""Tables of what a release holds: its configs and splits, and its images and texts per source, tier and subset.

The configs table reads the build's summaries (`summary.ConfigSummary`, from the MANIFEST); the others
read `ReleaseStatistics`, the figures read back from the written Parquet.
"""

from __future__ import annotations

from ... import schema
from ...sizes import human_bytes
from ...summary import ConfigSummary
from ..metadata import source_order
from ..statistics import ReleaseStatistics
from .markdown import markdown_table


def configs_table(configs: dict[str, ConfigSummary]) -> str:
    return markdown_table(
        ["config", "task", "what it holds", "split", "images", "texts", "files", "download size"],
        [
            (
                f"`{name}`" + (" (default)" if config.default else ""),
                config.task,
                config.description,
                split,
                info.images,
                info.texts,
                info.files,
                human_bytes(info.download_bytes),
            )
            for name, config in configs.items()
            for split, info in config.splits.items()
        ],
        "lllrrrrr",
    )


def sources_table(stats: ReleaseStatistics) -> str:
    sources = sorted({s for task in stats.sources.values() for s in task}, key=source_order)
    return markdown_table(
        ["source", "tier", "VQA images", "questions", "caption images", "captions", "images with GeoTIFF", "places"],
        [
            (
                schema.SOURCES[s].title,
                schema.SOURCES[s].tier,
                stats.sources["vqa"][s]["images"],
                stats.sources["vqa"][s]["texts"],
                stats.sources["captions"][s]["images"],
                stats.sources["captions"][s]["texts"],
                len(stats.with_sar[s]),  # each image once, whether it has questions, captions or both
                len(stats.locations[s]) if stats.locations[s] else "-",
            )
            for s in sources
        ],
        "llrrrrrr",
    )


def tiers_table(stats: ReleaseStatistics) -> str:
    tiers = sorted({t for task in stats.tiers.values() for t in task}, key=list(schema.TIERS).index)
    return markdown_table(
        ["tier", "GSD", "VQA images", "questions", "caption images", "captions"],
        [
            (
                f"`{t}`",
                schema.TIERS[t].description,
                stats.tiers["vqa"][t]["images"],
                stats.tiers["vqa"][t]["texts"],
                stats.tiers["captions"][t]["images"],
                stats.tiers["captions"][t]["texts"],
            )
            for t in tiers
        ],
        "llrrrr",
    )


def subsets_table(stats: ReleaseStatistics) -> str:
    return markdown_table(
        ["subset", "split", "images", "questions"],
        [
            (subset.upper(), split, counts["images"], counts["texts"])
            for subset in sorted(stats.subsets)
            for split in schema.SPLITS
            if (counts := stats.subsets[subset].get(split))
        ],
        "llrr",
    )
