"""One example per question (or caption), without copying image bytes.

A release stores one row per image with its texts nested (``qa`` or ``captions``), so that an image's
bytes are stored once. Training and evaluation want one example per text. `pairs` gives that view:

- map-style (`datasets.Dataset`): a `PairsView`, an index of (row, position) built from the nested text
  column alone (no image is read or decoded to build it), with O(1) random access. It works with
  ``torch.utils.data.DataLoader(shuffle=True)``; the underlying dataset's transform (e.g. SAR decoding)
  runs lazily on the one row an example needs.
- streaming (`datasets.IterableDataset`): a batched ``map`` that flattens each image row, so that
  ``shuffle``, ``split_dataset_by_node`` and ``state_dict`` resume keep working.

Class prompts. The authors tell users who mix SARVQA1 and SARVQA2 to prepend the closed vocabulary of
SARVQA1 to its questions (`schema.CLASS_PROMPTS`): the position words for positioning and direction
questions, the six classes for the others. `pairs` does so by default for configs that mix both subsets
(``vqa`` and the tier configs) and not for ``sarvqa1``/``sarvqa2`` alone; ``class_prompts=`` switches it.
The question as released is always kept in ``question_raw``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import datasets
import numpy as np
import pyarrow.compute as pc

from . import schema
from .errors import InputError
from .raw.classify import answer_type

#: The question as released, before any class prompt is prepended.
QUESTION_RAW = "question_raw"
#: A question's answer type, derived from its answer (`sarlang1m.raw.classify.answer_type`); rows do not store it.
ANSWER_TYPE = "answer_type"
#: Fields of one text in a pair example, per task (the image row's own fields come first).
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "vqa": (*schema.QA_FIELDS, ANSWER_TYPE, QUESTION_RAW),
    "captions": tuple(schema.CAPTION_FIELDS),
}
_SARVQA1 = "sarvqa1"
#: Rows read at a time while indexing a map-style dataset (bounds the memory of the index build).
_INDEX_BATCH_ROWS = 10_000


# ----------------------------------------------------------------------------------------- class prompts


def class_prompt_for(text: Mapping[str, Any], subset: str | None) -> str | None:
    """The class prompt the authors prescribe for one SARVQA1 question, None for any other question.

    Positioning questions, and direction questions (answered with position words), get the position
    vocabulary; every other SARVQA1 question gets the six object classes.
    """
    if subset != _SARVQA1:
        return None
    if (
        text.get("application") == "object_positioning"
        or text.get("subtype") == "direction"
        or _answer_type(text) == "position"
    ):
        return schema.CLASS_PROMPTS["positions"]
    return schema.CLASS_PROMPTS["classes"]


def _answer_type(text: Mapping[str, Any]) -> str | None:
    answer, application = text.get("answer"), text.get("application")
    if answer is None or application is None:
        return text.get(ANSWER_TYPE)
    return answer_type(answer, application, text.get("subtype"))


def with_class_prompt(question: str, prompt: str | None) -> str:
    """The question with its class prompt in front (unchanged when there is none)."""
    return question if prompt is None else f"{prompt} {question}"


def class_prompts_default(config: str) -> bool:
    """On for VQA configs that can mix SARVQA1 and SARVQA2, off for a single subset and for captions."""
    spec = schema.config_spec(config)
    return spec.task == "vqa" and spec.subset is None


def resolve_class_prompts(
    class_prompts: bool | None, *, task: str, config: str | None, subsets: set[str] | None = None
) -> bool:
    """Whether to prepend class prompts: the caller's choice, else the config's default, else the data's.

    Without a config, `subsets` (the subsets present, when known) decides: on only when both are there.
    When neither is known (a stream without a config name), prompts are on: they only touch SARVQA1
    questions, and a model trained on a mix needs them.
    """
    if task != "vqa":
        if class_prompts:
            raise InputError("class prompts apply to VQA questions, not to captions: leave out --class-prompts")
        return False
    if class_prompts is not None:
        return bool(class_prompts)
    if config is not None:
        return class_prompts_default(config)
    if subsets is not None:
        return {s for s in subsets if s} >= set(schema.SUBSETS)
    return True


# ----------------------------------------------------------------------------------- one row -> pairs


def task_of(columns: Sequence[str] | None) -> str:
    """``vqa`` or ``captions``, from the nested text column a dataset has."""
    found = [task for task, column in schema.TEXT_COLUMN.items() if columns and column in columns]
    if len(found) != 1:
        expected = " or ".join(repr(c) for c in schema.TEXT_COLUMN.values())
        raise ValueError(f"expected exactly one nested text column ({expected}); the dataset has {columns}")
    return found[0]


def pair_features(features: datasets.Features, task: str) -> datasets.Features:
    """Features of a pair example: the image row's columns, then the fields of one text."""
    text_column = schema.TEXT_COLUMN[task]
    if text_column not in features:
        raise ValueError(f"no {text_column!r} column in features {list(features)}")
    image_part = {name: feature for name, feature in features.items() if name != text_column}
    text_part = dict(schema.QA_FIELDS if task == "vqa" else schema.CAPTION_FIELDS)
    clashes = sorted(set(image_part) & set(TEXT_FIELDS[task]))
    if clashes:
        raise ValueError(f"image columns {clashes} clash with the fields of a {task} text")
    if task == "vqa":
        text_part[ANSWER_TYPE] = datasets.Value("string")
        text_part[QUESTION_RAW] = datasets.Value("string")
    return datasets.Features({**image_part, **{name: text_part[name] for name in TEXT_FIELDS[task]}})


def text_fields(text: Mapping[str, Any], task: str, *, subset: str | None, class_prompts: bool) -> dict[str, Any]:
    """The flattened fields of one text; for VQA, the question with its class prompt when asked for."""
    fields = {name: text.get(name) for name in TEXT_FIELDS[task] if name not in (QUESTION_RAW, ANSWER_TYPE)}
    if task == "vqa":
        fields[ANSWER_TYPE] = _answer_type(text)
        question = fields[QUESTION_RAW] = text.get("question")
        if class_prompts and question is not None:
            fields["question"] = with_class_prompt(question, class_prompt_for(text, subset))
    return fields


def flatten_row(row: Mapping[str, Any], task: str, *, class_prompts: bool) -> list[dict[str, Any]]:
    """One image row as one example per text; the image's values are shared, not copied.

    Each example's ``id`` is the text's global id (`schema.text_id`), so the row needs its ``image_id``.
    """
    text_column = schema.TEXT_COLUMN[task]
    if text_column not in row:
        raise KeyError(f"image {row.get('image_id', '?')!r}: no {text_column!r} field to flatten")
    if row.get("image_id") is None:
        raise KeyError(f"no 'image_id' field: a text's id is <image_id>-<{text_column}.id>; keep the image_id column")
    image_part = {key: value for key, value in row.items() if key != text_column}
    subset = row.get("subset")
    return [
        {**image_part, **text_fields(text, task, subset=subset, class_prompts=class_prompts)}
        for text in schema.text_records(task, row[text_column], image_id=row["image_id"])
    ]


class FlattenBatch:
    """Batched ``IterableDataset.map`` function: a batch of image rows -> a batch of pair examples.

    Picklable (a class, not a closure), so DataLoader workers can run it.
    """

    def __init__(self, task: str, *, class_prompts: bool) -> None:
        self.task = task
        self.class_prompts = class_prompts

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        text_column = schema.TEXT_COLUMN[self.task]
        columns = [*(name for name in batch if name != text_column), *TEXT_FIELDS[self.task]]
        rows = (dict(zip(batch, values, strict=True)) for values in zip(*batch.values(), strict=True))
        examples = [e for row in rows for e in flatten_row(row, self.task, class_prompts=self.class_prompts)]
        return {name: [example[name] for example in examples] for name in columns}


# ------------------------------------------------------------------------------------ map-style view


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
        if "image_id" not in dataset.column_names:
            raise ValueError(
                f"no 'image_id' column in {dataset.column_names}: a text's id is <image_id>-<{self.text_column}.id>;"
                " keep the image_id column"
            )
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
        sarvqa1_rows = (subset_values == _SARVQA1) if (prompts and subset_values is not None) else None
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
            subset = _SARVQA1 if (self.sarvqa1_rows is not None and self.sarvqa1_rows[row]) else None
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


# --------------------------------------------------------------------------------------- entry point


def pairs(
    dataset: datasets.Dataset | datasets.IterableDataset | datasets.DatasetDict | datasets.IterableDatasetDict,
    *,
    config: str | None = None,
    class_prompts: bool | None = None,
    batch_size: int = 64,
) -> PairsView | datasets.IterableDataset | dict[str, PairsView] | datasets.IterableDatasetDict:
    """One example per question (``vqa`` configs) or caption (``captions`` configs).

    Args:
        dataset: image rows of a release, map-style or streaming (or a dict of splits).
        config: the release config the rows come from; it sets the class-prompt default. When None, the
            dataset's ``info.config_name`` is used, else (map-style) the subsets present.
        class_prompts: prepend the authors' class prompt to SARVQA1 questions (see the module docstring);
            None: on for configs that mix SARVQA1 and SARVQA2. ``question_raw`` keeps the question as is.
        batch_size: image rows flattened per batch when streaming.

    Returns:
        a `PairsView` for a map-style dataset; a flattened `datasets.IterableDataset` for a stream; a dict
        of those for a dict of splits.
    """
    if isinstance(dataset, datasets.DatasetDict | datasets.IterableDatasetDict):
        views = {
            split: pairs(part, config=config, class_prompts=class_prompts, batch_size=batch_size)
            for split, part in dataset.items()
        }
        return datasets.IterableDatasetDict(views) if isinstance(dataset, datasets.IterableDatasetDict) else views
    config = config if config is not None else _config_name(dataset)
    if isinstance(dataset, datasets.Dataset):
        return PairsView.build(dataset, config=config, class_prompts=class_prompts)
    if isinstance(dataset, datasets.IterableDataset):
        return _flatten_stream(dataset, config=config, class_prompts=class_prompts, batch_size=batch_size)
    raise TypeError(f"pairs() takes a datasets Dataset or IterableDataset, got {type(dataset).__name__}")


def _config_name(dataset: Any) -> str | None:
    """The release config a dataset was loaded as, when `datasets` recorded a known one."""
    name = getattr(getattr(dataset, "info", None), "config_name", None)
    try:
        return schema.config_spec(name).name if name else None
    except ValueError:
        return None


def _flatten_stream(
    dataset: datasets.IterableDataset, *, config: str | None, class_prompts: bool | None, batch_size: int
) -> datasets.IterableDataset:
    if dataset.features is None:
        raise ValueError(
            "this stream's columns are unknown (e.g. after a map() without features=): "
            "flatten the stream as loaded, or pass features= to that map()"
        )
    task = task_of(list(dataset.features))
    if "image_id" not in dataset.features:
        raise ValueError(
            f"no 'image_id' column in {list(dataset.features)}: a text's id is"
            f" <image_id>-<{schema.TEXT_COLUMN[task]}.id>; keep the image_id column"
        )
    prompts = resolve_class_prompts(class_prompts, task=task, config=config)
    return dataset.map(
        FlattenBatch(task, class_prompts=prompts),
        batched=True,
        batch_size=batch_size,
        remove_columns=list(dataset.features),
        features=pair_features(dataset.features, task),
    )
