"""The synthetic release written as the authors' upload: archives side by side, the reported text layout."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from sarlang1m.synth import write_synthetic_release

IMAGES = 40


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same synthetic release (seed 0) as the unzipped tree and as the upload, SARDet-100K as one archive."""
    root = tmp_path_factory.mktemp("forms")
    write_synthetic_release(root / "tree", images=IMAGES, progress=False)
    write_synthetic_release(root / "upload", images=IMAGES, upload=True, sardet_archive=True, progress=False)
    return {"tree": root / "tree", "upload": root / "upload"}


def members(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as opened:
        return {info.filename: opened.read(info) for info in opened.infolist()}


def test_the_upload_is_archives_side_by_side(forms):
    upload = forms["upload"]
    assert sorted(p.name for p in upload.iterdir()) == [
        "SARDet_100K.zip",
        "SARimages_original.zip",
        "SARimages_preprocessed.zip",
        "SYNTHETIC.md",
        "Text.zip",
        "synthetic_truth",
    ]
    text = members(upload / "Text.zip")
    assert {name.rsplit(".", 1)[0] for name in text} == {
        "Text/Caption/train/Caption_train",
        "Text/Caption/test/Caption_test",
        "Text/Caption/test/Caption_test1",
        "Text/VQA/train/SARVQA1_train",
        "Text/VQA/test/SARVQA1_test",
        "Text/VQA/train/SARVQA2_train",
        "Text/VQA/test/SARVQA2_test",
    }
    note = (upload / "SYNTHETIC.md").read_text()
    assert "SYNTHETIC DATA" in note and "upload=True, sardet_archive=True" in note
    assert "**The names of these two archives are invented**" in note


def test_every_file_of_the_tree_is_in_an_archive_with_the_same_bytes(forms):
    tree, upload = forms["tree"], forms["upload"]
    pngs = members(upload / "SARimages_preprocessed.zip")
    assert all(name.startswith("SARimages_preprocessed/SARimages/") for name in pngs)
    packed = {
        **{f"SARimages/{name.rsplit('/', 1)[1]}": data for name, data in pngs.items()},
        **members(upload / "SARimages_original.zip"),
        **members(upload / "SARDet_100K.zip"),
    }
    images = {p.relative_to(tree).as_posix(): p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    images = {k: v for k, v in images.items() if k.startswith(("SARimages", "SARDet_100K"))}
    assert packed == images


def test_the_texts_are_the_same_with_the_reported_names_and_headers(forms):
    tree, text = forms["tree"], members(forms["upload"] / "Text.zip")
    json_pairs = {
        "Text/caption/Caption-training.json": "Text/Caption/train/Caption_train.json",
        "Text/caption/Caption_test1.json": "Text/Caption/test/Caption_test1.json",
        "Text/VQA/test/SARVQA2_test.json": "Text/VQA/test/SARVQA2_test.json",
    }
    for readme, reported in json_pairs.items():
        assert (tree / readme).read_bytes() == text[reported]
    headers = {}
    for name, data in text.items():
        if name.endswith(".csv"):
            headers[name] = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert {h.strip() for header in headers.values() for h in header} == {"Image Name", "Question", "Answer", "Caption"}
    assert any(h != h.strip() for header in headers.values() for h in header)  # stray spaces, as reported
    labels = (forms["upload"] / "synthetic_truth" / "labels.csv").read_text()
    assert "Text/Caption/train/Caption_train," in labels and "Text/caption/" not in labels


def test_the_same_call_writes_the_same_archives(forms, tmp_path):
    again = tmp_path / "again"
    write_synthetic_release(again, images=IMAGES, upload=True, sardet_archive=True, progress=False)
    for archive in ("Text.zip", "SARimages_preprocessed.zip", "SARimages_original.zip", "SARDet_100K.zip"):
        assert (again / archive).read_bytes() == (forms["upload"] / archive).read_bytes()
    with zipfile.ZipFile(again / "Text.zip") as opened:
        assert {info.date_time for info in opened.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {info.compress_type for info in opened.infolist()} == {zipfile.ZIP_DEFLATED}
