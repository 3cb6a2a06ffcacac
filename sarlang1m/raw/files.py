"""The authors' inputs as one read-only tree of files, whatever holds them: a folder or zip archives.

Layout discovery, the text readers, image matching and the shard writers see a `RawFiles`: files with
POSIX paths relative to its root (`RawFile`), listed once and opened for streamed reads. A file's `ref`
is a plain string that reopens it in any process (`open_ref`, `read_ref`): the staging store and the
pool workers carry only strings, and each process keeps the archives it opened in a small cache.

`FolderFiles` is an unzipped tree: symbolic links and special files are refused, never followed.
`ArchiveFiles` is a virtual tree over the members of zip archives (zip64, stored or deflate members,
streamed, never extracted) plus any plain files beside them; it takes seekable binary file objects, so
the archives may lie on disk or anywhere such a file can be opened. Member names are data, never paths:
`safe_member_path` normalises one or says why it is refused, and refused entries are listed with their
reason (`RawFiles.refused`) for the build report. `open_raw` picks the form from what the user named.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError
from .zip_members import (
    MEMBER_REF,
    CorruptArchiveError,
    cache_zip,
    member_ref,
    open_location,
    open_member,
    open_zip,
    split_member_ref,
    uncache_zip,
)

__all__ = [
    "Archive",
    "ArchiveFiles",
    "CorruptArchiveError",
    "FolderFiles",
    "RawFile",
    "RawFiles",
    "RawReleaseError",
    "UnsafeMemberPath",
    "describe_ref",
    "open_location",
    "open_raw",
    "open_ref",
    "read_ref",
    "ref_name",
    "safe_member_path",
    "sha256_of",
]

_HUB_PREFIX = "hf://"
_DRIVE = re.compile(r"^[A-Za-z]:")


class RawReleaseError(InputError):
    """The raw inputs are not laid out or not readable as expected; the message names the file and what to do."""


class UnsafeMemberPath(ValueError):
    """An archive entry that is never read as content; `reason` says why (see `safe_member_path`)."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name!r}: {reason}")
        self.name, self.reason = name, reason


