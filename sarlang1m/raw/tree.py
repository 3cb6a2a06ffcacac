"""The folders of a `RawFiles` listing, found by name case-insensitively, and the files in them.

The authors' README and the folders people report differ in case (`Text/caption/` and `Text/Caption/`),
and a container has no folders of its own, only file paths: this index derives the folders from the
paths once, so that the layout and the SARDet-100K root are found the same way in a folder or an archive.
"""

from __future__ import annotations

from .files import RawFile


class FolderIndex:
    """Folders ("" is the top) and their files, from the paths of a listing (sorted, as `RawFiles.files`)."""

    def __init__(self, files: list[RawFile]):
        self.files = files
        self.subfolders: dict[str, set[str]] = {"": set()}
        for file in files:
            parent = ""
            for part in file.path.split("/")[:-1]:
                self.subfolders.setdefault(parent, set()).add(part)
                parent = f"{parent}/{part}" if parent else part
                self.subfolders.setdefault(parent, set())

    def find(self, parent: str, name: str) -> str | None:
        """The sub-folder of `parent` named `name`, exactly or else case-insensitively (the first, sorted)."""
        names = self.subfolders.get(parent, set())
        if name not in names:
            name = next((n for n in sorted(names) if n.lower() == name.lower()), "")
        return (f"{parent}/{name}" if parent else name) if name else None

    def files_in(self, folder: str, suffixes: tuple[str, ...], *, recursive: bool) -> list[RawFile]:
        """Files directly in `folder` (or anywhere below it) whose names end with one of `suffixes`."""
        prefix = f"{folder}/" if folder else ""
        return [
            file
            for file in self.files
            if file.path.startswith(prefix)
            and file.name.lower().endswith(suffixes)
            and (recursive or "/" not in file.path[len(prefix) :])
        ]
