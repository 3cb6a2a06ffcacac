"""The Markdown tables of the card's body: one small function per table, all read from `ReleaseStatistics`.

`card_tables` gathers them under the names the template (`assets/template.md`) uses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import datasets

from .. import schema
from ..publish.manifest import original_sizes, originals_summary
from ..summary import ConfigSummary
from . import viewer
from .metadata import published_sources, source_order
from .statistics import LENGTH_BUCKETS, ReleaseStatistics

#: Image sizes listed per source in the card; the rest are counted ("4 most common of 37 sizes").
SIZES_SHOWN = 4
#: How the card names each rule that can decide `sar_radiometry` (`records.RADIOMETRY_DECIDERS`).
_DECIDER_WORDS = {
    "file": "the file's own metadata",
    "source_rule": "the source's documented rule",
    "pixels": "the pixels",
}
_LENGTH_KINDS = ("question", "answer", "caption_concise", "caption_detailed")


def card_tables(
    release: Path,
    configs: dict[str, ConfigSummary],
    stats: ReleaseStatistics,
    sar_statistics: dict,
    checks: list[viewer.ViewerCheck],
) -> dict[str, str]:
    """Every table of the card's body, by the name the template gives it."""
    tables = {
        "configs": configs_table(configs),
        "sources": sources_table(stats),
        "tiers": tiers_table(stats),
        "subsets": subsets_table(stats),
        "applications": applications_table(stats),
        "subtypes": subtypes_table(stats),
        "answer_types": answer_types_table(stats),
        "caption_styles": caption_styles_table(stats),
        "lengths": lengths_table(stats),
        "length_buckets": length_buckets_table(stats),
        "sizes": sizes_table(stats),
        "sar": sar_table(sar_statistics),
        "licences": licences_table(),
        "tier_definitions": tier_definitions_table(),
        "viewer": viewer_table(checks),
    }
    for task in schema.TASKS:
        tables[f"columns_{task}"] = columns_table(task)
    tables["originals"] = originals_table(release)
    return tables


# ------------------------------------------------------------------------------------ Markdown


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str | None = None) -> str:
    """A GitHub-flavoured Markdown table; `align` has one of l/r/c per column (default: l then r)."""
    align = align or "l" + "r" * (len(headers) - 1)
    rule = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(rule[a] for a in align) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"


def _feature_type(feature: object) -> str:
    if isinstance(feature, datasets.Value):
        return str(feature.dtype)
    if isinstance(feature, datasets.Image):
        return "image"
    if isinstance(feature, datasets.List):
        inner = feature.feature
        return f"list<{_feature_type(inner) if not isinstance(inner, dict) else 'struct'}>"
    if isinstance(feature, dict):
        return "struct"
    return type(feature).__name__


def _source_title(source: str) -> str:
    return schema.SOURCES.get(source, schema.SOURCES["unknown"]).title


def _application_title(application: str) -> str:
    return schema.APPLICATIONS[application].title if application in schema.APPLICATIONS else application


# ------------------------------------------------------------------------------------ what the release holds


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
                _bytes(info.download_bytes),
            )
            for name, config in configs.items()
            for split, info in config.splits.items()
        ],
        "lllrrrrr",
    )


