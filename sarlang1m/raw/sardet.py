"""SARDet-100K's root, wherever it lies: a folder or an archive, on its own or inside the raw release.

SARDet-100K is not part of the authors' upload: its maintainers distribute `SARDet_100K/` with
`JPEGImages/{train,val,test}/`, COCO `Annotations/{train,val,test}.json` and, reportedly, a
`mapping.json` (file name -> constituent dataset). This module only locates those files in a `RawFiles`;
what they hold is read elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..sources import IMAGE_EXTENSIONS
from .files import RawFile, RawFiles, RawReleaseError, open_raw
from .tree import FolderIndex

#: SARDet-100K's own splits (its `val` is SARLANG-1M's test split).
SARDET_SPLITS = ("train", "val", "test")
#: Names of a SARDet-100K folder without `JPEGImages/` that is still taken as its root (images anywhere below).
SARDET_FOLDER_NAMES = ("SARDet_100K", "SARDet-100K")


class SardetRoot:
    """The folder `folder` ("" for the top) of `files` that holds SARDet-100K."""

    def __init__(self, files: RawFiles, folder: str = "", *, index: FolderIndex | None = None):
        self.files, self.folder = files, folder
        self._index = index or FolderIndex(files.files())

    @property
    def label(self) -> str:
        return f"{self.files.label}/{self.folder}" if self.folder else self.files.label

    def images(self) -> Iterator[tuple[str | None, RawFile]]:
        """(split, file) of every image under `JPEGImages/` (split None outside `{train,val,test}/`);
        every image under the root when it has no `JPEGImages/`."""
        images = self._index.find(self.folder, "JPEGImages")
        start = len(images) + 1 if images is not None else 0
        for file in self._index.files_in(images or self.folder, IMAGE_EXTENSIONS, recursive=True):
            split = file.path[start:].split("/", 1)[0].lower() if images is not None else None
            yield (split if split in SARDET_SPLITS else None), file

    def annotations(self) -> dict[str, RawFile]:
        """The COCO file of each split that has one: `Annotations/{split}.json`."""
        folder = self._index.find(self.folder, "Annotations")
        if folder is None:
            return {}
        found = {f.name.lower(): f for f in self._index.files_in(folder, (".json",), recursive=False)}
        return {split: found[f"{split}.json"] for split in SARDET_SPLITS if f"{split}.json" in found}

    def mapping(self) -> RawFile | None:
        """`mapping.json` at the root (file name -> constituent dataset), if it is there."""
        found = self._index.files_in(self.folder, (".json",), recursive=False)
        return next((f for f in found if f.name.lower() == "mapping.json"), None)


def find_sardet(files: RawFiles) -> SardetRoot | None:
    """The SARDet-100K root in `files`: the folder holding `JPEGImages/`, at the top or one level down;
    else a top folder named like `SARDet_100K` (its images anywhere below); else None."""
    index = FolderIndex(files.files())
    if index.find("", "JPEGImages") is not None:
        return SardetRoot(files, "", index=index)
    holding = sorted(f for f in index.subfolders[""] if index.find(f, "JPEGImages") is not None)
    if len(holding) > 1:
        raise RawReleaseError(
            f"{files.label}: several folders hold JPEGImages/ ({', '.join(holding)}); "
            "pass the SARDet-100K one as --sardet-root"
        )
    if holding:
        return SardetRoot(files, holding[0], index=index)
    for name in SARDET_FOLDER_NAMES:
        if (folder := index.find("", name)) is not None:
            return SardetRoot(files, folder, index=index)
    return None


def open_sardet(spec: str | Path) -> SardetRoot:
    """The SARDet-100K root the user named (`--sardet-root`): a folder or one archive, its root found by
    `find_sardet`, or the whole of it when nothing in it is named like one (images anywhere inside)."""
    try:
        files = open_raw(spec)
    except RawReleaseError as error:
        raise type(error)(f"--sardet-root {error}") from error
    try:
        return find_sardet(files) or SardetRoot(files)
    except BaseException:
        files.close()
        raise
