"""The release folder: loadable by plain `datasets`, accounted for, atomic, deterministic, not duplicated."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import PIL.Image
import pyarrow.parquet as pq
import pytest
from datasets import get_dataset_config_names, load_dataset
from tiny_raw import encode_tiff, png_bytes, tiff_bytes

from sarlang1m import schema
from sarlang1m.build import parallel, shards
from sarlang1m.build.release import build_release
from sarlang1m.build.report import MissingImagesError
from sarlang1m.build.staging import Staging
from sarlang1m.evaluate import evaluate_captions, evaluate_vqa, load_caption_references, load_vqa_references
from sarlang1m.publish.manifest import read_manifest, verify_local
from sarlang1m.raw import open_layout
from sarlang1m.views import pairs


def test_every_config_round_trips_through_plain_datasets(built_tiny_release):
    manifest = read_manifest(built_tiny_release)
    names = get_dataset_config_names(str(built_tiny_release))
    assert set(names) == set(manifest["configs"])
    assert {"vqa", "captions", "sarvqa1", "sarvqa2"} <= set(names)
    for name, config in manifest["configs"].items():
        loaded = load_dataset(str(built_tiny_release), name)
        assert set(loaded) == set(config["splits"])
        for split, info in config["splits"].items():
            rows = loaded[split]
            assert rows.num_rows == info["images"]
            column = schema.TEXT_COLUMN[config["task"]]
            assert sum(len(schema.text_records(column, r)) for r in rows[column]) == info["texts"]
            assert rows.features == schema.FEATURES[config["task"]]


def test_text_ids_read_back_as_the_staged_global_ids_and_old_predictions_still_score(built_tiny_release, tmp_path):
    """Rows store each text's id without its image id (release format 3). What users see and key predictions
    by (pairs, map-style and streaming, the evaluator's references, exports: tests/test_export.py) is the
    global id the build staged and its report names, the string release format 2 stored whole, so a
    predictions file written against format 2 still scores every text."""
    staging = Staging.build(open_layout(built_tiny_release.parent / "raw"), tmp_path / "s.sqlite", progress=False)
    staged: dict[tuple[str, str], list[str]] = {}
    for task, split, text in staging.db.execute("SELECT task, split, id FROM texts WHERE skip IS NULL ORDER BY id"):
        staged.setdefault((task, split), []).append(text)
    staging.close()
    assert set(staged) == {(task, split) for task in schema.TASKS for split in schema.SPLITS}
    for (task, split), expected in staged.items():
        column = schema.TEXT_COLUMN[task]
        rows = load_dataset(str(built_tiny_release), task, split=split)
        stored = [(row["image_id"], i) for row in rows for i in row[column]["id"]]
        assert sorted(image + "-" + i for image, i in stored) == expected
        assert not any(i.startswith(image) for image, i in stored)
        assert sorted(e["id"] for e in pairs(rows)) == expected
        streamed = pairs(load_dataset(str(built_tiny_release), task, split=split, streaming=True))
        assert sorted(e["id"] for e in streamed) == expected
        load_references = load_vqa_references if task == "vqa" else load_caption_references
        assert sorted(r.id for r in load_references(built_tiny_release, split=split, config=task)) == expected
        predictions = [{"id": i, "prediction": "x"} for i in expected]  # keyed by the format-2 ids
        evaluate = evaluate_vqa if task == "vqa" else evaluate_captions
        result = evaluate(predictions, built_tiny_release, split=split, config=task)
        assert not result.problems.unknown and not result.problems.missing, (task, split)


def test_configs_select_their_partitions(built_tiny_release):
    sarvqa1 = load_dataset(str(built_tiny_release), "sarvqa1", split="train")
    assert set(sarvqa1["source"]) == {"sardet_100k"} and set(sarvqa1["subset"]) == {"sarvqa1"}
    vhr = load_dataset(str(built_tiny_release), "vqa-vhr", split="train")
    assert set(vhr["tier"]) == {"vhr"}
    test_captions = load_dataset(str(built_tiny_release), "captions", split="test")
    assert test_captions[0]["captions"]["style"] == ["detailed", "concise"]


def test_rows_carry_image_sar_and_provenance(built_tiny_release):
    rows = {r["image_id"]: r for r in load_dataset(str(built_tiny_release), "vqa", split="train")}
    spacenet = rows["SN6_Rotterdam_1"]
    assert isinstance(spacenet["image"], PIL.Image.Image) and spacenet["image"].size == (24, 24)
    original = (built_tiny_release / spacenet["sar_path"]).read_bytes()
    assert original[:4] in (b"II*\x00", b"MM\x00*") and len(original) == spacenet["sar_bytes"]
    assert spacenet["sar_radiometry"] == "db" and spacenet["polarizations"] == ["HH", "HV", "VH", "VV"]
    assert (spacenet["source"], spacenet["tier"], spacenet["location"]) == (
        "spacenet6",
        "vhr",
        "Rotterdam, Netherlands",
    )
    darwin = rows["SV_Darwin_-12.4278_130.8688"]
    assert (darwin["lat"], darwin["lon"]) == (-12.4278, 130.8688)
    assert darwin["file_name"] == "SV_Darwin_-12.4278_130.8688.png"  # generated from the GeoTIFF
    assert darwin["sar_radiometry"] == "amplitude"
    sardet = rows["0000001"]
    assert sardet["sar_path"] is None and sardet["sar_radiometry"] is None and sardet["tier"] == "mixed"


def test_streaming_and_the_parent_folder_name(built_tiny_release):
    streamed = list(load_dataset(str(built_tiny_release), "vqa", split="train", streaming=True))
    assert sorted(r["image_id"] for r in streamed) == sorted(
        load_dataset(str(built_tiny_release), "vqa", split="train")["image_id"]
    )
    code = "from datasets import load_dataset; print(load_dataset('sarlang-1m', 'vqa')['train'].num_rows)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=built_tiny_release.parent, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "3"


def test_datasets_cli_test_passes(built_tiny_release):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cli = Path(sys.executable).parent / "datasets-cli"
    result = subprocess.run(
        [str(cli), "test", str(built_tiny_release), "--all_configs"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Test successful" in result.stdout + result.stderr


def test_report_accounts_for_every_row(built_tiny_release):
    report = json.loads((built_tiny_release / schema.REPORT_FILE).read_text())
    assert report["texts_read"] == report["texts_used"] + report["texts_skipped"] == 12
    assert all(f["rows"] == f["used"] + sum(f["skipped"].values()) for f in report["files"])


def test_manifest_lists_every_file_and_verifies(built_tiny_release):
    manifest = read_manifest(built_tiny_release)
    on_disk = {p.relative_to(built_tiny_release).as_posix() for p in built_tiny_release.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == on_disk - {schema.MANIFEST_FILE}
    parquet = [n for n in manifest["files"] if n.endswith(".parquet")]
    assert sum(manifest["files"][n]["rows"] for n in parquet) == sum(
        s["images"] for c in ("vqa", "captions") for s in manifest["configs"][c]["splits"].values()
    )
    assert manifest["synthetic"] is True
    assert verify_local(built_tiny_release).ok


def test_bad_rows_end_up_in_the_report(tiny_raw, tmp_path):
    csv = tiny_raw / "Text" / "VQA" / "train" / "SARVQA2_train.csv"
    csv.write_bytes(csv.read_bytes() + b"SN6_Rotterdam_1.png,Is it \xff?,Yes.\nSN6_Rotterdam_1.png,short\n")
    build_release(tiny_raw, tmp_path / "out", progress=False)
    report = json.loads((tmp_path / "out" / schema.REPORT_FILE).read_text())
    skipped = [(s["file"], s["row"], s["reason"]) for s in report["skipped"]]
    assert skipped == [
        ("Text/VQA/train/SARVQA2_train.csv", 4, "invalid_utf8"),
        ("Text/VQA/train/SARVQA2_train.csv", 5, "malformed_row"),
    ]
    assert set(report["skip_reasons"]) == {"invalid_utf8", "malformed_row"}
    assert report["texts_read"] == 14 and report["texts_used"] == 12


def test_corrupt_image_is_an_error_or_a_report_entry(tiny_raw, tmp_path):
    (tiny_raw / "SARimages" / "SN6_Rotterdam_1.png").write_bytes(png_bytes(1)[:60])  # truncated PNG
    with pytest.raises(MissingImagesError, match=r"1 referenced image\(s\) unreadable, used by 3 text") as error:
        build_release(tiny_raw, tmp_path / "out", progress=False)
    assert "SARimages/SN6_Rotterdam_1.png: cannot decode image" in str(error.value)
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.*"))
    build_release(tiny_raw, tmp_path / "out", progress=False, allow_missing=True)
    report = json.loads((tmp_path / "out" / schema.REPORT_FILE).read_text())
    assert {s["reason"] for s in report["skipped"]} == {"unreadable_image"}
    assert sorted((s["file"], s["row"]) for s in report["skipped"]) == [
        ("Text/VQA/train/SARVQA2_train.csv", 2),
        ("Text/caption/Caption-training.csv", 2),
        ("Text/caption/Caption-training.csv", 3),
    ]
    assert "SN6_Rotterdam_1" not in load_dataset(str(tmp_path / "out"), "vqa", split="train")["image_id"]


def test_a_truncated_original_geotiff_is_refused_like_a_truncated_png(tiny_raw, tmp_path, caplog):
    """A tiled GeoTIFF cut after its first page header still "reads" its header (tifffile logs the tags it
    lost and goes on, and the pixels call it `display`): the build decodes it, refuses it and says nothing
    through tifffile's log."""
    name = "France_Alpes-Maritimes_Nice_3.tif"
    pixels = np.random.default_rng(2).integers(0, 256, (64, 64), dtype=np.uint8)
    whole = encode_tiff(pixels, photometric="minisblack", compression="zlib", tile=(16, 16))
    (tiny_raw / "SARimages_original" / name).write_bytes(whole[:300])
    with pytest.raises(MissingImagesError, match=r"1 referenced image\(s\) unreadable, used by 3 text") as error:
        build_release(tiny_raw, tmp_path / "out", progress=False)
    assert f"SARimages_original/{name}: cannot decode GeoTIFF" in str(error.value)
    assert not (tmp_path / "out").exists()
    build_release(tiny_raw, tmp_path / "out", progress=False, allow_missing=True)
    report = json.loads((tmp_path / "out" / schema.REPORT_FILE).read_text())
    assert {s["reason"] for s in report["skipped"]} == {"unreadable_image"}
    assert all(name in s["detail"] for s in report["skipped"]) and len(report["skipped"]) == 3
    assert not list((tmp_path / "out").rglob(name))  # not copied into originals/
    assert not [r for r in caplog.records if r.name == "tifffile"]


def test_an_interrupted_build_leaves_nothing_that_looks_complete(tiny_raw, tmp_path, monkeypatch):
    calls = []
    original = parallel.write_shard

    def failing(job, advance):
        if calls:
            raise KeyboardInterrupt("killed midway")
        calls.append(job)
        return original(job, advance)

    monkeypatch.setattr(parallel, "write_shard", failing)
    with pytest.raises(KeyboardInterrupt):
        build_release(tiny_raw, tmp_path / "out", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]


def test_stale_work_folders_of_dead_builds_are_removed(tiny_raw, tmp_path):
    stale = tmp_path / ".out.building-999999999"
    (stale / "release").mkdir(parents=True)
    build_release(tiny_raw, tmp_path / "out", progress=False)
    assert not stale.exists()


def test_two_builds_give_identical_manifests(tiny_raw, tmp_path):
    build_release(tiny_raw, tmp_path / "a", progress=False)
    build_release(tiny_raw, tmp_path / "b", progress=False, num_proc=2)
    # The MANIFEST holds the sha256 of every file: shards, card, Croissant and sample grid alike.
    assert (tmp_path / "a" / schema.MANIFEST_FILE).read_bytes() == (tmp_path / "b" / schema.MANIFEST_FILE).read_bytes()


def test_parallel_build_writes_the_same_shards(tiny_raw, tmp_path):
    build_release(tiny_raw, tmp_path / "one", progress=False, max_shard_size=1)
    build_release(tiny_raw, tmp_path / "two", progress=False, max_shard_size=1, num_proc=2)
    assert read_manifest(tmp_path / "one")["files"] == read_manifest(tmp_path / "two")["files"]


def test_no_config_copies_bytes_and_images_are_stored_once_per_task(tiny_raw, tmp_path):
    """Parquet bytes of a task stay within 1.1 x (distinct image bytes + text bytes)."""
    for index in range(2, 14):  # more, larger images so that Parquet's fixed overhead is not what is measured
        name = f"SN6_Rotterdam_{index}"
        (tiny_raw / "SARimages" / f"{name}.png").write_bytes(png_bytes(index, size=320))
        (tiny_raw / "SARimages_original" / f"{name}.tif").write_bytes(tiff_bytes(index, size=128, bands=4))
        with open(tiny_raw / "Text" / "VQA" / "train" / "SARVQA2_train.csv", "a") as handle:
            for question in range(9):
                handle.write(f"{name}.png,Is there a ship number {question}?,Yes.\n")
    out = tmp_path / "out"
    build_release(tiny_raw, out, progress=False)
    manifest = read_manifest(out)
    for task in ("vqa", "captions"):
        files = [n for n in manifest["files"] if n.startswith(f"data/{task}/")]
        parquet_bytes = sum(manifest["files"][n]["bytes"] for n in files)
        image_bytes = text_bytes = 0
        for name in files:
            table = pq.read_table(out / name)
            for row in table.to_pylist():
                image_bytes += len(row["image"]["bytes"])
                text_bytes += len(json.dumps(row[schema.TEXT_COLUMN[task]]).encode())
        if task == "vqa":
            assert image_bytes > 1_000_000  # the check is about images, not Parquet's fixed overhead
            assert parquet_bytes <= 1.1 * (image_bytes + text_bytes), (parquet_bytes, image_bytes, text_bytes)
    originals = {p.name: p.stat().st_size for p in (tiny_raw / "SARimages_original").glob("*.tif")}
    stored = {n.rsplit("/", 1)[1]: e["bytes"] for n, e in manifest["files"].items() if n.startswith("originals/")}
    assert stored == originals  # each original once, though captions and VQA rows name it
    union = sum(manifest["files"][n]["bytes"] for n in manifest["files"] if n.startswith("data/vqa/"))
    assert union == sum(
        manifest["files"][n]["bytes"]
        for n in manifest["files"]
        if n.startswith(("data/vqa/sarvqa1/", "data/vqa/sarvqa2/"))
    )


def test_a_killed_build_is_never_mistaken_for_a_release_and_a_rerun_gives_the_same_result(tmp_path):
    """SIGKILL a real build midway (shards written, no MANIFEST yet), then build again."""
    import signal
    import time

    from sarlang1m.synth import write_synthetic_release

    raw = tmp_path / "raw"
    write_synthetic_release(raw, images=160, seed=7, progress=False)
    build_release(raw, tmp_path / "reference", progress=False, max_shard_size="20KB")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sarlang1m.cli", "build", str(raw), "--out", str(out), "--max-shard-size", "20KB"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.building-*/release/data/**/*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    leftovers = list(tmp_path.glob(".out.building-*"))
    assert leftovers and not out.exists()  # what remains is hidden, named as a build in progress
    assert not list(leftovers[0].rglob(schema.MANIFEST_FILE))
    build_release(raw, out, progress=False, max_shard_size="20KB")
    assert not list(tmp_path.glob(".out.building-*"))  # the dead build's folder is cleaned up
    assert read_manifest(out)["files"] == read_manifest(tmp_path / "reference")["files"]


def test_row_groups_close_at_the_byte_cap_even_in_a_run_of_large_rows(tmp_path, monkeypatch):
    """The rows per group come from the shard's mean row; large rows in a row must not pile up past the cap.

    SYNTHETIC release: its scene images are several times the size of its SARDet-like chips. Every group
    also holds at most one viewer page of rows, and every file has the page index.
    """
    from sarlang1m.synth import write_synthetic_release

    raw = tmp_path / "raw"
    write_synthetic_release(raw, images=160, seed=7, progress=False)
    cap = 150_000
    monkeypatch.setattr(shards, "ROW_GROUP_BYTES", cap)
    build_release(raw, tmp_path / "out", progress=False)
    groups = 0
    for path in sorted((tmp_path / "out" / schema.DATA_DIR).rglob("*.parquet")):
        parquet = pq.ParquetFile(path)
        for index in range(parquet.metadata.num_row_groups):
            rows = parquet.read_row_group(index, columns=["image"]).to_pylist()
            sizes = [len(row["image"]["bytes"]) for row in rows]
            assert len(rows) <= shards.MAX_ROWS_PER_ROW_GROUP == 100
            group = parquet.metadata.row_group(index)
            assert all(group.column(c).has_offset_index for c in range(group.num_columns))
            assert sum(sizes[:-1]) < cap, f"{path.name} row group {index}: {sizes}"  # closed by the row that reached it
            groups += 1
    assert groups > 10
