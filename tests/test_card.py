"""The dataset card: Hub YAML, figures read back from the data, what users need to know, determinism."""

import ast
import dataclasses
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from datasets import load_dataset
from huggingface_hub import DatasetCard, DatasetCardData
from hypothesis import given
from hypothesis import strategies as st

from sarlang1m import schema
from sarlang1m.build.release import build_release
from sarlang1m.card import metadata, render_card
from sarlang1m.card.changelog import changelog_until, read_changelog, release_date
from sarlang1m.card.render import EXAMPLE_TEXTS
from sarlang1m.card.statistics import WordCounts, collect_statistics
from sarlang1m.card.tables.markdown import markdown_table
from sarlang1m.publish.manifest import read_manifest
from sarlang1m.raw import classify
from sarlang1m.raw.classify import answer_type
from sarlang1m.summary import configs_from_json

HUB_SIZE_CATEGORIES = {"n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M"}


def front_matter(readme: Path) -> dict:
    text = readme.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, "the card must start with a YAML block"
    return yaml.safe_load(match.group(1))


def body(readme: Path) -> str:
    return readme.read_text(encoding="utf-8").split("\n---\n", 1)[1]


def section(text: str, heading: str) -> str:
    """The text under a Markdown heading, up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1 :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def table_rows(text: str) -> list[list[str]]:
    """The cells of the first Markdown table in `text` (header and rule left out)."""
    lines = text[text.index("\n|") + 1 :].split("\n\n", 1)[0].splitlines()
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]


def number(cell: str) -> int:
    return int(cell.replace(",", ""))


# ------------------------------------------------------------------------------------ YAML


def test_yaml_header_has_the_fields_the_hub_expects(built_tiny_release):
    meta = front_matter(built_tiny_release / schema.CARD_FILE)
    assert meta["license"] == "other"
    assert meta["license_name"] and re.fullmatch(r"[a-z0-9-]+", meta["license_name"])
    assert meta["license_link"].startswith("https://")
    assert meta["pretty_name"] == "SARLANG-1M (synthetic)"
    assert set(meta["task_categories"]) == {"visual-question-answering", "image-to-text"}
    assert {"sar", "remote-sensing", "earth-observation", "geospatial", "synthetic"} <= set(meta["tags"])
    assert len(meta["size_categories"]) == 1 and meta["size_categories"][0] in HUB_SIZE_CATEGORIES
    assert meta["source_datasets"] == ["SpaceNet6", "DFC2023", "OpenEarthMap-SAR", "SARDet-100K"]
    manifest = read_manifest(built_tiny_release)
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert set(configs) == set(manifest["configs"])
    assert [name for name, c in configs.items() if c.get("default")] == ["vqa"]
    for name, config in configs.items():
        splits = {f["split"]: f["path"] for f in config["data_files"]}
        assert splits == {s: i["data_files"] for s, i in manifest["configs"][name]["splits"].items()}
    infos = {i["config_name"]: i for i in meta["dataset_info"]}
    assert set(infos) == set(configs)
    for name, info in infos.items():
        expected = manifest["configs"][name]["splits"]
        assert {s["name"]: s["num_examples"] for s in info["splits"]} == {s: i["images"] for s, i in expected.items()}


def test_card_data_round_trips_through_huggingface_hub(built_tiny_release):
    meta = front_matter(built_tiny_release / schema.CARD_FILE)
    loaded = DatasetCard.load(built_tiny_release / schema.CARD_FILE)
    assert loaded.data.to_dict() == meta
    assert DatasetCardData(**meta).to_dict() == meta


def test_size_category_follows_the_default_config_texts():
    assert metadata.size_category(999) == "n<1K"
    assert metadata.size_category(1_000) == "1K<n<10K"
    assert metadata.size_category(1_080_627) == "1M<n<10M"  # the paper's VQA texts


# ------------------------------------------------------------------------------------ figures


def test_config_table_matches_what_datasets_loads(built_tiny_release):
    rows = table_rows(section(body(built_tiny_release / schema.CARD_FILE), "## Configs and splits"))
    manifest = read_manifest(built_tiny_release)
    assert len(rows) == sum(len(c["splits"]) for c in manifest["configs"].values())
    for config, task, _, split, images, texts, files, _ in rows:
        name = config.split("`")[1]
        loaded = load_dataset(str(built_tiny_release), name, split=split)
        assert number(images) == loaded.num_rows
        assert number(texts) == sum(len(r["id"]) for r in loaded[schema.TEXT_COLUMN[task]])
        assert number(files) == len(list(built_tiny_release.glob(schema.config_spec(name).split_glob(split))))


def loaded_rows(release: Path, task: str) -> list[tuple[str, dict]]:
    config = {"vqa": "vqa", "captions": "captions"}[task]
    loaded = load_dataset(str(release), config).remove_columns(["image"])
    return [(split, row) for split in loaded for row in loaded[split]]


def test_statistics_match_an_independent_count(built_tiny_release):
    stats = collect_statistics(built_tiny_release)
    vqa, captions = loaded_rows(built_tiny_release, "vqa"), loaded_rows(built_tiny_release, "captions")
    applications, answer_types, subtypes, sources = Counter(), Counter(), Counter(), Counter()
    for split, row in vqa:
        sources[row["source"]] += 1
        qa = row["qa"]  # column-wise: one list per field
        for application, answer, subtype in zip(qa["application"], qa["answer"], qa["subtype"], strict=True):
            applications[(application, split)] += 1
            answer_types[(application, answer_type(answer, application, subtype))] += 1
            subtypes[subtype or "(none)"] += 1
    assert {(a, s): n for a, c in stats.applications.items() for s, n in c.items() if n} == applications
    assert {(a, t): n for a, c in stats.answer_types.items() for t, n in c.items() if n} == answer_types
    assert dict(stats.subtypes) == subtypes
    assert {s: c["images"] for s, c in stats.sources["vqa"].items()} == sources
    styles = Counter((split, style) for split, row in captions for style in row["captions"]["style"])
    assert {(sp, st): n for sp, c in stats.caption_styles.items() for st, n in c.items() if n} == styles
    questions = [len(question.split()) for _, row in vqa for question in row["qa"]["question"]]
    assert stats.lengths["question"].summary()["p50"] == int(np.percentile(questions, 50, method="inverted_cdf"))
    assert stats.lengths["question"].summary()["max"] == max(questions)
    assert stats.distinct_images == len({row["image_id"] for _, row in vqa + captions})
    with_sar = sum(1 for _, row in vqa if row["sar_radiometry"] is not None)
    assert sum(c["with_sar"] for c in stats.sources["vqa"].values()) == with_sar


def test_images_with_geotiff_count_each_image_once_whatever_its_tasks(synthetic_release):
    """SpaceNet6 images have questions and captions: two rows each, but one original each."""
    card = (synthetic_release / schema.CARD_FILE).read_text(encoding="utf-8")
    header = next(line for line in card.splitlines() if line.startswith("| source | tier | VQA images"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    assert "images with GeoTIFF" in columns
    checked = 0
    for source in ("spacenet6", "dfc2023", "openearthmap_sar"):
        title = schema.SOURCES[source].title
        row = next(line for line in card.splitlines() if line.startswith(f"| {title} |"))
        cells = dict(zip(columns, (cell.strip() for cell in row.strip("|").split("|")), strict=True))
        originals = [p for p in (synthetic_release / schema.ORIGINALS_DIR / source).rglob("*") if p.is_file()]
        assert int(cells["images with GeoTIFF"]) == len(originals) == int(cells["VQA images"]), (source, cells)
        checked += int(cells["caption images"]) > 0  # the images counted in both tasks, once here
    assert checked == 3


def test_statistics_never_read_the_image_bytes(built_tiny_release, monkeypatch):
    requested: list[list[str] | None] = []
    original = pq.ParquetFile.iter_batches

    def spy(self, *args, **kwargs):
        requested.append(kwargs.get("columns"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    monkeypatch.setattr(pq.ParquetFile, "read", lambda *a, **k: pytest.fail("read the whole file"))
    monkeypatch.setattr(pq.ParquetFile, "read_row_group", lambda *a, **k: pytest.fail("read a row group"))
    collect_statistics(built_tiny_release)
    assert requested and all(columns is not None for columns in requested)
    assert not any("image" in columns for columns in requested)


def test_statistics_of_a_larger_synthetic_release_add_up(tiny_raw, tmp_path):
    """Synthetic: 40 extra images with 9 questions each, so that counts exceed one row per source."""
    with open(tiny_raw / "Text" / "VQA" / "train" / "SARVQA2_train.csv", "a") as handle:
        for image in range(40):
            for question in range(9):
                handle.write(f"SN6_Rotterdam_1.png,How many ships number {image}-{question}?,{question}.\n")
    out = build_release(tiny_raw, tmp_path / "out", progress=False)
    stats = collect_statistics(out.out)
    manifest = read_manifest(out.out)
    for task in schema.TASKS:
        for split, info in manifest["configs"][task]["splits"].items():
            assert stats.images[task][split] == info["images"]
            assert stats.texts[task][split] == info["texts"]
    assert stats.applications["instance_counting"]["train"] >= 360
    readme = (out.out / schema.CARD_FILE).read_text()
    applications = {r[0]: r for r in table_rows(section(readme, "### Per application"))}
    assert number(applications["Instance Counting"][1]) == stats.applications["instance_counting"]["train"]
    captions = manifest["configs"]["captions"]["splits"]
    description = applications["Image Description"]
    assert (number(description[1]), number(description[2])) == (captions["train"]["texts"], captions["test"]["texts"])
    shares = sum(float(r[3].rstrip(" %")) for r in applications.values())
    assert shares == pytest.approx(100, abs=0.1 * len(applications))


# ------------------------------------------------------------------------------------ contents


def test_the_synthetic_warning_is_prominent(built_tiny_release):
    text = body(built_tiny_release / schema.CARD_FILE)
    first_heading = text.index("\n## ")
    warning = text.index("SYNTHETIC DATA")
    assert warning < first_heading
    assert "[!WARNING]" in text[:warning]


def test_a_real_release_has_no_synthetic_warning(tiny_raw, tmp_path):
    """The tiny SYNTHETIC release without its SYNTHETIC.md marker stands in for a real one here."""
    (tiny_raw / "SYNTHETIC.md").unlink()
    build_release(tiny_raw, tmp_path / "out", progress=False)
    readme = tmp_path / "out" / schema.CARD_FILE
    meta = front_matter(readme)
    assert meta["pretty_name"] == "SARLANG-1M" and "synthetic" not in meta["tags"]
    assert "SYNTHETIC" not in body(readme) and "release is synthetic" not in body(readme)


def test_card_says_what_users_need(built_tiny_release):
    text = body(built_tiny_release / schema.CARD_FILE)
    # how to load, pinned
    assert f'load_dataset("{schema.DEFAULT_REPO_ID}", "vqa", revision="{schema.RELEASE_REVISION}")' in text
    assert "streaming=True" in text and 'revision="v1.0.0", streaming=True, decode="sar"' in text
    assert "sarlang1m evaluate" in text
    # licences per source and what they imply
    licences = section(text, "## Source datasets and licences")
    for source in ("spacenet6", "dfc2023", "openearthmap_sar", "sardet_100k"):
        spec = schema.SOURCES[source]
        row = next(r for r in table_rows(licences) if spec.title in r[0])
        assert spec.license in row[5] and row[6] == ("yes" if spec.commercial_use else "no")
    assert "Non-commercial use only" in licences and "CC BY-NC 4.0" in licences and "DFC2023" in licences
    # the derived labels are documented with the code's own rules
    rules = section(text, "## How the labels were derived")
    for rule_line in classify.classify_question.__doc__.split("\n\n")[1].split("\n")[:2]:
        assert rule_line.strip() in rules
    assert "Resolution tiers are ours" in rules
    # prompts, citation, sample grid, SAR statistics
    assert schema.CAPTION_PROMPT in text and schema.CLASS_PROMPTS["classes"] in text
    assert schema.CLASS_PROMPTS["positions"] in text
    assert schema.citation() in text and "@article{wei2026sarlang" in text
    assert f"]({schema.SAMPLE_GRID_FILE})" in text
    sar = section(text, "## SAR radiometry and normalisation")
    for source, entry in read_manifest(built_tiny_release)["sar_statistics"].items():
        assert schema.SOURCES[source].title in sar
        assert f"{entry['mean_db'][0]:,.2f}" in sar
    assert "no validation split" in text.lower()


def test_example_rows_are_real_rows(built_tiny_release):
    text = body(built_tiny_release / schema.CARD_FILE)
    blocks = re.findall(r"One row of `(\w+)`.*?```json\n(.*?)\n```", text, re.DOTALL)
    assert {task for task, _ in blocks} == set(schema.TASKS)
    for task, block in blocks:
        example = json.loads(block)
        rows = {row["image_id"]: row for _, row in loaded_rows(built_tiny_release, task)}
        row = rows[example["image_id"]]
        column = schema.TEXT_COLUMN[task]
        assert example[column] == {field: values[:EXAMPLE_TEXTS] for field, values in row[column].items()}
        assert (example["source"], example["width"], example["height"]) == (row["source"], row["width"], row["height"])
        assert example["sar_path"] is not None  # the first training row with a GeoTIFF is preferred
        assert example["sar_path"] == row["sar_path"] and example["sar_sha256"] == row["sar_sha256"]
        assert isinstance(example["image"], str) and "8-bit image" in example["image"]


def test_repo_id_and_version_reach_the_snippets(built_tiny_release):
    manifest = read_manifest(built_tiny_release)
    rendered = str(
        render_card(
            built_tiny_release,
            configs=configs_from_json(manifest["configs"]),
            version="1.0.0",
            synthetic=False,
            sar_statistics=manifest["sar_statistics"],
            repo_id="someone/sar-copy",
        )
    )
    assert 'load_dataset("someone/sar-copy", "vqa", revision="v1.0.0")' in rendered
    assert schema.DEFAULT_REPO_ID not in rendered


def loading_calls(card: str) -> list[ast.Call]:
    """Every `load_dataset(...)` and `sarlang1m.load(...)` call in the card's Python blocks."""
    calls = []
    for block in re.findall(r"^```python\n(.*?)^```$", card, re.MULTILINE | re.DOTALL):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("load_dataset", "sarlang1m.load"):
                calls.append(node)
    return calls


