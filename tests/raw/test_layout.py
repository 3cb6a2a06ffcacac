"""The parts of a raw release found in its files, whatever holds them and in each known layout (synthetic)."""

from __future__ import annotations

import pytest
from zip_archives import write_zip, zip_tree

from sarlang1m.raw.files import FolderFiles, RawReleaseError, open_raw
from sarlang1m.raw.layout import find_layout, is_synthetic, open_layout

README_TEXTS = ["Text/caption/Caption-training.csv", "Text/caption/Caption_test.csv", "Text/caption/Caption_test1.csv",
                "Text/VQA/train/SARVQA1_train.json", "Text/VQA/test/SARVQA2_test.json"]  # fmt: skip
REPORTED_TEXTS = ["Text/Caption/train/Caption_train.json", "Text/Caption/test/Caption_test.csv",
                  "Text/Caption/test/Caption_test1.json", "Text/VQA/train/SARVQA1_train.json",
                  "Text/VQA/test/SARVQA2_test.csv"]  # fmt: skip
SPECS = [
    ("captions", "test", None, "detailed"),
    ("captions", "test", None, "concise"),
    ("captions", "train", None, None),
    ("vqa", "test", "sarvqa2", None),
    ("vqa", "train", "sarvqa1", None),
]


def specs(layout):
    return sorted(((t.spec.task, t.spec.split, t.spec.subset, t.spec.style) for t in layout.text_files), key=str)


def write_files(root, paths):
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(b"[]")
    return root


@pytest.mark.parametrize("texts", [README_TEXTS, REPORTED_TEXTS, [p.upper() for p in REPORTED_TEXTS]])
@pytest.mark.parametrize("form", ["folder", "archives"])
def test_the_readme_and_the_reported_text_layouts_are_both_recognised(tmp_path, texts, form):
    tree = write_files(tmp_path / "tree", texts)
    raw = tree if form == "folder" else zip_tree(tmp_path / "upload" / "Text.zip", tree).parent
    layout = open_layout(raw)
    assert specs(layout) == sorted(SPECS, key=str)
    assert sorted(t.path for t in layout.text_files) == sorted(texts)


def test_the_archives_top_folders_and_the_readme_folders_hold_the_images(tmp_path):
    write_zip(tmp_path / "Text.zip", {"Text/VQA/train/SARVQA2_train.json": b"[]"})
    write_zip(tmp_path / "pngs.zip", {"SARimages_preprocessed/SARimages/SN6_Rotterdam_1.png": b"a",
                                      "SARimages_preprocessed/SARimages/deeper/x.png": b"not flat"})  # fmt: skip
    write_zip(tmp_path / "tifs.zip", {"sarimages_ORIGINAL/SN6_Rotterdam_1.tif": b"b"})
    write_files(tmp_path, ["SARimages/France_Nice_Nice_1.png", "SARDet_100K/JPEGImages/val/0000001.jpg"])
    layout = open_layout(tmp_path)
    assert [(kind, f.path) for kind, f in layout.image_files()] == [
        ("preprocessed", "SARimages/France_Nice_Nice_1.png"),
        ("preprocessed", "SARimages_preprocessed/SARimages/SN6_Rotterdam_1.png"),
        ("original", "sarimages_ORIGINAL/SN6_Rotterdam_1.tif"),
        ("sardet", "SARDet_100K/JPEGImages/val/0000001.jpg"),
    ]
    layout.close()


def test_sardet_from_its_own_root_replaces_the_one_inside(tmp_path):
    raw = write_files(tmp_path / "raw", ["Text/VQA/train/SARVQA1_train.json", "SARDet_100K/JPEGImages/train/1.jpg"])
    other = write_zip(tmp_path / "SARDet_100K.zip", {"SARDet_100K/JPEGImages/val/0000002.jpg": b"x"})
    layout = open_layout(raw, sardet_root=other)
    found = [(kind, f.path) for kind, f in layout.image_files()]
    assert found == [("sardet", "SARDet_100K/JPEGImages/val/0000002.jpg")]
    layout.close()


@pytest.mark.parametrize("folder", ["SARDet_100K", "Text", "SARimages_original"])
def test_a_linked_folder_the_layout_reads_is_an_error_not_missing_files(tmp_path, folder):
    outside = write_files(tmp_path / "elsewhere", ["JPEGImages/train/1.jpg", "VQA/train/SARVQA1_train.json", "a.tif"])
    raw = write_files(tmp_path / "raw", ["Text/VQA/test/SARVQA1_test.json"] if folder != "Text" else ["a.md"])
    (raw / folder).symlink_to(outside, target_is_directory=True)
    with pytest.raises(RawReleaseError, match=rf"raw/{folder}: a symbolic link: not followed .* copy the folder in"):
        open_layout(raw)


def test_a_linked_sardet_folder_is_no_error_when_sardet_comes_from_elsewhere(tmp_path):
    raw = write_files(tmp_path / "raw", ["Text/VQA/test/SARVQA1_test.json"])
    sardet = write_files(tmp_path / "sardet", ["JPEGImages/val/0000002.jpg"])
    (raw / "SARDet_100K").symlink_to(sardet, target_is_directory=True)
    layout = open_layout(raw, sardet_root=sardet)
    assert layout.refused() == [(f"{raw}: SARDet_100K", "a symbolic link: not followed (give its target instead)")]


def test_unknown_text_files_and_no_texts_are_errors(tmp_path):
    with pytest.raises(RawReleaseError, match=r"no text files found"):
        find_layout(FolderFiles(write_files(tmp_path / "a", ["SARimages/x.png"])))
    with pytest.raises(RawReleaseError, match=r"names are not the authors'.*Text/VQA/notes\.json"):
        find_layout(FolderFiles(write_files(tmp_path / "b", ["Text/VQA/notes.json"])))


def test_the_synthetic_marker_is_found_beside_the_archives(tmp_path):
    write_zip(tmp_path / "Text.zip", {"Text/VQA/train/SARVQA1_train.json": b"[]"})
    assert not is_synthetic(open_raw(tmp_path))
    (tmp_path / "SYNTHETIC.md").write_text("synthetic")
    assert is_synthetic(open_raw(tmp_path))
