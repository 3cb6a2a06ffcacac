"""One image row as one example per text: the fields and features of a pair example, and the streaming flatten.

An example is the image row's columns (the nested text column left out) followed by the fields of one
text; its ``id`` is the text's global id (`schema.text_id`). `PairsView` (map-style) and the batched
``map`` of a stream (`FlattenBatch`) both build examples with `text_fields`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import datasets

from .. import schema
from ..raw.classify import question_answer_type
from .class_prompts import class_prompt_for, with_class_prompt

#: The question as released, before any class prompt is prepended.
QUESTION_RAW = "question_raw"
#: A question's answer type, derived from its answer (`sarlang1m.raw.classify.answer_type`); rows do not store it.
ANSWER_TYPE = "answer_type"
#: Fields of one text in a pair example, per task (the image row's own fields come first).
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "vqa": (*schema.QA_FIELDS, ANSWER_TYPE, QUESTION_RAW),
    "captions": tuple(schema.CAPTION_FIELDS),
}


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
        fields[ANSWER_TYPE] = question_answer_type(text)
        question = fields[QUESTION_RAW] = text.get("question")
        if class_prompts and question is not None:
            fields["question"] = with_class_prompt(question, class_prompt_for(text, subset))
    return fields


def require_image_id(columns: Sequence[str], task: str) -> None:
    """Refuse a dataset without ``image_id`` before any row is read: a text's global id starts with it."""
    if "image_id" not in columns:
        raise ValueError(
            f"no 'image_id' column in {list(columns)}: a text's id is <image_id>-<{schema.TEXT_COLUMN[task]}.id>;"
            " keep the image_id column"
        )


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
