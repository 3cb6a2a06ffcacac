"""The dataset card (README.md of a release): YAML metadata that makes the folder loadable, and its body.

The YAML `configs:` block is what replaced loading scripts: `load_dataset(folder_or_repo, "vqa")` reads
it. The body is rendered from the Jinja template in `assets/` through huggingface_hub's card API.
Every figure in the body is read back from the written Parquet files (text and metadata columns only,
never the image bytes; the viewer check of `viewer.py` reads the other cells of two pages per split), so
the card describes what was published, not what the build meant to write.
Nothing in it depends on the clock: two builds of the same input give the same bytes.
"""

from __future__ import annotations

import inspect
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData
from packaging.version import InvalidVersion, Version

from .. import schema
from ..publish.manifest import original_sizes, originals_summary
from ..raw import classify
from . import viewer

CARD_ASSETS = Path(__file__).parent / "assets"
TEMPLATE = CARD_ASSETS / "template.md"
CHANGELOG = CARD_ASSETS / "CHANGELOG.md"
CITATION = CARD_ASSETS / "citation.bib"

TAGS = ("sar", "remote-sensing", "earth-observation", "geospatial", "synthetic-aperture-radar")
TASK_CATEGORIES = ("visual-question-answering", "image-to-text")
LICENSE_NAME = "sarlang-1m-mixed-source-licences"
LICENSE_LINK = "https://github.com/Jimmyxichen/SARLANG-1M"
PAPER_URL = "https://arxiv.org/abs/2504.03254"
AUTHORS_REPO_URL = "https://github.com/Jimmyxichen/SARLANG-1M"
#: Word-count buckets of the text-length histograms: (label, smallest count in the bucket).
LENGTH_BUCKETS = (("1", 1), ("2-3", 2), ("4-7", 4), ("8-15", 8), ("16-31", 16), ("32-63", 32), ("64+", 64))
#: Questions or captions shown in each example row (the rest are counted).
EXAMPLE_TEXTS = 4
_BINARY_COLUMNS = ("image",)


# ------------------------------------------------------------------------------------------ YAML