def test_every_loading_snippet_names_the_cards_repo_and_version(built_tiny_release):
    """On a card for any repo but the package's default one, no snippet may read the default repo."""
    manifest = read_manifest(built_tiny_release)
    card = str(
        render_card(
            built_tiny_release,
            configs=configs_from_json(manifest["configs"]),
            version="1.0.0",
            synthetic=False,
            sar_statistics=manifest["sar_statistics"],
            repo_id="someone/sar-copy",
        )
    )
    calls = loading_calls(card)
    assert {ast.unparse(call.func) for call in calls} == {"load_dataset", "sarlang1m.load"}
    for call in calls:
        keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg in ("source", "revision")}
        repo = ast.literal_eval(call.args[0]) if ast.unparse(call.func) == "load_dataset" else keywords.get("source")
        assert (repo, keywords.get("revision")) == ("someone/sar-copy", "v1.0.0"), ast.unparse(call)
    assert "--release someone/sar-copy@v1.0.0" in card


def test_render_refuses_configs_without_exactly_one_default(built_tiny_release):
    manifest = read_manifest(built_tiny_release)
    configs = configs_from_json(manifest["configs"])
    configs["captions"] = dataclasses.replace(configs["captions"], default=True)
    kwargs = {"version": "1.0.0", "synthetic": True, "sar_statistics": {}}
    with pytest.raises(ValueError, match=r"exactly one config must be the default, got \['vqa', 'captions'\]"):
        render_card(built_tiny_release, configs=configs, **kwargs)
    with pytest.raises(ValueError, match="configs is empty"):
        render_card(built_tiny_release, configs={}, **kwargs)


