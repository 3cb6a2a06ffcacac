"""sarlang1m.views: one example per text, map-style (index view) and streaming (flatten), class prompts.

Expected values are read straight from the release's Parquet files with pyarrow, not through the code
under test. The releases are synthetic (tiny hand-made one, and one from `sarlang1m.synth`).
"""

from __future__ import annotations

import pickle
import re
from collections import Counter
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
import torch
from datasets.distributed import split_dataset_by_node

from sarlang1m import schema
from sarlang1m.raw.classify import answer_type
from sarlang1m.views import QUESTION_RAW, PairsView, pairs

CLASSES = schema.CLASS_PROMPTS["classes"]
POSITIONS = schema.CLASS_PROMPTS["positions"]


def parquet_texts(release: Path, config: str, split: str) -> list[dict]:
    """Every text of (config, split) with its image id and subset, in file and row order; ``id`` is the global
    id users key predictions by, the image id, a hyphen and the id the row stores (kept as ``local_id``)."""
    spec = schema.config_spec(config)
    column = schema.TEXT_COLUMN[spec.task]
    texts = []
    for path in sorted(release.glob(spec.split_glob(split))):
        names = ["image_id", column] + (["subset"] if spec.task == "vqa" else [])
        for row in pq.read_table(path, columns=names).to_pylist():
            fields = row[column]  # column-wise: item i of each field's list is text i
            for i in range(len(fields["id"])):
                text = {name: values[i] for name, values in fields.items()}
                text.update(id=f"{row['image_id']}-{text['id']}", local_id=text["id"])
                texts.append({**text, "image_id": row["image_id"], "subset": row.get("subset")})
    return texts


