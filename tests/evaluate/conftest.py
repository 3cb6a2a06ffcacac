"""A tiny synthetic release (hand-written texts, no images) for the evaluation tests.

It has the layout and columns of a real release (`schema.FEATURES`, `data/<task>/.../<split>-*.parquet`
partitions, a README whose `configs:` lists the data files), so the tests read it with plain
`datasets.load_dataset` exactly as a published release is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import datasets
import pytest
import yaml

from sarlang1m.schema import CARD_FILE, FEATURES, TEXT_COLUMN, config_specs, local_text_id, partition_dir, shard_name

# Synthetic questions: (id, question, answer, application, subtype, answer_type), the answer type being the one
# `sarlang1m.raw.classify.answer_type` derives (rows do not store it). Ids are the global ones
# predictions are keyed by, <image_id>-<id>; rows store the part after the image id (`_full_row`).
SYNTHETIC_VQA: list[dict[str, Any]] = [
    {
        "image_id": "0000001",
        "source": "sardet_100k",
        "tier": "mixed",
        "subset": "sarvqa1",
        "qa": [
            ("0000001-q1", "Is there a ship in the image?", "Yes", "object_identification", None, "yes_no"),
            ("0000001-q2", "How many ships are there?", "2", "instance_counting", None, "number"),
            (
                "0000001-q3",
                "What is the object at [56.0, 191.0, 112.0, 122.0]?",
                "ship",
                "region_referring",
                None,
                "category",
            ),
        ],
    },
    {
        "image_id": "SN6_Rotterdam_0001",
        "source": "spacenet6",
        "tier": "vhr",
        "subset": "sarvqa2",
        "qa": [
            (
                "SN6_Rotterdam_0001-q4",
                "What is the main land use?",
                "playground",
                "object_classification",
                None,
                "category",
            ),
            (
                "SN6_Rotterdam_0001-q5",
                "Where is the largest building?",
                "top left",
                "object_positioning",
                None,
                "position",
            ),
            ("SN6_Rotterdam_0001-q6", "Is there a pond?", "no", "object_identification", None, "yes_no"),
        ],
    },
    {
        "image_id": "France_Alpes-Maritimes_Nice_3",
        "source": "openearthmap_sar",
        "tier": "vhr",
        "subset": "sarvqa2",
        "qa": [
            (
                "France_Alpes-Maritimes_Nice_3-q7",
                "What shape is the pool?",
                "It is a long rectangle next to the house.",
                "others",
                "shape",
                "free_text",
            )
        ],
    },
]

# Synthetic captions: (id, text, style)
SYNTHETIC_CAPTIONS: list[dict[str, Any]] = [
    {
        "image_id": "SN6_Rotterdam_0001",
        "source": "spacenet6",
        "tier": "vhr",
        "captions": [
            ("SN6_Rotterdam_0001-c1", "A dense residential area with many buildings.", "concise"),
            (
                "SN6_Rotterdam_0001-c2",
                "The image shows a dense residential area in Rotterdam with rows of buildings, "
                "narrow streets and a canal running through the middle.",
                "detailed",
            ),
        ],
    },
    {
        "image_id": "France_Alpes-Maritimes_Nice_3",
        "source": "openearthmap_sar",
        "tier": "vhr",
        "captions": [
            ("France_Alpes-Maritimes_Nice_3-c3", "A harbour with several boats.", "concise"),
            (
                "France_Alpes-Maritimes_Nice_3-c4",
                "A coastal scene with a harbour holding several boats, a pier on the left and "
                "buildings along the shore.",
                "detailed",
            ),
            ("France_Alpes-Maritimes_Nice_3-c5", "A harbour next to a town.", "concise"),
        ],
    },
    {
        "image_id": "SV_Darwin_-12.4278_130.8688",
        "source": "dfc2023",
        "tier": "high",
        "captions": [("SV_Darwin_-12.4278_130.8688-c6", "An airport with a long runway and two aircraft.", "concise")],
    },
]


def _full_row(task: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A row with every column of the task's features; columns the tests do not need are null."""
    row: dict[str, Any] = dict.fromkeys(FEATURES[task])
    row.update({k: v for k, v in spec.items() if k not in ("qa", "captions")})
    # texts are stored column-wise: one list per field, item i of each list for text i
    if task == "vqa":
        fields = ("id", "question", "answer", "application", "subtype")
        row["qa"] = {field: [qa[i] for qa in spec["qa"]] for i, field in enumerate(fields)}
        row["qa"]["bbox"] = [[] for _ in spec["qa"]]
    else:
        fields = ("id", "text", "style")
        row["captions"] = {field: [c[i] for c in spec["captions"]] for i, field in enumerate(fields)}
    texts = row[TEXT_COLUMN[task]]
    texts["id"] = [local_text_id(spec["image_id"], text_id) for text_id in texts["id"]]
    return row


def write_release(
    root: Path,
    vqa: Sequence[dict[str, Any]] = SYNTHETIC_VQA,
    captions: Sequence[dict[str, Any]] = SYNTHETIC_CAPTIONS,
    split: str = "test",
) -> Path:
    """Write the rows as one shard per partition and a README listing the configs that have data."""
    partitions: set[str] = set()
    for task, specs in (("vqa", vqa), ("captions", captions)):
        groups: dict[str, list[dict[str, Any]]] = {}
        for spec in specs:
            folder = partition_dir(task, spec["tier"], spec.get("subset"))
            groups.setdefault(folder, []).append(_full_row(task, spec))
        for folder, rows in groups.items():
            (root / folder).mkdir(parents=True, exist_ok=True)
            datasets.Dataset.from_list(rows, features=FEATURES[task]).to_parquet(
                str(root / folder / shard_name(split, 0, 1))
            )
            partitions.add(folder)
    configs = []
    for spec in config_specs():
        if any(spec.includes(p) for p in partitions):
            entry: dict[str, Any] = {"config_name": spec.name}
            if spec.default:
                entry["default"] = True
            entry["data_files"] = [{"split": split, "path": spec.split_glob(split)}]
            configs.append(entry)
    card = "---\n" + yaml.safe_dump({"configs": configs}, sort_keys=False) + "---\n# Synthetic release\n"
    (root / CARD_FILE).write_text(card, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic release, written once per test session."""
    return write_release(tmp_path_factory.mktemp("release") / "sarlang-1m")


@pytest.fixture
def labelled_answer_types() -> dict[str, str]:
    """Global question id -> the answer type written by hand beside each synthetic question."""
    return {qa[0]: qa[5] for row in SYNTHETIC_VQA for qa in row["qa"]}


@pytest.fixture
def synthetic_captions() -> list[dict[str, Any]]:
    """The captions the synthetic release holds, image by image."""
    return SYNTHETIC_CAPTIONS


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[[Sequence[Any], str], Path]:
    """Write lines to a JSONL file: dicts are JSON-encoded, strings are written as they are."""
    import json

    def write(lines: Sequence[Any], name: str = "predictions.jsonl") -> Path:
        path = tmp_path / name
        text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_release(tmp_path: Path) -> Callable[..., Path]:
    """Write another synthetic release (keyword arguments of `write_release`), in a folder of this test."""

    def make(name: str = "other", **rows: Any) -> Path:
        root = tmp_path / name / "sarlang-1m"
        root.mkdir(parents=True)
        return write_release(root, **rows)

    return make