# ------------------------------------------------------------------------------------ bad inputs


def test_statistics_name_the_file_that_is_not_a_shard(tmp_path, built_tiny_release):
    with pytest.raises(FileNotFoundError, match="no Parquet files"):
        collect_statistics(tmp_path)
    shard = next((built_tiny_release / "data" / "vqa").rglob("*.parquet"))
    odd = tmp_path / "data" / "vqa" / "sarvqa2" / "vhr" / "validation-00000-of-00001.parquet"
    odd.parent.mkdir(parents=True)
    odd.write_bytes(shard.read_bytes())
    with pytest.raises(
        ValueError, match=r"data/vqa/sarvqa2/vhr/validation-00000-of-00001\.parquet: not a release shard"
    ):
        collect_statistics(tmp_path)


def test_statistics_name_a_missing_column(tmp_path, built_tiny_release):
    shard = next((built_tiny_release / "data" / "vqa").rglob("train-*.parquet"))
    table = pq.read_table(shard).drop_columns(["source"])
    target = tmp_path / "data" / "vqa" / "sarvqa2" / "vhr" / "train-00000-of-00001.parquet"
    target.parent.mkdir(parents=True)
    pq.write_table(table, target)
    with pytest.raises(ValueError, match=r"train-00000-of-00001\.parquet: column\(s\) \['source'\] missing"):
        collect_statistics(tmp_path)


