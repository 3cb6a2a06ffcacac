"""The texts of an image: the fields of a caption and of a question, stored column-wise, and text ids.

The texts of an image are stored column-wise, a struct of lists (as SQuAD stores `answers`):
``qa = {"id": [...], "question": [...], ...}``, one list per field, item i of every list belonging to
text i. Stored as a list of records, each text would repeat its field names in every JSON response of
the Dataset Viewer, about a third of a question's bytes; `text_records` turns a row's texts back
into one dict per text.

A stored text id is local to its image (``q`` or ``c`` and a hash, e.g. ``q1d4ee82dd``): repeating the
image id in every text would cost about a fifth of a VQA row in the viewer. The id users see and write
(pairs, exports, references, predictions files, the build report) is the global one, `text_id`.

Rows hold what the authors' release says and where it came from, not what can be computed from it:
a question's answer type (`sarlang1m.raw.classify.answer_type`, from its answer) and an image's
SHA-256 (the MANIFEST checks every shard's bytes) would cost about a tenth of a VQA row in the viewer,
which pushed the preview of the largest configs over its response limit. Pairs and the evaluator
still give each question its ``answer_type``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import datasets

from ..errors import ReleaseError

#: The fields of one caption and of one question, with the type of one value.
CAPTION_FIELDS = {
    "id": datasets.Value("string"),
    "text": datasets.Value("string"),
    "style": datasets.Value("string"),
}
QA_FIELDS = {
    "id": datasets.Value("string"),
    "question": datasets.Value("string"),
    "answer": datasets.Value("string"),
    "application": datasets.Value("string"),
    "subtype": datasets.Value("string"),
    "bbox": datasets.List(datasets.Value("float32")),
}
_TEXT_FIELDS = {"captions": CAPTION_FIELDS, "vqa": QA_FIELDS, "qa": QA_FIELDS}


def text_id(image_id: str, local_id: str) -> str:
    """The global id of a text: its image's id, a hyphen, and its id within the image (``qa.id``, ``captions.id``).

    The one place that composes it: views, exports, the evaluator's references and the build report all
    name a text by this string, and predictions files are keyed by it.
    """
    return f"{image_id}-{local_id}"


def local_text_id(image_id: str, global_id: str) -> str:
    """The inverse of `text_id`: the id stored in a row, from the global id of a text of image `image_id`."""
    prefix = text_id(image_id, "")
    if not global_id.startswith(prefix) or len(global_id) == len(prefix):
        raise ValueError(f"text id {global_id!r} is not of image {image_id!r} (expected {prefix!r} and a local id)")
    return global_id[len(prefix) :]


def text_count(task_or_column: str, texts: Mapping[str, Sequence[Any]] | None, *, row: object = None) -> int:
    """How many texts a row's column-wise texts hold, after the shape checks of `text_records` (which see);
    cheap enough for the build, which counts every row's texts."""
    if task_or_column not in _TEXT_FIELDS:
        raise ValueError(f"unknown task or text column {task_or_column!r}; expected one of {list(_TEXT_FIELDS)}")
    if texts is None:
        return 0
    where = f"row {row!r}: " if row is not None else ""
    if not isinstance(texts, Mapping):
        raise ReleaseError(
            f"{where}{task_or_column!r} is a {type(texts).__name__}, not the column-wise mapping of field -> list"
            f" of values this package writes (fields {list(_TEXT_FIELDS[task_or_column])}); rebuild the release"
            " with this version of sarlang1m"
        )
    unknown = sorted(set(texts) - set(_TEXT_FIELDS[task_or_column]))
    if unknown:
        raise ReleaseError(
            f"{where}{task_or_column!r} has unknown field(s) {unknown}; expected {list(_TEXT_FIELDS[task_or_column])}"
        )
    lengths = {name: len(values) if values is not None else 0 for name, values in texts.items()}
    if len(set(lengths.values())) > 1:
        raise ReleaseError(
            f"{where}the fields of {task_or_column!r} hold different numbers of texts {lengths}; every field"
            " needs one value per text: rebuild the release or fix the row"
        )
    return next(iter(lengths.values()), 0)


def text_records(
    task_or_column: str,
    texts: Mapping[str, Sequence[Any]] | None,
    *,
    image_id: str | None = None,
    row: object = None,
) -> list[dict]:
    """A row's column-wise texts (``qa`` or ``captions``) as one dict per text, in order.

    `task_or_column` is ``vqa``/``qa`` or ``captions``; `texts` the row's value (None: no texts). With the
    row's `image_id`, each dict's ``id`` is the text's global id (`text_id`), the one users see and key
    predictions by; without it, the id as stored, unique only within the image (for code that counts
    texts or writes them back, e.g. with `text_columns`). `row` names the row in errors when `image_id` is
    not given. A field absent from `texts` is absent from the dicts. Lists of different lengths, an unknown
    field, or texts stored as a list of records (the layout of builds before the column-wise one) are a
    `ReleaseError` naming the row.
    """
    count = text_count(task_or_column, texts, row=image_id if image_id is not None else row)
    if texts is None or not count:
        return []
    columns = {name: values if values is not None else () for name, values in texts.items()}
    if image_id is not None and "id" in columns:
        columns["id"] = [text_id(image_id, local) if local is not None else None for local in columns["id"]]
    return [{name: values[i] for name, values in columns.items()} for i in range(count)]


def text_columns(task_or_column: str, records: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The inverse of `text_records`: per-text dicts (missing fields as None) as a row's column-wise texts."""
    if task_or_column not in _TEXT_FIELDS:
        raise ValueError(f"unknown task or text column {task_or_column!r}; expected one of {list(_TEXT_FIELDS)}")
    return {name: [record.get(name) for record in records] for name in _TEXT_FIELDS[task_or_column]}
