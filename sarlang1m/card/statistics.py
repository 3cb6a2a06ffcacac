"""What a written release holds, counted from its Parquet files: the figures of the card's body.

Every figure is read back from the written Parquet files (text and metadata columns only, never the
image bytes; the viewer check of `viewer.py` reads the other cells of two pages per split), so the card
describes what was published, not what the build meant to write.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import schema
from ..errors import ReleaseError
from ..raw.classify import answer_type

#: Word-count buckets of the text-length histograms: (label, smallest count in the bucket).
LENGTH_BUCKETS = (("1", 1), ("2-3", 2), ("4-7", 4), ("8-15", 8), ("16-31", 16), ("32-63", 32), ("64+", 64))
_BINARY_COLUMNS = ("image",)


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
    #: task -> source -> {"images", "texts", "with_sar"} (rows of that task)
    sources: dict[str, dict[str, Counter]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    #: source -> ids of its images with an original GeoTIFF, over both tasks (an image counts once)
    with_sar: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
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
    bytes (the originals are files no config lists), so memory stays flat and the paper-scale release takes
    seconds.
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
    fields = _text_fields(table, task)
    texts_per_row = fields.pop(_COUNT)
    stats.images[task][split] += table.num_rows
    stats.texts[task][split] += int(texts_per_row.sum())
    image_ids = table["image_id"].to_pylist()
    stats.image_ids[split].update(image_ids)
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
        if with_sar[row]:
            stats.with_sar[source].add(image_ids[row])
        if (subset := subsets[row]) is not None:
            stats.subsets[subset][split]["images"] += 1
            stats.subsets[subset][split]["texts"] += texts
        if task == "vqa":  # every image has questions: count its size and place once, from the VQA rows
            stats.sizes[source][f"{widths[row]}x{heights[row]}"] += 1
            if locations[row]:
                stats.locations[source].add(locations[row])
    if task == "vqa":
        _add_questions(stats, split, fields)
    else:
        _add_captions(stats, split, fields)
    _consider_example(stats, task, split, table, with_sar, position)


#: The key of `_text_fields` that holds the number of texts per row.
_COUNT = "(count)"


def _text_fields(table: pa.Table, task: str) -> dict[str, Any]:
    """The batch's column-wise texts as one flat Arrow array per field (every text of the batch, in order),
    plus `_COUNT`: the texts per row. Fields that hold different numbers of texts in a row are an error
    naming the row (the check `schema.text_records` makes, vectorised: a release is read whole here)."""
    column = table[schema.TEXT_COLUMN[task]]
    names = [column.type.field(i).name for i in range(column.type.num_fields)]
    fields = {name: pc.struct_field(column, name) for name in names}
    lengths = {name: pc.fill_null(pc.list_value_length(values), 0).to_numpy() for name, values in fields.items()}
    counts = lengths["id"]
    for name, length in lengths.items():
        if (bad := np.flatnonzero(length != counts)).size:
            row = int(bad[0])
            raise ReleaseError(
                f"row {table['image_id'][row].as_py()!r}: {schema.TEXT_COLUMN[task]}.{name} holds {length[row]}"
                f" values for {counts[row]} texts; every field needs one value per text: rebuild the release"
            )
    return {_COUNT: counts, **{name: pc.list_flatten(values) for name, values in fields.items()}}


def _add_questions(stats: ReleaseStatistics, split: str, qa: dict[str, Any]) -> None:
    applications = qa["application"]
    for application, count in _value_counts(applications).items():
        stats.applications[application][split] += count
    stats.subtypes.update(_value_counts(qa["subtype"]))
    kinds = Counter(  # derived from the answers, as pairs and the evaluator derive them (rows do not store it)
        (application, None if answer is None or application is None else answer_type(answer, application, subtype))
        for answer, application, subtype in zip(
            qa["answer"].to_pylist(), applications.to_pylist(), qa["subtype"].to_pylist(), strict=True
        )
    )
    for (application, kind), count in kinds.items():
        stats.answer_types[_label(application)][_label(kind)] += count
    stats.lengths["question"].add(_word_counts(qa["question"]))
    stats.lengths["answer"].add(_word_counts(qa["answer"]))


def _add_captions(stats: ReleaseStatistics, split: str, captions: dict[str, Any]) -> None:
    styles = captions["style"]
    for style, count in _value_counts(styles).items():
        stats.caption_styles[split][style] += count
    words = _word_counts(captions["text"])
    style_names = np.asarray([_label(s) for s in styles.to_pylist()], dtype=object)
    for style in set(style_names):
        stats.lengths[f"caption_{style}"].add(words[style_names == style])


def _label(value: str | None) -> str:
    return "(none)" if value is None else value


def _value_counts(values: pa.ChunkedArray | pa.Array) -> Counter:
    """Occurrences of each value, nulls counted under "(none)"."""
    counts: Counter = Counter()
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
    candidates: list[tuple[tuple, int | None]] = [((split != "train", True, *position, 0), 0)]
    if first_with_sar is not None:
        candidates.append(((split != "train", False, *position, first_with_sar), first_with_sar))
    if task in stats.examples:
        candidates.append((stats.examples[task][0], None))
    priority, row = min(candidates, key=lambda candidate: candidate[0])
    if row is not None:
        stats.examples[task] = (priority, table.slice(row, 1).to_pylist()[0])