@dataclass(frozen=True)
class RawFile:
    """One input file: its normalised path in the tree, its size, and the ref that reopens it anywhere."""

    path: str
    size: int
    ref: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class RawFiles(ABC):
    """A read-only tree of input files. Subclasses list the files; reading goes through the refs."""

    def __init__(self, label: str):
        #: What the user named (a folder, an archive), for messages.
        self.label = label
        #: (entry, reason) of every entry that is never read (links, unsafe or repeated members); complete once
        #: `files` has listed the tree.
        self.refused: list[tuple[str, str]] = []

    @abstractmethod
    def files(self) -> list[RawFile]:
        """Every file, sorted by path; hidden files (a part starting with '.') are skipped."""

    def open(self, file: RawFile) -> BinaryIO:
        """The file as a streamed binary file object (close it, or use it in a `with`)."""
        return open_ref(file.ref)

    def read(self, file: RawFile, limit: int) -> bytes:
        """The whole file; one longer than `limit` bytes is an error naming it."""
        return read_ref(file.ref, limit)

    @abstractmethod
    def provenance(self) -> dict:
        """What this tree was read from, for the records of a build."""

    def close(self) -> None:  # noqa: B027 (a folder holds nothing open: archives override it)
        """Release the open archives (refs still reopen them)."""

    def __enter__(self) -> RawFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FolderFiles(RawFiles):
    """An unzipped tree on disk. Symbolic links and special files are refused (and listed), never followed."""

    def __init__(self, root: str | Path, *, label: str | None = None):
        super().__init__(label if label is not None else str(root))
        self.root = Path(root).absolute()
        self._files: list[RawFile] | None = None

    def files(self) -> list[RawFile]:
        if self._files is None:
            self._files = sorted(self._walk(), key=lambda f: f.path)
        return self._files

    def _walk(self) -> Iterator[RawFile]:
        pending = [("", str(self.root))]
        while pending:
            prefix, folder = pending.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    path = prefix + entry.name
                    if entry.is_symlink():
                        self.refused.append((path, "a symbolic link: not followed (give its target instead)"))
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append((path + "/", entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        yield RawFile(path, entry.stat(follow_symlinks=False).st_size, entry.path)
                    else:
                        self.refused.append((path, "not a regular file (a device, FIFO or socket)"))

    def provenance(self) -> dict:
        files = self.files()
        return {"form": "folder", "files": len(files), "bytes": sum(f.size for f in files)}


@dataclass(frozen=True)
class Archive:
    """A zip archive to read: `location` reopens it in another process (`open_location`), `name` is its path
    in the tree beside it (for messages and provenance), `file` a seekable binary file object over it."""

    location: str
    name: str
    file: BinaryIO


class ArchiveFiles(RawFiles):
    """A virtual tree over the members of zip archives, plus the plain files beside them (`plain`).

    Members are listed from each archive's central directory and streamed when read, never extracted.
    Entries whose names are unsafe (`safe_member_path`) are refused; a path met twice (in two archives,
    or in an archive and beside it) is read once when both copies have the same size and CRC-32 (the
    other is listed as refused) and is an error when they differ: the build cannot tell which is right.
    """

    def __init__(self, archives: Sequence[Archive], *, plain: RawFiles | None = None, label: str):
        """Takes over the archives' file objects (`close` closes them) and the plain files beside them."""
        super().__init__(label)
        self.archives = sorted(archives, key=lambda a: a.name)
        self._plain = plain
        try:
            self._sizes = {a.location: a.file.seek(0, io.SEEK_END) for a in self.archives}
            self._zips = {a.location: open_zip(a.location, a.file) for a in self.archives}
        except BaseException:
            for archive in self.archives:
                archive.file.close()
            raise
        for location, opened in self._zips.items():
            cache_zip(location, opened)
        self._files: list[RawFile] | None = None

    def files(self) -> list[RawFile]:
        if self._files is None:
            self._files = sorted(self._list().values(), key=lambda f: f.path)
        return self._files

    def _list(self) -> dict[str, RawFile]:
        found: dict[str, RawFile] = {}
        crcs: dict[str, int] = {}  # of the members kept, from the central directory
        archive_names = {a.name for a in self.archives}
        if self._plain is not None:
            found.update((f.path, f) for f in self._plain.files() if f.path not in archive_names)
            self.refused.extend(self._plain.refused)
        for archive in self.archives:
            for info in self._zips[archive.location].infolist():
                where = f"{archive.name}: {info.orig_filename!r}"
                try:
                    path = _member_path(info)
                except UnsafeMemberPath as refusal:
                    self.refused.append((where, refusal.reason))
                    continue
                if path is None or any(part.startswith(".") for part in path.split("/")):
                    continue  # a folder entry (no content), or a hidden file
                member = RawFile(path, info.file_size, member_ref(archive.location, info.filename))
                kept = found.get(path)
                if kept is None:
                    found[path], crcs[path] = member, info.CRC
                elif kept.size == member.size and (crcs[path] if path in crcs else _file_crc(kept)) == info.CRC:
                    self.refused.append(
                        (where, f"the same file as {describe_ref(kept.ref)} (size and CRC-32): read once")
                    )
                else:
                    raise RawReleaseError(
                        f"{path}: in both {describe_ref(kept.ref)} and {describe_ref(member.ref)}, with different "
                        "contents; remove one of them (the build cannot tell which is right)"
                    )
        return found

    def provenance(self) -> dict:
        members = {a.location: 0 for a in self.archives}
        for file in self.files():
            if file.ref.startswith(MEMBER_REF):
                members[split_member_ref(file.ref)[0]] += 1
        return {
            "form": "archives",
            "archives": [
                {"name": a.name, "bytes": self._sizes[a.location], "members": members[a.location]}
                for a in self.archives
            ],
            "plain_files": sum(not f.ref.startswith(MEMBER_REF) for f in self.files()),
        }

    def close(self) -> None:
        for archive in self.archives:
            uncache_zip(archive.location, self._zips[archive.location])
            self._zips[archive.location].close()
            archive.file.close()
        if self._plain is not None:
            self._plain.close()


def safe_member_path(name: str, mode: int = 0) -> str:
    """An archive member's name as a normalised relative POSIX path; `UnsafeMemberPath` says why it is refused.

    Refused: NUL or control characters, an absolute path, a drive letter, a '..' that leaves the archive,
    an empty path; and by `mode` (the Unix mode a zip stores in its external attributes) a symbolic link,
    a device, FIFO or socket, and a folder. Backslashes count as separators (some Windows tools write them).
    """
    if "\0" in name:
        raise UnsafeMemberPath(name, "a NUL character in its name")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        raise UnsafeMemberPath(name, "a control character in its name")
    posix = name.replace("\\", "/")
    if posix.startswith("/"):
        raise UnsafeMemberPath(name, "an absolute path")
    if _DRIVE.match(posix):
        raise UnsafeMemberPath(name, "a drive letter")
    parts: list[str] = []
    for part in posix.split("/"):
        if part == "..":
            if not parts:
                raise UnsafeMemberPath(name, "a '..' that leaves the archive")
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    if not parts:
        raise UnsafeMemberPath(name, "an empty path")
    if stat.S_ISLNK(mode):
        raise UnsafeMemberPath(name, "a symbolic link")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        raise UnsafeMemberPath(name, "a device, FIFO or socket")
    if stat.S_ISDIR(mode) or posix.endswith("/"):
        raise UnsafeMemberPath(name, "a folder")
    return "/".join(parts)


def _member_path(info: zipfile.ZipInfo) -> str | None:
    """The safe path of a member, None for a folder entry with a safe name (it holds nothing to read)."""
    mode = info.external_attr >> 16
    if info.orig_filename.replace("\\", "/").endswith("/") or stat.S_ISDIR(mode):
        safe_member_path(info.orig_filename.rstrip("/\\") or "/")  # an unsafe folder name is still refused
        return None
    return safe_member_path(info.orig_filename, mode)


def open_raw(spec: str | Path) -> RawFiles:
    """The inputs the user named: a folder without archives (`FolderFiles`), a folder holding ``*.zip`` or
    one ``.zip`` (`ArchiveFiles`, plain files beside the archives included)."""
    text = os.fspath(spec)
    if text.startswith(_HUB_PREFIX):
        raise RawReleaseError(
            f"{text}: building from the Hub: not yet supported; download it first "
            "(hf download ORG/NAME --repo-type dataset --local-dir DIR) and build from DIR"
        )
    path = Path(text)
    if path.is_dir():
        folder = FolderFiles(path, label=text)
        archives = [
            f for f in folder.files() if "/" not in f.path and f.path.lower().endswith(".zip")
        ]  # the archives side by side, as downloaded
        if not archives:
            return folder
        return ArchiveFiles([_local_archive(Path(f.ref), f.path) for f in archives], plain=folder, label=text)
    if path.is_file() and path.suffix.lower() == ".zip":
        return ArchiveFiles([_local_archive(path.absolute(), path.name)], label=text)
    reason = "it does not exist" if not path.exists() else "it is something else"
    raise RawReleaseError(f"{text}: not a folder or a .zip archive ({reason})")


def _local_archive(path: Path, name: str) -> Archive:
    return Archive(str(path), name, open_location(str(path)))


# ------------------------------------------------------------------------------------------ refs


def describe_ref(ref: str) -> str:
    """How messages name a file: its local path, or ``ARCHIVE: MEMBER``."""
    if ref.startswith(MEMBER_REF):
        return "{}: {}".format(*split_member_ref(ref))
    return ref


def ref_name(ref: str) -> str:
    """The file name (last path part) of the file a ref names."""
    if ref.startswith(MEMBER_REF):
        return safe_member_path(split_member_ref(ref)[1]).rsplit("/", 1)[-1]
    return Path(ref).name


def open_ref(ref: str) -> BinaryIO:
    """The file a ref names, as a streamed binary file object, in any process."""
    return _open(ref)[0]


def read_ref(ref: str, limit: int) -> bytes:
    """The whole file a ref names, in any process; a file longer than `limit` bytes is an error naming it."""
    stream, size = _open(ref)
    with stream:
        if size > limit:
            raise RawReleaseError(f"{describe_ref(ref)}: {size} bytes, more than the {limit} the build reads of a file")
        data = stream.read(size)  # a member read to its end: its CRC-32 is checked
        if len(data) != size or stream.read(1):
            raise RawReleaseError(f"{describe_ref(ref)}: changed while it was read (expected {size} bytes)")
    return data


def _open(ref: str) -> tuple[BinaryIO, int]:
    """The file a ref names, opened, and its size."""
    if ref.startswith(MEMBER_REF):
        return open_member(ref)
    local = os.fdopen(os.open(ref, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")
    return local, os.fstat(local.fileno()).st_size


def sha256_of(file: RawFile) -> str:
    """The sha256 of a file's bytes (the same whatever holds them)."""
    digest = hashlib.sha256()
    with open_ref(file.ref) as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _file_crc(file: RawFile) -> int:
    """The CRC-32 of a plain file, to compare it with an archive member at the same path."""
    crc = 0
    with open_ref(file.ref) as stream:
        while chunk := stream.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc
