"""Finishing a release folder once its shards are written: summaries, report, card, Croissant, MANIFEST.

Everything written here is read back from what the shards and the store hold, never from what the
build meant to write, and the MANIFEST comes last: it lists and hashes every other file, so a folder
with a MANIFEST is complete.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TypedDict

import datasets

from .. import __version__, schema
from ..card import write_card
from ..card.croissant import write_croissant
from ..card.preview import write_sample_grid
from ..publish.manifest import file_entries, iter_original_references, originals_problems, write_manifest
from ..raw.layout import RawLayout
from ..summary import ConfigSummary, SplitSummary, configs_to_json
from .original_files import check_originals
from .records import SARStatistics
from .report import SKIP_REASONS, FileAccount
from .shards import ShardResult
from .staging import Staging


class ReleaseNames(TypedDict):
    """What the card and the Croissant metadata both name the release by."""

    version: str
    synthetic: bool
    repo_id: str


def finish_release(
    release: Path,
    staging: Staging,
    layout: RawLayout,
    stats: SARStatistics,
    configs: dict[str, ConfigSummary],
    names: ReleaseNames,
    sharding: tuple[dict, list[str]] = ({}, []),
) -> dict:
    """Write the report, card, Croissant and sample grid, then the MANIFEST; returns the report.

    `sharding`: where the shard multiple was not met (`shard_plan.shard_multiple_report`), for the report."""
    report = write_report(staging, release, stats, synthetic=names["synthetic"], sharding=sharding)
    sar_statistics = stats.summary()
    originals = check_originals(release)
    write_card(release, configs=configs, sar_statistics=sar_statistics, **names)
    write_croissant(release, configs=configs, **names)
    write_sample_grid(release)
    files = file_entries(release)
    problems = originals_problems(files, iter_original_references(release, files))
    if problems:  # a bug, not bad input: rows and originals are written together
        raise RuntimeError(f"rows and originals disagree: {problems[:5]}")
    write_manifest(
        release,
        {
            "dataset": schema.PRETTY_NAME,
            "version": names["version"],
            "repo_id": names["repo_id"],
            "synthetic": names["synthetic"],
            "generator": _generator_versions(),
            "inputs": {
                "text_files": report["files"],
                "image_files": staging.counts(),
                "sardet_root_given": layout.sardet is not None,
            },
            "configs": configs_to_json(configs),
            "report": {"texts_used": report["texts_used"], "texts_skipped": report["texts_skipped"]},
            "sar_statistics": sar_statistics,
            "originals": originals,
        },
        files,
    )
    return report


def config_summaries(results: list[ShardResult], release: Path) -> dict[str, ConfigSummary]:
    """Per config and split: images, texts, files, bytes; only configs and splits that have files."""
    tiers: dict[str, set[str]] = {}
    for result in results:
        tiers.setdefault(result.partition.task, set()).add(result.partition.tier)
    summaries: dict[str, ConfigSummary] = {}
    for spec in schema.config_specs(tiers):
        splits: dict[str, SplitSummary] = {}
        for split in schema.SPLITS:
            members = [
                r
                for r in results
                if r.partition.task == spec.task and r.partition.split == split and spec.includes(r.partition.directory)
            ]
            if members:
                splits[split] = SplitSummary(
                    images=sum(r.images for r in members),
                    texts=sum(r.texts for r in members),
                    files=len(members),
                    num_bytes=sum(r.num_bytes for r in members),
                    download_bytes=sum((release / r.path).stat().st_size for r in members),
                    data_files=spec.split_glob(split),
                )
        if splits:
            summaries[spec.name] = ConfigSummary(
                task=spec.task,
                description=spec.description,
                default=spec.default,
                subset=spec.subset,
                tier=spec.tier,
                splits=splits,
            )
    return summaries


def write_report(
    staging: Staging,
    release: Path,
    stats: SARStatistics,
    *,
    synthetic: bool,
    sharding: tuple[dict, list[str]] = ({}, []),
) -> dict:
    accounts = staging.file_accounts()
    unbalanced = [a.path for a in accounts if not a.balanced()]
    if unbalanced:  # a bug, not bad input: refuse to publish a release that cannot account for its rows
        raise RuntimeError(f"rows not accounted for in {unbalanced}")
    skipped = list(staging.skipped())
    report = {
        "synthetic": synthetic,
        "texts_read": sum(a.rows for a in accounts),
        "texts_used": sum(a.used for a in accounts),
        "texts_skipped": len(skipped),
        "skip_reasons": {reason: SKIP_REASONS[reason] for reason in sorted({s["reason"] for s in skipped})},
        "warnings": staging.warnings() + sharding[1],
        "files": [_input_entry(a) for a in accounts],
        # per source: how many originals got each radiometry, and which rule decided (file, source_rule, pixels)
        "sar_radiometry": stats.provenance(),
        # where --shard-multiple could not be met: partitions with fewer rows, configs whose file count is short
        **({"shard_multiple": sharding[0]} if sharding[0] else {}),
        "skipped": skipped,
    }
    if refused := staging.refused():  # input entries never read (links, unsafe or repeated archive members)
        report["inputs_refused"] = refused
    (release / schema.REPORT_FILE).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def _input_entry(account: FileAccount) -> dict:
    return {**asdict(account), "skipped": dict(sorted(account.skipped.items()))}


def _generator_versions() -> dict[str, str]:
    import huggingface_hub
    import pyarrow

    return {
        "sarlang1m": __version__,
        "datasets": datasets.__version__,
        "huggingface_hub": huggingface_hub.__version__,
        "pyarrow": pyarrow.__version__,
    }