def sources_table(stats: ReleaseStatistics) -> str:
    sources = sorted({s for task in stats.sources.values() for s in task}, key=source_order)
    return markdown_table(
        ["source", "tier", "VQA images", "questions", "caption images", "captions", "with GeoTIFF", "places"],
        [
            (
                schema.SOURCES[s].title,
                schema.SOURCES[s].tier,
                stats.sources["vqa"][s]["images"],
                stats.sources["vqa"][s]["texts"],
                stats.sources["captions"][s]["images"],
                stats.sources["captions"][s]["texts"],
                stats.sources["vqa"][s]["with_sar"] + stats.sources["captions"][s]["with_sar"],
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


# ------------------------------------------------------------------------------------ the texts


def _texts_per_application(stats: ReleaseStatistics) -> dict[str, Counter]:
    """Texts per application and split; every caption counts under "image_description"."""
    return {"image_description": stats.texts["captions"], **stats.applications}


def _applications(stats: ReleaseStatistics) -> list[str]:
    """The applications found, in `schema.APPLICATIONS` order, then unknown names sorted."""
    per_application = _texts_per_application(stats)
    known = [a for a in schema.APPLICATIONS if sum(per_application.get(a, Counter()).values())]
    return known + sorted(set(stats.applications) - set(schema.APPLICATIONS))


def applications_table(stats: ReleaseStatistics) -> str:
    per_application = _texts_per_application(stats)
    total_texts = sum(sum(c.values()) for c in per_application.values())
    return markdown_table(
        ["application", "train", "test", "share of all texts", "paper (all splits)"],
        [
            (
                _application_title(a),
                per_application[a]["train"],
                per_application[a]["test"],
                _share(sum(per_application[a].values()), total_texts),
                schema.APPLICATIONS[a].paper_texts if a in schema.APPLICATIONS else "-",
            )
            for a in _applications(stats)
        ],
    )


def subtypes_table(stats: ReleaseStatistics) -> str:
    others = sum(stats.applications["others"].values()) if "others" in stats.applications else 0
    labelled = {s: stats.subtypes[s] for s in schema.OTHERS_SUBTYPES if stats.subtypes[s]}
    unmatched = others - sum(labelled.values())
    return markdown_table(
        ["sub-type of Others", "questions", "paper"],
        [(s, n, schema.OTHERS_SUBTYPES[s]) for s, n in labelled.items()]
        + ([("(no sub-type rule matched)", unmatched, "-")] if unmatched > 0 else []),
    )


def answer_types_table(stats: ReleaseStatistics) -> str:
    answer_types = [t for t in schema.ANSWER_TYPES if any(t in c for c in stats.answer_types.values())]
    return markdown_table(
        ["application", *answer_types],
        [
            (_application_title(a), *(stats.answer_types[a][t] for t in answer_types))
            for a in _applications(stats)
            if a != "image_description"
        ],
    )


def caption_styles_table(stats: ReleaseStatistics) -> str:
    styles = [s for s in schema.CAPTION_STYLES if any(s in c for c in stats.caption_styles.values())]
    return markdown_table(
        ["split", *styles],
        [
            (split, *(stats.caption_styles[split][s] for s in styles))
            for split in schema.SPLITS
            if split in stats.caption_styles
        ],
    )


def _length_kinds(stats: ReleaseStatistics) -> list[str]:
    return [k for k in _LENGTH_KINDS if k in stats.lengths]


def lengths_table(stats: ReleaseStatistics) -> str:
    summaries = {k: stats.lengths[k].summary() for k in _length_kinds(stats)}
    return markdown_table(
        ["text", "texts", "mean", "median", "90th pct", "99th pct", "max"],
        [
            (k.replace("_", " "), s["texts"], s["mean"], s["p50"], s["p90"], s["p99"], s["max"])
            for k, s in summaries.items()
        ],
    )


def length_buckets_table(stats: ReleaseStatistics) -> str:
    kinds = _length_kinds(stats)
    buckets = {k: stats.lengths[k].buckets() for k in kinds}
    return markdown_table(
        ["words", *(k.replace("_", " ") for k in kinds)],
        [(label, *(buckets[k][label] for k in kinds)) for label, _ in LENGTH_BUCKETS],
    )


# ------------------------------------------------------------------------------------ the images


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
        (schema.SOURCES[s].title, f"`{schema.ORIGINALS_DIR}/{s}/`", totals["files"], _bytes(totals["bytes"]))
        for s, totals in sorted(summary["sources"].items(), key=lambda item: source_order(item[0]))
    ]
    rows.append(("all", "", summary["files"], _bytes(summary["bytes"])))
    return markdown_table(["source", "folder", "files", "size"], rows, "llrr")


# ------------------------------------------------------------------------------------ reference


def licences_table() -> str:
    return markdown_table(
        ["source", "sensor", "GSD (m)", "tier", "polarisations", "licence", "commercial use"],
        [
            (
                f"[{spec.title}]({spec.homepage})",
                spec.sensor,
                f"{spec.gsd_m[0]:g}-{spec.gsd_m[1]:g}" if spec.gsd_m[0] != spec.gsd_m[1] else f"{spec.gsd_m[0]:g}",
                spec.tier,
                ", ".join(spec.polarizations) or "single / unknown",
                f"[{spec.license}]({spec.license_url})",
                spec.commercial_use,
            )
            for spec in (schema.SOURCES[s] for s in published_sources())
        ],
        "lllllll",
    )


def tier_definitions_table() -> str:
    return markdown_table(
        ["tier", "GSD range (m)", "meaning"],
        [(f"`{t.name}`", f"{t.gsd_m[0]:g}-{t.gsd_m[1]:g}", t.description) for t in schema.TIERS.values()],
        "lll",
    )


def columns_table(task: str) -> str:
    return markdown_table(
        ["column", "type", "meaning"],
        [
            (f"`{name}`", _feature_type(feature), schema.COLUMN_DESCRIPTIONS[name])
            for name, feature in schema.FEATURES[task].items()
        ],
        "lll",
    )


def viewer_table(checks: list[viewer.ViewerCheck]) -> str:
    return markdown_table(
        [
            "config",
            "split",
            "rows",
            "rows per row group (max)",
            "page index",
            "largest row-group read",
            f"{viewer.PAGE_ROWS}-row page response",
            "fits the viewer",
        ],
        [
            (
                f"`{c.config}`",
                c.split,
                c.rows,
                c.max_group_rows,
                c.page_index,
                _bytes(c.largest_read),
                _bytes(c.page_bytes),
                c.fits,
            )
            for c in checks
        ],
        "llrrlrrl",
    )
