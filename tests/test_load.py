"""sarlang1m.load: pinned revisions, local folders, decoding modes, a cache that follows the release."""

import shutil

import numpy as np
import PIL.Image
import pytest

from sarlang1m import schema
from sarlang1m.build.release import build_release
from sarlang1m.errors import NotFoundError
from sarlang1m.load import load
from sarlang1m.resolve import read_release_manifest, resolve_release


def test_hub_repos_are_pinned_by_default():
    assert resolve_release("org/name") == ("org/name", schema.RELEASE_REVISION)
    assert resolve_release(None) == (schema.DEFAULT_REPO_ID, schema.RELEASE_REVISION)
    assert resolve_release("org/name", "v2.0.0") == ("org/name", "v2.0.0")
    assert resolve_release("org/name@v1.1.0") == ("org/name", "v1.1.0")
    assert resolve_release("org/name@main", "main") == ("org/name", "main")
    with pytest.raises(ValueError, match="names revision"):
        resolve_release("org/name@v1", "v2")
    for bad in ("just-a-name", "a/b/c", "org/name@"):
        with pytest.raises(FileNotFoundError, match="not a Hub repo id"):
            resolve_release(bad)


def test_local_folders_have_no_revision(tiny_release):
    assert resolve_release(tiny_release) == (str(tiny_release), None)
    with pytest.raises(ValueError, match="no revision"):
        resolve_release(tiny_release, "v1.0.0")
    with pytest.raises(FileNotFoundError, match="no such release folder"):
        resolve_release("./missing-folder")


def test_decode_image_is_plain_datasets(tiny_release):
    row = load("vqa", split="train", source=tiny_release)[0]
    assert isinstance(row["image"], PIL.Image.Image)


def test_decode_none_leaves_bytes(tiny_release):
    row = load("vqa", split="train", source=tiny_release, decode=None)[0]
    assert isinstance(row["image"]["bytes"], bytes)


@pytest.mark.parametrize("streaming", [False, True])
def test_decode_sar_gives_normalised_pixels_and_falls_back_for_sardet(tiny_release, streaming):
    rows = {
        r["image_id"]: r for r in load("vqa", split="train", source=tiny_release, decode="sar", streaming=streaming)
    }
    spacenet = rows["SN6_Rotterdam_1"]
    assert spacenet["pixels"].shape == (4, 24, 24) and spacenet["pixels_source"] == "sar"
    assert float(np.min(spacenet["pixels"])) >= 0.0 and float(np.max(spacenet["pixels"])) <= 1.0
    sardet = rows["0000001"]
    assert sardet["pixels_source"] == "image" and sardet["pixels_radiometry"] == "display"
    assert "image" not in spacenet and spacenet["sar_path"] == "originals/spacenet6/SN6_Rotterdam_1.tif"


def test_standardize_uses_the_release_statistics(tiny_release):
    stats = read_release_manifest(tiny_release)["sar_statistics"]
    loaded = load("vqa", split="train", source=tiny_release, decode="sar", sar_options={"normalize": "standardize"})
    with pytest.warns(UserWarning, match="8-bit display pixels .* standardised per image"):
        rows = list(loaded)
    spacenet = next(r for r in rows if r["image_id"] == "SN6_Rotterdam_1")
    assert spacenet["pixels"].shape[0] == len(stats["spacenet6"]["mean_db"])
    assert float(np.abs(spacenet["pixels"]).max()) < 10  # standardised, not [0, 1] and not raw dB
    fallback = next(r for r in rows if r["pixels_source"] == "image")  # SARDet-100K: no original, no statistics
    values = fallback["pixels"][fallback["pixels_valid"]]
    assert abs(float(values.mean())) < 1e-4 and abs(float(values.std()) - 1) < 1e-3  # z-scores too, not [0, 1]


def test_standardize_on_a_folder_without_manifest_says_so_in_one_line(tiny_release, tmp_path):
    folder = tmp_path / "unfinished"
    shutil.copytree(tiny_release, folder)
    (folder / schema.MANIFEST_FILE).unlink()
    with pytest.raises(NotFoundError) as raised:
        load("vqa", split="train", source=folder, decode="sar", sar_options={"normalize": "standardize"})
    message = str(raised.value)
    assert message.startswith(f"{folder}: no MANIFEST.json, so not a release written by `sarlang1m build`")
    assert "\n" not in message


def test_bad_arguments(tiny_release):
    with pytest.raises(ValueError, match="decode"):
        load("vqa", source=tiny_release, decode="pixels")
    with pytest.raises(ValueError, match="sar_options"):
        load("vqa", source=tiny_release, sar_options={"normalize": "percentile"})


def test_a_release_rebuilt_in_place_is_not_served_from_the_old_cache(tiny_raw, tmp_path):
    out = tmp_path / "sarlang-1m"
    build_release(tiny_raw, out, progress=False)
    assert "Urban." in [a for r in load("vqa", split="test", source=out) for a in r["qa"]["answer"]]
    csv = tiny_raw / "Text" / "VQA" / "test" / "SARVQA2_test.csv"
    csv.write_text(csv.read_text().replace("Urban.", "Rural."))
    build_release(tiny_raw, out, progress=False, overwrite=True)
    assert "Rural." in [a for r in load("vqa", split="test", source=out) for a in r["qa"]["answer"]]


def test_pairs_keep_image_bytes_when_not_decoding(tiny_release):
    for streaming in (False, True):
        rows = load("sarvqa1", split="train", source=tiny_release, decode=None, pairs=True, streaming=streaming)
        examples = list(rows)
        assert len(examples) == 3 and all(isinstance(e["image"]["bytes"], bytes) for e in examples)


def test_pairs_with_sar_decode_each_image_once(tiny_release, monkeypatch):
    from sarlang1m.decode import SARDecode

    calls = []
    original = SARDecode.decode_row
    monkeypatch.setattr(
        SARDecode, "decode_row", lambda self, row, *a: calls.append(row["image_id"]) or original(self, row, *a)
    )
    streamed = list(load("sarvqa1", split="train", source=tiny_release, decode="sar", pairs=True, streaming=True))
    assert [e["id"][:7] for e in streamed] == ["0000001"] * 3 and calls == ["0000001"]
    assert all(e["pixels"].shape == streamed[0]["pixels"].shape for e in streamed)
    assert streamed[1]["pixels"] is not streamed[0]["pixels"]  # copies: augmenting one leaves the others intact
    calls.clear()
    view = load("sarvqa1", split="train", source=tiny_release, decode="sar", pairs=True)
    assert len(view) == 3 and view[2]["pixels_source"] == "image"
    assert calls == ["0000001"]


def test_pairs_of_every_split_come_as_a_dict(tiny_release):
    views = load("captions", source=tiny_release, pairs=True)
    assert set(views) == {"train", "test"} and len(views["test"]) == 2