def card_data(configs: dict[str, dict], *, version: str, synthetic: bool) -> DatasetCardData:
    """The YAML header: licence, tags, configs (data files per split) and dataset_info per config."""
    data = DatasetCardData(
        pretty_name=schema.PRETTY_NAME + (" (synthetic)" if synthetic else ""),
        license="other",
        license_name=LICENSE_NAME,
        license_link=LICENSE_LINK,
        language=["en"],
        task_categories=list(TASK_CATEGORIES),
        tags=list(TAGS) + (["synthetic"] if synthetic else []),
        size_categories=[
            _size_category(sum(s["texts"] for c in configs.values() if c["default"] for s in c["splits"].values()))
        ],
        source_datasets=[source_short_name(s) for s in _published_sources()],
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


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def _published_sources() -> list[str]:
    return [name for name in schema.SOURCES if name != "unknown"]


def source_short_name(source: str) -> str:
    """The short name of a source dataset ("SpaceNet6", "DFC2023"), as `source_datasets` lists it."""
    return schema.SOURCES[source].title.split(" (")[0].replace("IEEE GRSS Data Fusion Contest 2023", "DFC2023")


# ------------------------------------------------------------------------------------ statistics


@dataclass
class WordCounts:
    """Histogram of words per text: exact percentiles in constant memory, however many texts."""

    counts: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    def add(self, lengths: np.ndarray) -> None:
        if len(lengths) == 0:
            return
        found = np.bincount(np.asarray(lengths, dtype=np.int64))
        if len(found) > len(self.counts):
            self.counts = np.pad(self.counts, (0, len(found) - len(self.counts)))
        self.counts[: len(found)] += found

    @property
    def texts(self) -> int:
        return int(self.counts.sum())

    def percentile(self, q: float) -> int:
        """The smallest length with at least q % of the texts at or below it (numpy's `inverted_cdf`)."""
        if not self.texts:
            return 0
        cumulative = np.cumsum(self.counts)
        return int(np.searchsorted(cumulative, q / 100 * self.texts, side="left"))

    def summary(self) -> dict[str, float | int]:
        texts = self.texts
        mean = float((np.arange(len(self.counts)) * self.counts).sum() / texts) if texts else 0.0
        maximum = int(np.flatnonzero(self.counts).max()) if texts else 0
        return {
            "texts": texts,
            "mean": round(mean, 2),
            "p50": self.percentile(50),
            "p90": self.percentile(90),
            "p99": self.percentile(99),
            "max": maximum,
        }

    def buckets(self) -> dict[str, int]:
        """Texts per bucket of `LENGTH_BUCKETS` (texts with no word at all are left out)."""
        bounds = [low for _, low in LENGTH_BUCKETS] + [max(len(self.counts), LENGTH_BUCKETS[-1][1] + 1)]
        return {label: int(self.counts[bounds[i] : bounds[i + 1]].sum()) for i, (label, _) in enumerate(LENGTH_BUCKETS)}


@dataclass
class ReleaseStatistics:
    """What a written release holds, counted from its Parquet files (see `collect_statistics`)."""

    images: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # task -> split -> n
    texts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # task -> split -> n
    image_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # split -> ids, all tasks
    #: task -> source -> {"images", "texts", "with_sar"}
    sources: dict[str, dict[str, Counter]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    #: task -> tier -> {"images", "texts"}
    tiers: dict[str, dict[str, Counter]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    #: VQA subset -> split -> {"images", "texts"}
    subsets: dict[str, dict[str, Counter]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    applications: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # app -> split -> n
    subtypes: Counter = field(default_factory=Counter)  # sub-type of "others" -> n
    answer_types: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # app -> type -> n
    caption_styles: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # split -> style -> n
    #: question, answer, caption_concise, caption_detailed -> words per text
    lengths: dict[str, WordCounts] = field(default_factory=lambda: defaultdict(WordCounts))
    sizes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # source -> "WxH" -> images
    locations: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # source -> places
    #: task -> (priority, row): one real row per task, the first training row with a GeoTIFF if any
    examples: dict[str, tuple[tuple, dict]] = field(default_factory=dict)

    @property
    def distinct_images(self) -> int:
        return sum(len(ids) for ids in self.image_ids.values())

    def example(self, task: str) -> dict | None:
        return self.examples[task][1] if task in self.examples else None


def collect_statistics(release: str | Path) -> ReleaseStatistics:
    """Count a release's images and texts per source, tier, subset, application, answer type and style.

    Reads the Parquet files under `data/` batch by batch and column by column, leaving out the `image`
    and `sar` bytes, so memory stays flat and the paper-scale release takes seconds.
    """
    release = Path(release)
    stats = ReleaseStatistics()
    files = sorted((release / schema.DATA_DIR).rglob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"{release / schema.DATA_DIR}: no Parquet files (not a release folder?)")
    for order, path in enumerate(files):
        name = path.relative_to(release).as_posix()
        task, split = _task_and_split(name)
        parquet = pq.ParquetFile(path)
        text_column = schema.TEXT_COLUMN[task]
        needed = {"image_id", "source", "tier", "sar_radiometry", "width", "height", "location", text_column}
        if task == "vqa":
            needed.add("subset")
        missing = sorted(needed - set(parquet.schema_arrow.names))
        if missing:
            raise ValueError(f"{name}: column(s) {missing} missing; expected the columns of schema.FEATURES[{task!r}]")
        columns = [c for c in parquet.schema_arrow.names if c not in _BINARY_COLUMNS]
        for index, batch in enumerate(parquet.iter_batches(columns=columns, batch_size=8192)):
            _add_batch(stats, task, split, pa.Table.from_batches([batch]), (order, index))
        parquet.close()
        # Arrow's allocator keeps freed pages for reuse; over hundreds of shards that kept the build's
        # resident memory growing with the release (measured: +120 MiB at 100,000 images, +40 with this).
        pa.default_memory_pool().release_unused()
    return stats


def _task_and_split(name: str) -> tuple[str, str]:
    parts = name.split("/")
    task = parts[1] if len(parts) > 2 else ""
    split = parts[-1].split("-", 1)[0]
    if task not in schema.TASKS or split not in schema.SPLITS:
        raise ValueError(
            f"{name}: not a release shard; expected {schema.DATA_DIR}/<task>/.../<split>-NNNNN-of-MMMMM.parquet"
            f" with task in {schema.TASKS} and split in {schema.SPLITS}"
        )
    return task, split


def _add_batch(stats: ReleaseStatistics, task: str, split: str, table: pa.Table, position: tuple[int, int]) -> None:
    text_column = schema.TEXT_COLUMN[task]
    texts_per_row = pc.fill_null(pc.list_value_length(table[text_column]), 0).to_numpy()
    stats.images[task][split] += table.num_rows
    stats.texts[task][split] += int(texts_per_row.sum())
    stats.image_ids[split].update(table["image_id"].to_pylist())
    sources = table["source"].to_pylist()
    tiers = table["tier"].to_pylist()
    with_sar = pc.is_valid(table["sar_radiometry"]).to_pylist()
    subsets = table["subset"].to_pylist() if task == "vqa" else [None] * table.num_rows
    widths, heights, locations = table["width"].to_pylist(), table["height"].to_pylist(), table["location"].to_pylist()
    for row in range(table.num_rows):
        source, texts = sources[row], int(texts_per_row[row])
        for group in (stats.sources[task][source], stats.tiers[task][tiers[row]]):
            group["images"] += 1
            group["texts"] += texts
        stats.sources[task][source]["with_sar"] += bool(with_sar[row])
        if subsets[row] is not None:
            stats.subsets[subsets[row]][split]["images"] += 1
            stats.subsets[subsets[row]][split]["texts"] += texts
        if task == "vqa":  # every image has questions: count its size and place once, from the VQA rows
            stats.sizes[source][f"{widths[row]}x{heights[row]}"] += 1
            if locations[row]:
                stats.locations[source].add(locations[row])
    texts = pc.list_flatten(table[text_column])
    if task == "vqa":
        _add_questions(stats, split, texts)
    else:
        _add_captions(stats, split, texts)
    _consider_example(stats, task, split, table, with_sar, position)


def _add_questions(stats: ReleaseStatistics, split: str, qa: pa.ChunkedArray) -> None:
    applications = pc.struct_field(qa, "application")
    for application, count in _value_counts(applications).items():
        stats.applications[application][split] += count
    stats.subtypes.update(_value_counts(pc.struct_field(qa, "subtype")))
    pairs = pa.table({"application": applications, "answer_type": pc.struct_field(qa, "answer_type")})
    for row in pairs.group_by(["application", "answer_type"]).aggregate([([], "count_all")]).to_pylist():
        stats.answer_types[_label(row["application"])][_label(row["answer_type"])] += row["count_all"]
    stats.lengths["question"].add(_word_counts(pc.struct_field(qa, "question")))
    stats.lengths["answer"].add(_word_counts(pc.struct_field(qa, "answer")))


def _add_captions(stats: ReleaseStatistics, split: str, captions: pa.ChunkedArray) -> None:
    styles = pc.struct_field(captions, "style")
    for style, count in _value_counts(styles).items():
        stats.caption_styles[split][style] += count
    words = _word_counts(pc.struct_field(captions, "text"))
    style_names = np.asarray([_label(s) for s in styles.to_pylist()], dtype=object)
    for style in set(style_names):
        stats.lengths[f"caption_{style}"].add(words[style_names == style])


def _label(value: str | None) -> str:
    return "(none)" if value is None else value


def _value_counts(values: pa.ChunkedArray | pa.Array) -> Counter:
    """Occurrences of each value, nulls counted under "(none)"."""
    counts = Counter()
    for item in pc.value_counts(values).to_pylist():
        counts[_label(item["values"])] += item["counts"]
    return counts


def _word_counts(texts: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Whitespace-separated words per text (0 for a null)."""
    return pc.fill_null(pc.list_value_length(pc.utf8_split_whitespace(texts)), 0).to_numpy(zero_copy_only=False)


def _consider_example(
    stats: ReleaseStatistics, task: str, split: str, table: pa.Table, with_sar: list[bool], position: tuple[int, int]
) -> None:
    """Keep the first training row with a GeoTIFF (else the first training row, else the first row)."""
    first_with_sar = next((row for row, has_sar in enumerate(with_sar) if has_sar), None)
    candidates = [((split != "train", True, *position, 0), 0)]
    if first_with_sar is not None:
        candidates.append(((split != "train", False, *position, first_with_sar), first_with_sar))
    if task in stats.examples:
        candidates.append((stats.examples[task][0], None))
    priority, row = min(candidates, key=lambda candidate: candidate[0])
    if row is not None:
        stats.examples[task] = (priority, table.slice(row, 1).to_pylist()[0])


# ------------------------------------------------------------------------------------ changelog


@dataclass(frozen=True)
class ChangelogEntry:
    version: str
    date: str
    changes: str


_CHANGELOG_HEADING = re.compile(r"^## +(?P<version>\S+)(?: +[-\u2014] +(?P<date>\S.*?))? *$", re.MULTILINE)


def read_changelog(path: str | Path = CHANGELOG) -> list[ChangelogEntry]:
    """Entries of the dataset's changelog, newest first: `## <version> - <YYYY-MM-DD or unreleased>`."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    headings = list(_CHANGELOG_HEADING.finditer(text))
    entries = []
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        version = heading["version"]
        try:
            Version(version)
        except InvalidVersion as error:
            line = text.count("\n", 0, heading.start()) + 1
            raise ValueError(f"{path.name}:{line}: {version!r} is not a version number ({error})") from error
        entries.append(ChangelogEntry(version, heading["date"] or "unreleased", text[heading.end() : end].strip()))
    return sorted(entries, key=lambda e: Version(e.version), reverse=True)


def changelog_until(version: str, entries: Sequence[ChangelogEntry]) -> list[ChangelogEntry]:
    """The entries up to and including `version` (later, unreleased entries are not part of this release)."""
    return [e for e in entries if Version(e.version) <= Version(version)]


def release_date(version: str, entries: Sequence[ChangelogEntry] | None = None) -> str | None:
    """The changelog's date of `version` (YYYY-MM-DD), None if it has no entry or is unreleased."""
    for entry in read_changelog() if entries is None else entries:
        if Version(entry.version) == Version(version) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry.date):
            return entry.date
    return None


def citation() -> str:
    """The authors' BibTeX entry for SARLANG-1M."""
    return CITATION.read_text(encoding="utf-8").strip()


# ------------------------------------------------------------------------------------ rendering


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
        return feature.dtype
    if isinstance(feature, datasets.Image):
        return "image"
    if isinstance(feature, datasets.List):
        inner = feature.feature
        return f"list<{_feature_type(inner) if not isinstance(inner, dict) else 'struct'}>"
    if isinstance(feature, dict):
        return "struct"
    return type(feature).__name__


def _tables(
    configs: dict[str, dict], stats: ReleaseStatistics, sar_statistics: dict, checks: list[viewer.ViewerCheck]
) -> dict[str, str]:
    tables: dict[str, str] = {}
    tables["configs"] = markdown_table(
        ["config", "task", "what it holds", "split", "images", "texts", "files", "download size"],
        [
            (
                f"`{name}`" + (" (default)" if config["default"] else ""),
                config["task"],
                config["description"],
                split,
                info["images"],
                info["texts"],
                info["files"],
                _bytes(info["download_bytes"]),
            )
            for name, config in configs.items()
            for split, info in config["splits"].items()
        ],
        "lllrrrrr",
    )
    sources = sorted({s for task in stats.sources.values() for s in task}, key=source_order)
    tables["sources"] = markdown_table(
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
    tiers = sorted({t for task in stats.tiers.values() for t in task}, key=list(schema.TIERS).index)
    tables["tiers"] = markdown_table(
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
    tables["subsets"] = markdown_table(
        ["subset", "split", "images", "questions"],
        [
            (subset.upper(), split, counts["images"], counts["texts"])
            for subset in sorted(stats.subsets)
            for split in schema.SPLITS
            if (counts := stats.subsets[subset].get(split))
        ],
        "llrr",
    )
    per_application = {"image_description": stats.texts["captions"], **stats.applications}  # captions: one
    total_texts = sum(sum(c.values()) for c in per_application.values())
    known = [a for a in schema.APPLICATIONS if sum(per_application.get(a, Counter()).values())]
    applications = known + sorted(set(stats.applications) - set(schema.APPLICATIONS))
    tables["applications"] = markdown_table(
        ["application", "train", "test", "share of all texts", "paper (all splits)"],
        [
            (
                schema.APPLICATIONS[a].title if a in schema.APPLICATIONS else a,
                per_application[a]["train"],
                per_application[a]["test"],
                _share(sum(per_application[a].values()), total_texts),
                schema.APPLICATIONS[a].paper_texts if a in schema.APPLICATIONS else "-",
            )
            for a in applications
        ],
    )
    applications = [a for a in applications if a != "image_description"]
    others = sum(stats.applications["others"].values()) if "others" in stats.applications else 0
    labelled = {s: stats.subtypes[s] for s in schema.OTHERS_SUBTYPES if stats.subtypes[s]}
    tables["subtypes"] = markdown_table(
        ["sub-type of Others", "questions", "paper"],
        [(s, n, schema.OTHERS_SUBTYPES[s]) for s, n in labelled.items()]
        + (
            [("(no sub-type rule matched)", others - sum(labelled.values()), "-")]
            if others > sum(labelled.values())
            else []
        ),
    )
    answer_types = [t for t in schema.ANSWER_TYPES if any(t in c for c in stats.answer_types.values())]
    tables["answer_types"] = markdown_table(
        ["application", *answer_types],
        [
            (
                schema.APPLICATIONS[a].title if a in schema.APPLICATIONS else a,
                *(stats.answer_types[a][t] for t in answer_types),
            )
            for a in applications
        ],
    )
    styles = [s for s in schema.CAPTION_STYLES if any(s in c for c in stats.caption_styles.values())]
    tables["caption_styles"] = markdown_table(
        ["split", *styles],
        [
            (split, *(stats.caption_styles[split][s] for s in styles))
            for split in schema.SPLITS
            if split in stats.caption_styles
        ],
    )
    kinds = [k for k in ("question", "answer", "caption_concise", "caption_detailed") if k in stats.lengths]
    summaries = {k: stats.lengths[k].summary() for k in kinds}
    tables["lengths"] = markdown_table(
        ["text", "texts", "mean", "median", "90th pct", "99th pct", "max"],
        [
            (k.replace("_", " "), s["texts"], s["mean"], s["p50"], s["p90"], s["p99"], s["max"])
            for k, s in summaries.items()
        ],
    )
    buckets = {k: stats.lengths[k].buckets() for k in kinds}
    tables["length_buckets"] = markdown_table(
        ["words", *(k.replace("_", " ") for k in kinds)],
        [(label, *(buckets[k][label] for k in kinds)) for label, _ in LENGTH_BUCKETS],
    )
    tables["sizes"] = markdown_table(
        ["source", "image sizes (width x height: images)"],
        [(schema.SOURCES[s].title, _size_summary(stats.sizes[s])) for s in sorted(stats.sizes, key=source_order)],
        "ll",
    )
    tables["sar"] = markdown_table(
        ["source", "radiometry", "band", "images", "mean (dB)", "std (dB)"],
        [
            (
                schema.SOURCES.get(source, schema.SOURCES["unknown"]).title,
                entry["radiometry"],
                band,
                entry["images"],
                mean,
                std,
            )
            for source, entry in sorted(sar_statistics.items(), key=lambda item: source_order(item[0]))
            for band, mean, std in zip(_band_names(entry), entry["mean_db"], entry["std_db"], strict=True)
        ],
        "lllrrr",
    )
    tables["licences"] = markdown_table(
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
            for spec in (schema.SOURCES[s] for s in _published_sources())
        ],
        "lllllll",
    )
    tables["tier_definitions"] = markdown_table(
        ["tier", "GSD range (m)", "meaning"],
        [(f"`{t.name}`", f"{t.gsd_m[0]:g}-{t.gsd_m[1]:g}", t.description) for t in schema.TIERS.values()],
        "lll",
    )
    tables["viewer"] = markdown_table(
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
    for task in schema.TASKS:
        tables[f"columns_{task}"] = markdown_table(
            ["column", "type", "meaning"],
            [
                (f"`{name}`", _feature_type(feature), schema.COLUMN_DESCRIPTIONS[name])
                for name, feature in schema.FEATURES[task].items()
            ],
            "lll",
        )
    return tables


def source_order(source: str) -> int:
    """Sources in the order `schema.SOURCES` lists them; unknown names last."""
    return list(schema.SOURCES).index(source) if source in schema.SOURCES else len(schema.SOURCES)


def _originals_table(release: Path) -> str:
    """Original GeoTIFFs per source: files, bytes and the folder they are in."""
    summary = originals_summary(original_sizes(release))
    rows = [
        (schema.SOURCES[s].title, f"`{schema.ORIGINALS_DIR}/{s}/`", totals["files"], _bytes(totals["bytes"]))
        for s, totals in sorted(summary["sources"].items(), key=lambda item: source_order(item[0]))
    ]
    rows.append(("all", "", summary["files"], _bytes(summary["bytes"])))
    return markdown_table(["source", "folder", "files", "size"], rows, "llrr")


def _band_names(entry: dict) -> list[str]:
    bands = len(entry["mean_db"])
    names = list(entry.get("polarizations") or [])
    return names if len(names) == bands else [f"band {i + 1}" for i in range(bands)]


#: Image sizes listed per source in the card; the rest are counted ("4 most common of 37 sizes").
SIZES_SHOWN = 4


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


def _example_json(row: dict | None, task: str) -> str:
    """One real row as JSON, with the binary cells described instead of dumped and long lists cut."""
    if row is None:
        return ""
    ordered: dict = {}
    for name in schema.FEATURES[task]:
        if name == "image":
            ordered[name] = f"<8-bit image, {row.get('width')}x{row.get('height')} px, from {row.get('file_name')}>"
        elif name == schema.TEXT_COLUMN[task]:
            texts = row.get(name) or []
            ordered[name] = texts[:EXAMPLE_TEXTS]
            if len(texts) > EXAMPLE_TEXTS:
                ordered[name].append(f"... {len(texts) - EXAMPLE_TEXTS} more")
        else:
            ordered[name] = row.get(name)
    return json.dumps(ordered, indent=2, ensure_ascii=False)


def _labelling_rules() -> dict[str, str]:
    """The documented rules of `sarlang1m.raw.classify`, quoted from the code so the card cannot drift."""
    return {
        "application": inspect.getdoc(classify.classify_question) or "",
        "answer_type": inspect.getdoc(classify.answer_type) or "",
        "caption_style": inspect.getdoc(classify.caption_style) or "",
    }


def _build_report(release: Path) -> dict | None:
    path = release / schema.REPORT_FILE
    if not path.is_file():
        return None
    report = json.loads(path.read_text(encoding="utf-8"))
    return {
        "texts_read": report.get("texts_read", 0),
        "texts_used": report.get("texts_used", 0),
        "texts_skipped": report.get("texts_skipped", 0),
        "skip_reasons": report.get("skip_reasons", {}),
        "warnings": report.get("warnings", []),
        "sar_radiometry": report.get("sar_radiometry", {}),
    }


#: How the card names each rule that can decide `sar_radiometry` (`records.RADIOMETRY_DECIDERS`).
_DECIDER_WORDS = {
    "file": "the file's own metadata",
    "source_rule": "the source's documented rule",
    "pixels": "the pixels",
}


def _radiometry_table(provenance: dict[str, dict]) -> str:
    """Per source: the radiometry of its originals and which rule decided it (from the build report)."""
    return markdown_table(
        ["source", "originals", "sar_radiometry", "decided by"],
        [
            (
                schema.SOURCES.get(source, schema.SOURCES["unknown"]).title,
                entry["images"],
                ", ".join(f"{name} ({n:,})" for name, n in entry["radiometry"].items()),
                ", ".join(f"{_DECIDER_WORDS.get(who, who)} ({n:,})" for who, n in entry["decided_by"].items()),
            )
            for source, entry in sorted(provenance.items(), key=lambda item: source_order(item[0]))
        ],
        "lrll",
    )


def render_card(
    release: str | Path,
    *,
    configs: dict[str, dict],
    version: str,
    synthetic: bool,
    sar_statistics: dict,
    repo_id: str = schema.DEFAULT_REPO_ID,
    sample_grid: str | None = schema.SAMPLE_GRID_FILE,
    changelog: str | Path = CHANGELOG,
) -> DatasetCard:
    """The card of the release folder `release`, from its written Parquet files and the build's summaries.

    `configs` is the per-config summary of the build (splits with images, texts, files, bytes, data_files);
    `sar_statistics` the per-source dB mean/std of the MANIFEST; `sample_grid` the file name of the grid
    image beside the card (None: no grid shown).
    """
    release = Path(release)
    if not configs:
        raise ValueError("configs is empty: a release needs at least one config with data files")
    defaults = [name for name, config in configs.items() if config.get("default")]
    if len(defaults) != 1:
        raise ValueError(f"exactly one config must be the default, got {defaults or 'none'}")
    stats = collect_statistics(release)
    entries = read_changelog(changelog)
    checks = viewer.viewer_checks(release, configs, repo_id=repo_id)
    build_report = _build_report(release)
    tables = {**_tables(configs, stats, sar_statistics, checks), "originals": _originals_table(Path(release))}
    if build_report and build_report["sar_radiometry"]:
        tables["radiometry"] = _radiometry_table(build_report["sar_radiometry"])
    data = card_data(configs, version=version, synthetic=synthetic)
    return DatasetCard.from_template(
        data,
        template_path=str(TEMPLATE),
        version=version,
        revision=f"v{version}",
        synthetic=synthetic,
        repo_id=repo_id,
        default_config=defaults[0],
        tables=tables,
        examples={task: _example_json(stats.example(task), task) for task in schema.TASKS},
        total_images=stats.distinct_images,
        total_texts=sum(sum(c.values()) for c in stats.texts.values()),
        rules=_labelling_rules(),
        prompts={"caption": schema.CAPTION_PROMPT, "vqa": schema.VQA_PROMPT, **schema.CLASS_PROMPTS},
        sarvqa1_classes=", ".join(schema.SARVQA1_CLASSES),
        land_cover=", ".join(schema.LAND_COVER_CLASSES),
        non_commercial=[s.title for s in schema.SOURCES.values() if s.name != "unknown" and not s.commercial_use],
        unknown_images=stats.sources["vqa"]["unknown"]["images"] + stats.sources["captions"]["unknown"]["images"],
        viewer_problems=[(c.config, c.split, c.problems()) for c in checks if not c.fits],
        viewer={
            "page_rows": viewer.PAGE_ROWS,
            "response_limit": f"{viewer.RESPONSE_MAX_BYTES:,} bytes",
            "scan_limit": f"{viewer.SCAN_MAX_BYTES:,} bytes",
            "group_rows": viewer.IMAGE_ROW_GROUP_ROWS,
            "repository": viewer.VIEWER_REPOSITORY,
            "commit": viewer.VIEWER_COMMIT,
        },
        build_report=build_report,
        changelog=changelog_until(version, entries),
        changelog_has_version=any(Version(e.version) == Version(version) for e in entries),
        citation=citation(),
        paper_url=PAPER_URL,
        authors_repo=AUTHORS_REPO_URL,
        sample_grid=sample_grid if stats.distinct_images else None,
        croissant_file=schema.CROISSANT_FILE,
        manifest_file=schema.MANIFEST_FILE,
        report_file=schema.REPORT_FILE,
    )


def write_card(release: str | Path, **options: Any) -> Path:
    """Render the card of `release` (keyword arguments of `render_card`) and write it as README.md."""
    path = Path(release) / schema.CARD_FILE
    path.write_text(str(render_card(release, **options)).rstrip("\n") + "\n", encoding="utf-8")
    return path
