"""The authors' Hugging Face upload, imitated: the same release packed into zip archives side by side.

The authors ship `Text.zip` (confirmed) holding, as people who read it report, `Text/{Caption,VQA}/{train,test}/`
with names like `Caption_train.json` and CSV headers such as `Image Name`, `Question`, `Answer` (with stray
spaces); the SAR images come as `SARimages_preprocessed/SARimages/*.png` and `SARimages_original/*.tif` in
archives whose names are not published (the names here are invented). SARDet-100K is not part of the upload:
it stays beside the archives, as a folder or one archive of its own. Archives are written deterministically
(sorted members, fixed timestamps and modes), so the same call gives the same bytes.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import replace
from pathlib import Path

from .layout import ORIGINALS, SARDET_ROOT, SARIMAGES, TEXT_FILES, TextFileStyle

#: Where the reported layout puts each text file (the VQA files sit as in the README layout).
_REPORTED_STEMS = {
    ("captions", "train", ""): "Text/Caption/train/Caption_train",
    ("captions", "test", "detailed"): "Text/Caption/test/Caption_test",
    ("captions", "test", "concise"): "Text/Caption/test/Caption_test1",
}
#: The reported CSV header names.
_REPORTED_HEADER = {"image": "Image Name", "question": "Question", "answer": "Answer", "caption": "Caption"}
TEXT_ARCHIVE = "Text.zip"
#: Invented names: nobody outside has published the names of the archives holding the SAR images.
PREPROCESSED_ARCHIVE = "SARimages_preprocessed.zip"
ORIGINALS_ARCHIVE = "SARimages_original.zip"
SARDET_ARCHIVE = f"{SARDET_ROOT}.zip"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def reported_text_files() -> dict[tuple[str, str, str], TextFileStyle]:
    """The text files as the upload's `Text.zip` is reported to hold them: the same texts and dialects, the
    reported folders and names, and headers named `Image Name`, `Question`, ... (every other file with stray
    spaces around the names)."""
    styles = {}
    for number, (key, style) in enumerate(TEXT_FILES.items()):
        header = [_REPORTED_HEADER[field] for field in style.csv_fields]
        if number % 2:
            header = [f" {name}" if column else f"{name} " for column, name in enumerate(header)]
        styles[key] = replace(style, stem=_REPORTED_STEMS.get(key, style.stem), csv_header=tuple(header))
    return styles


def pack_upload(root: Path) -> None:
    """Replace the texts and SAR image folders under `root` by the upload's archives, side by side."""
    pack_folder(root, "Text", TEXT_ARCHIVE, "Text")
    pack_folder(root, SARIMAGES, PREPROCESSED_ARCHIVE, f"SARimages_preprocessed/{SARIMAGES}")
    pack_folder(root, ORIGINALS, ORIGINALS_ARCHIVE, ORIGINALS)


def pack_sardet(root: Path) -> None:
    """Replace `SARDet_100K/` under `root` by one archive holding it, as its maintainers' downloads do."""
    pack_folder(root, SARDET_ROOT, SARDET_ARCHIVE, SARDET_ROOT)


def pack_folder(root: Path, folder: str, archive: str, prefix: str) -> None:
    """Write every file under `root/folder` into `root/archive` as `prefix/<its path in folder>`, deflated,
    in sorted order with fixed timestamps and modes; then remove the folder."""
    source = root / folder
    files = sorted((p for p in source.rglob("*") if p.is_file()), key=lambda p: p.relative_to(source).as_posix())
    with zipfile.ZipFile(root / archive, "w", allowZip64=True) as zipped:
        for path in files:
            info = zipfile.ZipInfo(f"{prefix}/{path.relative_to(source).as_posix()}", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix: the mode below is read as one
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.file_size = path.stat().st_size  # decides whether the member needs zip64
            with path.open("rb") as reader, zipped.open(info, "w") as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)
    shutil.rmtree(source)
