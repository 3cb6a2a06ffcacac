"""Tables of the pixels: image sizes per source, the originals' dB statistics, radiometry and files.

Sizes come from `ReleaseStatistics` (read back from the Parquet), dB statistics from the MANIFEST,
radiometry decisions from the build report, and the originals from the files under `originals/` themselves.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ... import schema
from ...publish.manifest import original_sizes, originals_summary
from ...sizes import human_bytes
from ..metadata import source_order
from ..statistics import ReleaseStatistics
from .markdown import markdown_table

#: Image sizes listed per source in the card; the rest are counted ("4 most common of 37 sizes").
SIZES_SHOWN = 4
#: How the card names each rule that can decide `sar_radiometry` (`records.RADIOMETRY_DECIDERS`).
_DECIDER_WORDS = {
    "file": "the file's own metadata",
    "source_rule": "the source's documented rule",
    "pixels": "the pixels",
}


def _source_title(source: str) -> str:
    return schema.SOURCES.get(source, schema.SOURCES["unknown"]).title


def sizes_table(stats: ReleaseStatistics) -> str:
    return markdown_table(
        ["source", "image sizes (width x height: images)"],
        [(schema.SOURCES[s].title, _size_summary(stats.sizes[s])) for s in sorted(stats.sizes, key=source_order)],
        "ll",
    )


def _size_summary(sizes: Counter) -> str:
    """The most common sizes of a source, and how many sizes and images they stand for out of all."""
    shown = _most_common(sizes, SIZES_SHOWN)
    listed = ", ".join(f"{size}: {n:,}" for size, n in shown)
    total, covered = sum(sizes.values()), sum(n for _, n in shown)
    if len(shown) == len(sizes):
        every = "one size" if len(sizes) == 1 else f"all {len(sizes):,} sizes"
        return f"{listed} ({every}, {total:,} images)"
    return f"{listed} ({len(shown)} most common of {len(sizes):,} sizes, covering {covered:,} of {total:,} images)"


def _most_common(counter: Counter, n: int) -> list[tuple[str, int]]:
    """The n most frequent items, ties broken by name (Counter.most_common keeps insertion order)."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:n]


def sar_table(sar_statistics: dict[str, Any]) -> str:
    """Per source and band: the dB mean and standard deviation of the originals (from the MANIFEST)."""
    return markdown_table(
        ["source", "radiometry", "band", "images", "mean (dB)", "std (dB)"],
        [
            (_source_title(source), entry["radiometry"], band, entry["images"], mean, std)
            for source, entry in sorted(sar_statistics.items(), key=lambda item: source_order(item[0]))
            for band, mean, std in zip(_band_names(entry), entry["mean_db"], entry["std_db"], strict=True)
        ],
        "lllrrr",
    )


def _band_names(entry: dict) -> list[str]:
    bands = len(entry["mean_db"])
    names = list(entry.get("polarizations") or [])
    return names if len(names) == bands else [f"band {i + 1}" for i in range(bands)]


def radiometry_table(provenance: dict[str, dict]) -> str:
    """Per source: the radiometry of its originals and which rule decided it (from the build report)."""
    return markdown_table(
        ["source", "originals", "sar_radiometry", "decided by"],
        [
            (
                _source_title(source),
                entry["images"],
                ", ".join(f"{name} ({n:,})" for name, n in entry["radiometry"].items()),
                ", ".join(f"{_DECIDER_WORDS.get(who, who)} ({n:,})" for who, n in entry["decided_by"].items()),
            )
            for source, entry in sorted(provenance.items(), key=lambda item: source_order(item[0]))
        ],
        "lrll",
    )


def originals_table(release: Path) -> str:
    """Original GeoTIFFs per source: files, bytes and the folder they are in."""
    summary = originals_summary(original_sizes(release))
    rows: list[tuple[object, ...]] = [
        (schema.SOURCES[s].title, f"`{schema.ORIGINALS_DIR}/{s}/`", totals["files"], human_bytes(totals["bytes"]))
        for s, totals in sorted(summary["sources"].items(), key=lambda item: source_order(item[0]))
    ]
    rows.append(("all", "", summary["files"], human_bytes(summary["bytes"])))
    return markdown_table(["source", "folder", "files", "size"], rows, "llrr")