# ------------------------------------------------------------------------------------ pieces


@given(st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=400), st.integers(1, 4))
def test_word_counts_agree_with_numpy(lengths, chunks):
    counts = WordCounts()
    for part in np.array_split(np.asarray(lengths), chunks):
        counts.add(part)
    summary = counts.summary()
    assert summary["texts"] == len(lengths) and summary["max"] == max(lengths)
    assert summary["mean"] == round(float(np.mean(lengths)), 2)
    for q, key in ((50, "p50"), (90, "p90"), (99, "p99")):
        assert summary[key] == int(np.percentile(lengths, q, method="inverted_cdf"))
    assert sum(counts.buckets().values()) == sum(1 for n in lengths if n > 0)


def test_changelog_is_read_newest_first_and_cut_at_the_version(tmp_path):
    path = tmp_path / "CHANGELOG.md"
    path.write_text("# Changes\n\n## 1.1.0 - unreleased\n\n- later\n\n## 1.0.0 - 2026-01-02\n\n- first\n")
    entries = read_changelog(path)
    assert [(e.version, e.date, e.changes) for e in entries] == [
        ("1.1.0", "unreleased", "- later"),
        ("1.0.0", "2026-01-02", "- first"),
    ]
    assert [e.version for e in changelog_until("1.0.0", entries)] == ["1.0.0"]
    assert release_date("1.0.0", entries) == "2026-01-02" and release_date("1.1.0", entries) is None
    path.write_text("## 1.0.0 - 2026-01-02\n\n## next - soon\n")
    with pytest.raises(ValueError, match=r"CHANGELOG.md:3: 'next' is not a version number"):
        read_changelog(path)


