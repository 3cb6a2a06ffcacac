"""`PairsView`: one example per text of a map-style dataset, by index, without copying image bytes.

The index is two integer arrays, (row, position in its text list), built from the nested text column
alone: no image is read or decoded to build it. An example is fetched on access, through the underlying
dataset's format and transform, so a transform (e.g. SAR decoding) runs on the one row it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import datasets
import numpy as np
import pyarrow.compute as pc

from .. import schema
from .class_prompts import PROMPTED_SUBSET, resolve_class_prompts
from .flatten import TEXT_FIELDS, pair_features, require_image_id, task_of, text_fields

#: Rows read at a time while indexing a map-style dataset (bounds the memory of the index build).
_INDEX_BATCH_ROWS = 10_000


class PairsView:
    """One example per text of a map-style dataset of image rows, by index; nothing is copied.

    ``view[i]`` reads row ``rows[i]`` of the underlying dataset (through its format and transform, so a
    transform decodes just that row) and text ``positions[i]`` of it. ``__getitems__`` fetches the rows of
    a whole DataLoader batch at once (each row once). Picklable: the underlying dataset pickles by
    reference to its memory-mapped files, the index is two integer arrays.
    """

    def __init__(
        self,
        dataset: datasets.Dataset,
        *,
        task: str,
        class_prompts: bool,
        rows: np.ndarray,
        positions: np.ndarray,
        sarvqa1_rows: np.ndarray | None = None,
        transform: Callable[[dict[str, list[Any]]], dict[str, list[Any]]] | None = None,
    ) -> None:
        if len(rows) != len(positions):
            raise ValueError(f"index arrays differ in length: {len(rows)} rows, {len(positions)} positions")
        self.dataset = dataset
        self.task = task
        self.class_prompts = class_prompts
        self.rows = rows
        self.positions = positions
        #: bool per underlying row, True for SARVQA1 (only kept when class prompts are on).
        self.sarvqa1_rows = sarvqa1_rows
        self.transform = transform
        self.text_column = schema.TEXT_COLUMN[task]
        # The texts and their image's id (which a text's global id starts with) alone, without the dataset's
        # transform: a transform may drop or rename columns.
        require_image_id(dataset.column_names, task)
        self._texts = dataset.with_format(None).select_columns(["image_id", self.text_column])

    @classmethod
    def build(
        cls, dataset: datasets.Dataset, *, config: str | None = None, class_prompts: bool | None = None
    ) -> PairsView:
        """Index `dataset` from its text column (and ``subset``), in bounded batches, decoding nothing."""
        task = task_of(dataset.column_names)
        text_column = schema.TEXT_COLUMN[task]
        columns = [text_column] + (["subset"] if "subset" in dataset.column_names else [])
        arrow = dataset.with_format("arrow").select_columns(columns)
        lengths, subsets = [], []
        for table in arrow.iter(batch_size=_INDEX_BATCH_ROWS):
            # texts are column-wise (one list per field): an image's count is the length of its `id` list
            ids = pc.struct_field(table[text_column], "id")
            lengths.append(pc.list_value_length(ids).fill_null(0).to_numpy(zero_copy_only=False))
            if "subset" in columns:
                subsets.append(table["subset"].to_numpy(zero_copy_only=False))
        counts = np.concatenate(lengths).astype(np.int64) if lengths else np.zeros(0, np.int64)
        subset_values = np.concatenate(subsets).astype(object) if subsets else None
        present = set(subset_values.tolist()) if subset_values is not None else None
        prompts = resolve_class_prompts(class_prompts, task=task, config=config, subsets=present)
        rows = np.repeat(np.arange(len(counts), dtype=_index_dtype(len(counts))), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        positions = (np.arange(len(rows), dtype=np.int64) - starts).astype(_index_dtype(int(counts.max(initial=0))))
        sarvqa1_rows = (subset_values == PROMPTED_SUBSET) if (prompts and subset_values is not None) else None
        return cls(dataset, task=task, class_prompts=prompts, rows=rows, positions=positions, sarvqa1_rows=sarvqa1_rows)

    # -- the torch map-style protocol

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        """Example `index` (negative counts from the end); a slice gives a list of examples."""
        if isinstance(index, slice):
            return self._examples(range(*index.indices(len(self))))
        if not isinstance(index, int | np.integer):
            raise TypeError(f"a PairsView is indexed by an int or a slice, got {type(index).__name__}")
        return self._examples([index])[0]

    def __getitems__(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        """The examples of a DataLoader batch; each underlying row is fetched (and transformed) once."""
        return self._examples(indices)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, len(self), 256):
            yield from self._examples(range(start, min(start + 256, len(self))))

    def __repr__(self) -> str:
        return (
            f"PairsView(task={self.task!r}, examples={len(self)}, images={self.dataset.num_rows}, "
            f"class_prompts={self.class_prompts})"
        )

    # -- what a user of a Dataset expects

    @property
    def features(self) -> datasets.Features:
        return pair_features(self.dataset.features, self.task)

    @property
    def column_names(self) -> list[str]:
        return list(self.features)

    def location(self, index: int) -> tuple[int, int]:
        """(row of the underlying dataset, position in its text list) of example `index`."""
        index = self._check_index(index)
        return int(self.rows[index]), int(self.positions[index])

    def with_transform(self, transform: Callable[[dict[str, list[Any]]], dict[str, list[Any]]] | None):
        """A view whose examples go through `transform` (a batch dict -> batch dict), lazily, on access.

        As `datasets.Dataset.with_transform`, but on pair examples: the transform sees ``question``,
        ``answer``, ... next to the image columns. Transforms set on the underlying dataset before
        `pairs` run on image rows instead.
        """
        return self._replace(transform=transform)

    def cast_column(self, column: str, feature: Any) -> PairsView:
        """Cast a column of the image rows (e.g. ``image`` to ``Image(decode=False)``); the index is kept."""
        if column in TEXT_FIELDS[self.task]:
            raise ValueError(f"{column!r} is a field of the texts; only the image row's columns can be cast")
        return self._replace(dataset=self.dataset.cast_column(column, feature))

    def _replace(self, **changes: Any) -> PairsView:
        arguments = {
            "dataset": self.dataset,
            "task": self.task,
            "class_prompts": self.class_prompts,
            "rows": self.rows,
            "positions": self.positions,
            "sarvqa1_rows": self.sarvqa1_rows,
            "transform": self.transform,
        }
        return PairsView(**{**arguments, **changes})

    # -- fetching

    def _check_index(self, index: int) -> int:
        size = len(self)
        position = int(index) + size if int(index) < 0 else int(index)
        if not 0 <= position < size:
            raise IndexError(f"example index {index} out of range for a view of {size} examples")
        return position

    def _examples(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        positions = [self._check_index(i) for i in indices]
        if not positions:
            return []
        rows = [int(self.rows[p]) for p in positions]
        unique_rows = list(dict.fromkeys(rows))
        fetched = _as_rows(self.dataset[unique_rows], len(unique_rows))
        stored = self._texts[unique_rows]
        texts, image_ids = stored[self.text_column], stored["image_id"]
        by_row = {
            row: (
                {key: value for key, value in fetched[k].items() if key != self.text_column},
                schema.text_records(self.task, texts[k], image_id=image_ids[k]),
            )
            for k, row in enumerate(unique_rows)
        }
        examples = []
        for position, row in zip(positions, rows, strict=True):
            image_part, row_texts = by_row[row]
            subset = PROMPTED_SUBSET if (self.sarvqa1_rows is not None and self.sarvqa1_rows[row]) else None
            text = row_texts[int(self.positions[position])]
            examples.append(
                {**image_part, **text_fields(text, self.task, subset=subset, class_prompts=self.class_prompts)}
            )
        if self.transform is None:
            return examples
        return _as_rows(self.transform(_as_batch(examples)), len(examples))


def _index_dtype(largest: int) -> type[np.int32] | type[np.int64]:
    return np.int32 if largest < 2**31 - 1 else np.int64


def _as_rows(batch: Mapping[str, Sequence[Any]], size: int) -> list[dict[str, Any]]:
    """A batch (column -> values) as a list of rows, checking every column has one value per row."""
    for name, values in batch.items():
        if len(values) != size:
            raise ValueError(f"column {name!r} has {len(values)} values for a batch of {size} examples")
    return [{name: values[i] for name, values in batch.items()} for i in range(size)]


def _as_batch(examples: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    return {name: [example[name] for example in examples] for name in examples[0]}
