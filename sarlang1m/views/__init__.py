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

Parts: `class_prompts` (the authors' rules), `flatten` (one image row -> its examples; the streaming
flatten), `index` (`PairsView`, the map-style view). This module holds `pairs`, which picks between them.
"""

from __future__ import annotations

from typing import Any

import datasets

from .. import schema
from .class_prompts import class_prompt_for, class_prompts_default, resolve_class_prompts, with_class_prompt
from .flatten import (
    ANSWER_TYPE,
    QUESTION_RAW,
    TEXT_FIELDS,
    FlattenBatch,
    flatten_row,
    pair_features,
    require_image_id,
    task_of,
    text_fields,
)
from .index import PairsView

__all__ = [
    "ANSWER_TYPE",
    "QUESTION_RAW",
    "TEXT_FIELDS",
    "FlattenBatch",
    "PairsView",
    "class_prompt_for",
    "class_prompts_default",
    "flatten_row",
    "pair_features",
    "pairs",
    "resolve_class_prompts",
    "task_of",
    "text_fields",
    "with_class_prompt",
]


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
    require_image_id(list(dataset.features), task)
    prompts = resolve_class_prompts(class_prompts, task=task, config=config)
    # Typed by a cast, not by map(features=...): datasets 4.0-4.6 cannot filter() a stream whose last map
    # was typed ("'NoneType' object is not a mapping", fixed in 4.7); the cast types it alike on every version.
    flattened = dataset.map(
        FlattenBatch(task, class_prompts=prompts),
        batched=True,
        batch_size=batch_size,
        remove_columns=list(dataset.features),
    )
    return flattened.cast(pair_features(dataset.features, task))