def test_the_packaged_changelog_has_the_pinned_version():
    entries = read_changelog()
    assert any(e.version == schema.RELEASE_VERSION for e in entries)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", release_date(schema.RELEASE_VERSION) or "")


def test_a_version_without_changelog_entry_says_so(built_tiny_release):
    manifest = read_manifest(built_tiny_release)
    text = str(
        render_card(
            built_tiny_release,
            configs=configs_from_json(manifest["configs"]),
            version="9.9.9",
            synthetic=True,
            sar_statistics=manifest["sar_statistics"],
        )
    )
    changelog = section(text, "## Changelog")
    assert "### 9.9.9" in changelog and "No changelog entry" in changelog
    assert "### 1.0.0" in changelog


def test_a_newer_version_without_an_entry_comes_first_in_the_changelog(built_tiny_release):
    manifest = read_manifest(built_tiny_release)
    configs = configs_from_json(manifest["configs"])
    kwargs = {"configs": configs, "synthetic": True, "sar_statistics": manifest["sar_statistics"]}
    changelog = section(str(render_card(built_tiny_release, version="1.1.0", **kwargs)), "## Changelog")
    headings = re.findall(r"^### (\S+)", changelog, re.MULTILINE)
    assert headings[:2] == ["1.1.0", "1.0.0"]  # newest first, like the entries themselves


def test_image_sizes_say_how_many_sizes_and_images_they_cover(synthetic_release):
    """The card lists a few sizes per source and says "of N": SARDet-100K has many sizes (synthetic here)."""
    sizes: dict[str, Counter] = {}
    for path in synthetic_release.glob(schema.config_spec("vqa").split_glob("*")):
        for row in pq.read_table(path, columns=["source", "width", "height"]).to_pylist():
            sizes.setdefault(row["source"], Counter())[f"{row['width']}x{row['height']}"] += 1
    table = section(body(synthetic_release / "README.md"), "### Image sizes")
    cells = {row[0]: row[1] for row in table_rows(table)}
    sardet = sizes["sardet_100k"]
    assert len(sardet) > 4
    shown = sum(n for _, n in sorted(sardet.items(), key=lambda item: (-item[1], item[0]))[:4])
    expected = f"(4 most common of {len(sardet)} sizes, covering {shown:,} of {sum(sardet.values()):,} images)"
    assert cells[schema.SOURCES["sardet_100k"].title].endswith(expected)
    spacenet = sizes["spacenet6"]
    assert len(spacenet) == 1
    assert cells[schema.SOURCES["spacenet6"].title].endswith(f"(one size, {sum(spacenet.values())} images)")


def test_markdown_table_escapes_pipes_and_formats_numbers():
    table = markdown_table(["a", "b"], [("x|y", 1234567), ("z", 0.5)])
    assert table.splitlines() == ["| a | b |", "|---|---:|", "| x\\|y | 1,234,567 |", "| z | 0.50 |"]


def test_card_modules_do_one_job_each_in_short_functions():
    """The card package stays readable: modules under about 400 lines, functions under 60."""
    import ast

    import sarlang1m.card

    folder = Path(sarlang1m.card.__file__).parent
    for module in sorted(folder.glob("*.py")):
        source = module.read_text(encoding="utf-8")
        assert source.count("\n") <= 450, f"{module.name}: {source.count(chr(10))} lines"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                assert length <= 60, f"{module.name}: {node.name} has {length} lines"