@pytest.fixture(scope="module")
def synth_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release built from a small synthetic raw release (every source, application and subtype)."""
    from sarlang1m.build.release import build_release
    from sarlang1m.synth import write_synthetic_release

    root = tmp_path_factory.mktemp("synth-views")
    write_synthetic_release(root / "raw", images=48, seed=3, image_size=24, progress=False)
    build_release(root / "raw", root / "release", progress=False)
    return root / "release"


def load_split(release: Path, config: str, split: str, streaming: bool = False):
    return datasets.load_dataset(str(release), config, split=split, streaming=streaming)


# ----------------------------------------------------------------------------------------- map-style


def test_map_style_view_has_one_example_per_question(tiny_release):
    expected = parquet_texts(tiny_release, "vqa", "train")
    view = pairs(load_split(tiny_release, "vqa", "train"))
    assert isinstance(view, PairsView)
    assert len(view) == len(expected) == 5
    got = {view[i]["id"]: view[i] for i in range(len(view))}
    assert set(got) == {t["id"] for t in expected}
    for text in expected:
        example = got[text["id"]]
        assert example["image_id"] == text["image_id"]
        assert example["answer"] == text["answer"]
        assert example[QUESTION_RAW] == text["question"]
        assert example["bbox"] == text["bbox"]
        assert "qa" not in example


def test_examples_carry_the_answer_type_the_rows_do_not_store(tiny_release):
    assert "answer_type" not in load_split(tiny_release, "vqa", "train").features["qa"]
    for streaming in (False, True):
        view = pairs(load_split(tiny_release, "vqa", "train", streaming=streaming))
        examples = list(view)
        assert examples and all(
            e["answer_type"] == answer_type(e["answer"], e["application"], e["subtype"]) for e in examples
        )
        assert {e["answer_type"] for e in examples} <= set(schema.ANSWER_TYPES)
        assert view.features["answer_type"] == datasets.Value("string")


def test_rows_store_ids_local_to_their_image_and_examples_carry_the_global_ones(tiny_release):
    for config in ("vqa", "captions"):
        kind = "q" if config == "vqa" else "c"
        for split in ("train", "test"):
            texts = parquet_texts(tiny_release, config, split)
            assert texts and all(re.fullmatch(kind + r"[0-9a-f]{10}", t["local_id"]) for t in texts)
            streamed = [e["id"] for e in pairs(load_split(tiny_release, config, split, streaming=True))]
            assert [e["id"] for e in pairs(load_split(tiny_release, config, split))] == streamed
            assert streamed == [t["id"] for t in texts]  # <image_id>-<id>, in file order


def test_rows_without_their_image_id_are_refused(tiny_release):
    """A text's global id starts with its image's id: a view of rows without it could only give local ids."""
    message = r"no 'image_id' column .*<image_id>-<qa.id>; keep the image_id column"
    with pytest.raises(ValueError, match=message):
        pairs(load_split(tiny_release, "vqa", "train").remove_columns("image_id"))
    with pytest.raises(ValueError, match=message):
        pairs(load_split(tiny_release, "vqa", "train", streaming=True).remove_columns("image_id"))


def test_view_covers_a_bigger_release_in_row_order(synth_release):
    expected = parquet_texts(synth_release, "vqa", "train")
    dataset = load_split(synth_release, "vqa", "train")
    view = pairs(dataset)
    assert [e["id"] for e in view] == [t["id"] for t in expected]  # one load = files in order
    assert view.location(-1) == (dataset.num_rows - 1, len(dataset[-1]["qa"]["id"]) - 1)


def test_view_respects_a_selection_of_the_underlying_rows(tiny_release):
    dataset = load_split(tiny_release, "vqa", "train")
    last_two = dataset.select([2, 1])
    view = pairs(last_two)
    ids = [e["id"] for e in view]
    assert ids == [f"{dataset[r]['image_id']}-{local}" for r in (2, 1) for local in dataset[r]["qa"]["id"]]


def test_random_access_with_a_shuffling_dataloader_sees_every_question_once(synth_release):
    view = pairs(load_split(synth_release, "vqa", "train"))
    loader = torch.utils.data.DataLoader(
        view, batch_size=7, shuffle=True, num_workers=2, collate_fn=lambda batch: [e["id"] for e in batch]
    )
    seen = [i for batch in loader for i in batch]
    assert Counter(seen) == Counter(t["id"] for t in parquet_texts(synth_release, "vqa", "train"))


def test_index_is_built_without_decoding_and_rows_are_transformed_lazily(tiny_release):
    calls: list[list[str]] = []

    def transform(batch):
        calls.append(list(batch["image_id"]))
        return {**batch, "marker": ["decoded"] * len(batch["image_id"])}

    dataset = load_split(tiny_release, "vqa", "train").with_transform(transform)
    view = pairs(dataset, config="vqa")
    assert calls == []  # building the index decoded nothing
    example = view[0]
    assert example["marker"] == "decoded" and calls == [[example["image_id"]]]
    calls.clear()
    batch = view.__getitems__([0, 1, 2, 3])  # three questions of one image, one of another
    rows = list(dict.fromkeys(e["image_id"] for e in batch))
    assert len(rows) == 2 and calls == [rows]  # one fetch, each image row once


def test_pair_level_transform_sees_the_flattened_fields(tiny_release):
    view = pairs(load_split(tiny_release, "vqa", "train"))
    lengths = view.with_transform(lambda b: {"id": b["id"], "length": [len(q) for q in b["question"]]})
    example = lengths[3]
    assert set(example) == {"id", "length"} and example["length"] == len(view[3]["question"])


def test_cast_column_keeps_the_index_and_reaches_the_image_rows(tiny_release):
    view = pairs(load_split(tiny_release, "vqa", "train"))
    raw = view.cast_column("image", datasets.Image(decode=False))
    assert len(raw) == len(view) and isinstance(raw[0]["image"]["bytes"], bytes)
    with pytest.raises(ValueError, match="field of the texts"):
        view.cast_column("answer", datasets.Value("large_string"))


def test_view_pickles_by_reference(tiny_release):
    view = pairs(load_split(tiny_release, "vqa", "train"))
    copy = pickle.loads(pickle.dumps(view))
    assert [e["id"] for e in copy] == [e["id"] for e in view]


def test_bad_indices_are_named(tiny_release):
    view = pairs(load_split(tiny_release, "vqa", "train"))
    with pytest.raises(IndexError, match="index 5 out of range for a view of 5"):
        view[5]
    with pytest.raises(TypeError, match="str"):
        view["id"]
    assert view[-5]["id"] == view[0]["id"]


def test_captions_flatten_to_id_text_style(tiny_release):
    expected = parquet_texts(tiny_release, "captions", "train")
    view = pairs(load_split(tiny_release, "captions", "train"))
    got = sorted((e["id"], e["text"], e["style"], e["image_id"]) for e in view)
    assert got == sorted((t["id"], t["text"], t["style"], t["image_id"]) for t in expected)
    assert "question" not in view.features and view.features["style"] == datasets.Value("string")
    with pytest.raises(ValueError, match="not to captions"):
        pairs(load_split(tiny_release, "captions", "train"), class_prompts=True)


# -------------------------------------------------------------------------------------- class prompts


def test_class_prompts_are_on_for_mixed_configs_and_follow_the_question_kind(tiny_release):
    examples = {e["id"]: e for split in ("train", "test") for e in pairs(load_split(tiny_release, "vqa", split))}
    texts = {t["id"]: t for split in ("train", "test") for t in parquet_texts(tiny_release, "vqa", split)}
    kinds = {"Where is the aircraft located in the image?": POSITIONS}  # the only positioning question
    for text_id, text in texts.items():
        example = examples[text_id]
        assert example[QUESTION_RAW] == text["question"]
        if text["subset"] == "sarvqa1":
            prompt = kinds.get(text["question"], CLASSES)
            assert example["question"] == f"{prompt} {text['question']}"
        else:
            assert example["question"] == text["question"]


def test_class_prompts_are_off_for_one_subset_and_switchable(tiny_release):
    sarvqa1 = load_split(tiny_release, "sarvqa1", "train")
    assert all(e["question"] == e[QUESTION_RAW] for e in pairs(sarvqa1))
    assert all(e["question"].startswith(CLASSES) for e in pairs(sarvqa1, class_prompts=True))
    mixed = load_split(tiny_release, "vqa", "train")
    assert all(e["question"] == e[QUESTION_RAW] for e in pairs(mixed, class_prompts=False))


def test_without_a_config_the_subsets_present_decide(tiny_release):
    rows = load_split(tiny_release, "vqa", "train").remove_columns(["image"]).to_list()
    both = datasets.Dataset.from_list(rows)
    only_sarvqa1 = datasets.Dataset.from_list([r for r in rows if r["subset"] == "sarvqa1"])
    assert pairs(both).class_prompts is True
    assert pairs(only_sarvqa1).class_prompts is False


def test_synthetic_sarvqa1_positioning_questions_get_the_position_vocabulary(synth_release):
    view = pairs(load_split(synth_release, "vqa", "train"))
    prefixes = Counter()
    for example in view:
        if example["subset"] != "sarvqa1":
            assert example["question"] == example[QUESTION_RAW]
            continue
        prompt = example["question"][: -len(example[QUESTION_RAW]) - 1]
        prefixes[(example["application"], prompt)] += 1
    assert prefixes[("object_positioning", POSITIONS)] > 0
    assert {p for (app, p) in prefixes if app == "object_positioning"} == {POSITIONS}
    assert {p for (app, p) in prefixes if app in ("object_identification", "region_referring")} == {CLASSES}


# ----------------------------------------------------------------------------------------- streaming


def test_streaming_flatten_matches_the_map_style_view(tiny_release):
    stream = pairs(load_split(tiny_release, "vqa", "train", streaming=True))
    assert isinstance(stream, datasets.IterableDataset)
    view = pairs(load_split(tiny_release, "vqa", "train"))
    streamed = list(stream)
    assert [e["id"] for e in streamed] == [e["id"] for e in view]
    assert [e["question"] for e in streamed] == [e["question"] for e in view]
    assert list(stream.features) == list(view.features) == list(streamed[0])


def test_a_streamed_view_can_be_filtered_and_keeps_its_features(tiny_release):
    """On datasets 4.0-4.6 a filter() after a map(features=...) fails ("'NoneType' object is not a mapping")."""
    stream = pairs(load_split(tiny_release, "vqa", "train", streaming=True))
    yes_no = stream.filter(lambda example: example["answer_type"] == "yes_no")
    view = pairs(load_split(tiny_release, "vqa", "train"))
    assert [e["id"] for e in yes_no] == [e["id"] for e in view if e["answer_type"] == "yes_no"] != []
    assert yes_no.features == stream.features == view.features


def test_streaming_state_dict_resumes_inside_an_image(synth_release):
    def stream():
        return pairs(load_split(synth_release, "vqa", "train", streaming=True), batch_size=4)

    everything = [e["id"] for e in stream()]
    first = stream()
    head = []
    for example in first:
        head.append(example["id"])
        if len(head) == 7:  # mid-image: synthetic images carry several questions each
            state = first.state_dict()
            break
    resumed = stream()
    resumed.load_state_dict(state)
    assert head + [e["id"] for e in resumed] == everything


def test_streaming_split_by_node_partitions_the_questions(synth_release):
    stream = pairs(load_split(synth_release, "vqa", "train", streaming=True))
    parts = [[e["id"] for e in split_dataset_by_node(stream, rank=r, world_size=2)] for r in range(2)]
    assert not set(parts[0]) & set(parts[1])
    assert Counter(parts[0] + parts[1]) == Counter(t["id"] for t in parquet_texts(synth_release, "vqa", "train"))


def test_dataset_dicts_are_flattened_per_split(tiny_release):
    views = pairs(datasets.load_dataset(str(tiny_release), "captions"))
    assert set(views) == {"train", "test"} and all(isinstance(v, PairsView) for v in views.values())
    streams = pairs(datasets.load_dataset(str(tiny_release), "vqa", streaming=True))
    assert isinstance(streams, datasets.IterableDatasetDict) and len(list(streams["test"])) == 2


# ------------------------------------------------------------------------------------------ bad input


def test_datasets_without_texts_are_refused_with_their_columns():
    with pytest.raises(ValueError, match=r"'captions' or 'qa'.*\['image_id'\]"):
        pairs(datasets.Dataset.from_dict({"image_id": ["a"]}))


def test_streams_with_unknown_columns_are_refused(tiny_release):
    stream = load_split(tiny_release, "vqa", "train", streaming=True).map(lambda e: e)
    with pytest.raises(ValueError, match="columns are unknown"):
        pairs(stream)
    with pytest.raises(TypeError, match="list"):
        pairs([{"qa": []}])
