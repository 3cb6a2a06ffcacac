"""Locating SARDet-100K's root in a folder or an archive: images per split, COCO files, mapping (synthetic)."""

from __future__ import annotations

import pytest
from zip_archives import zip_tree

from sarlang1m.raw.files import FolderFiles, RawReleaseError
from sarlang1m.raw.sardet import find_sardet, open_sardet


def make_sardet(root, *, mapping=True):
    """A SARDet-100K root with mixed image types, COCO files and (optionally) a mapping. Synthetic bytes."""
    for split, names in {"train": ["0000001.jpg", "0000002.PNG"], "val": ["0000003.bmp"], "test": []}.items():
        (root / "JPEGImages" / split).mkdir(parents=True)
        for name in names:
            (root / "JPEGImages" / split / name).write_bytes(name.encode())
    (root / "JPEGImages" / "extra").mkdir()
    (root / "JPEGImages" / "extra" / "0000004.jpg").write_bytes(b"outside the splits")
    (root / "Annotations").mkdir()
    for split in ("train", "val"):
        (root / "Annotations" / f"{split}.json").write_text('{"images": []}')
    (root / "Annotations" / "notes.json").write_text("{}")
    if mapping:
        (root / "mapping.json").write_text("{}")
    return root


def described(sardet):
    return {
        "images": [(split, f.path.split("JPEGImages/")[1]) for split, f in sardet.images()],
        "annotations": {split: f.name for split, f in sardet.annotations().items()},
        "mapping": sardet.mapping() and sardet.mapping().name,
    }


EXPECTED = {
    "images": [(None, "extra/0000004.jpg"), ("train", "train/0000001.jpg"), ("train", "train/0000002.PNG"),
               ("val", "val/0000003.bmp")],
    "annotations": {"train": "train.json", "val": "val.json"},
    "mapping": "mapping.json",
}  # fmt: skip


@pytest.mark.parametrize("form", ["folder", "folder above", "archive", "archive of the folder"])
def test_a_root_is_found_the_same_in_a_folder_or_an_archive(tmp_path, form):
    root = make_sardet(tmp_path / "SARDet_100K")
    spec = {
        "folder": root,
        "folder above": tmp_path,
        "archive": zip_tree(tmp_path / "flat.zip", root),
        "archive of the folder": zip_tree(tmp_path / "SARDet_100K.zip", root, prefix="SARDet_100K/"),
    }[form]
    assert described(open_sardet(spec)) == EXPECTED


def test_files_are_read_through_the_root(tmp_path):
    sardet = open_sardet(zip_tree(tmp_path / "s.zip", make_sardet(tmp_path / "s"), prefix="SARDet_100K/"))
    _, first = next(iter(sardet.images()))
    assert sardet.files.read(first, 100) == b"outside the splits"
    assert sardet.label.endswith("s.zip/SARDet_100K")


def test_no_mapping_no_annotations(tmp_path):
    root = make_sardet(tmp_path / "r", mapping=False)
    for path in (root / "Annotations").iterdir():
        path.unlink()
    sardet = open_sardet(root)
    assert sardet.mapping() is None and sardet.annotations() == {}


def test_a_folder_without_jpegimages_is_taken_whole_when_given(tmp_path):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "0000009.jpg").write_bytes(b"x")
    (tmp_path / "flat" / "notes.txt").write_bytes(b"x")
    assert [(split, f.path) for split, f in open_sardet(tmp_path / "flat").images()] == [(None, "0000009.jpg")]


def test_inside_a_raw_release_the_folder_holding_jpegimages_is_found(tmp_path):
    make_sardet(tmp_path / "SARDet-100K-v1")
    (tmp_path / "Text").mkdir()
    assert find_sardet(FolderFiles(tmp_path)).folder == "SARDet-100K-v1"
    assert find_sardet(FolderFiles(tmp_path / "Text")) is None


def test_a_sardet_folder_named_so_without_jpegimages_is_still_found(tmp_path):
    (tmp_path / "sardet_100k" / "train").mkdir(parents=True)
    (tmp_path / "sardet_100k" / "train" / "0000001.jpg").write_bytes(b"x")
    sardet = find_sardet(FolderFiles(tmp_path))
    assert sardet.folder == "sardet_100k" and [f.path for _, f in sardet.images()] == ["sardet_100k/train/0000001.jpg"]


def test_several_candidate_roots_are_an_error_naming_them(tmp_path):
    make_sardet(tmp_path / "a")
    make_sardet(tmp_path / "b")
    with pytest.raises(RawReleaseError, match=r"several folders hold JPEGImages/ \(a, b\); pass .* --sardet-root"):
        find_sardet(FolderFiles(tmp_path))


def test_a_sardet_root_that_is_not_there_names_the_option(tmp_path):
    with pytest.raises(RawReleaseError, match=r"^--sardet-root .*nope: not a folder or a \.zip archive"):
        open_sardet(tmp_path / "nope")
