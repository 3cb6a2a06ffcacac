"""Zip archive members named by a plain string, opened in any process, damage reported in one line.

The staging store and the build's pool workers carry only strings, so a member is named by a ref,
``zip:<quoted archive location>!<quoted member name>``. Each process keeps the archives it opened in a
small cache (the central directory is read once per process), keyed by the process id: after a fork, a
worker must not share the parent's file offsets, so it opens its own. Reading a damaged member (a bad
CRC-32, a cut deflate stream, a bad header) is one `CorruptArchiveError` naming the archive and member.
"""

from __future__ import annotations

import io
import lzma
import os
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO, cast
from urllib.parse import quote, unquote

from ..errors import InputError

MEMBER_REF = "zip:"
#: What reading a damaged member raises inside `zipfile` (a bad CRC, a cut deflate stream, a bad header).
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, lzma.LZMAError)
#: Open archives of this process by location, with the id of the process that opened them.
_ZIPS: dict[str, tuple[int, zipfile.ZipFile]] = {}
_ZIPS_LOCK = threading.Lock()
_MAX_CACHED = 32


class CorruptArchiveError(InputError):
    """An archive, or one of its members, cannot be read as stored: names the archive and the member."""


def member_ref(location: str, member: str) -> str:
    """The ref of `member` (its name in the central directory) in the archive at `location`."""
    return f"{MEMBER_REF}{quote(location, safe='/:@')}!{quote(member, safe='/')}"


def split_member_ref(ref: str) -> tuple[str, str]:
    """(archive location, member name) of a member ref."""
    location, _, member = ref[len(MEMBER_REF) :].partition("!")
    return unquote(location), unquote(member)


def open_location(location: str) -> BinaryIO:
    """A seekable binary file over an archive's location (a local path)."""
    return open(location, "rb")  # closed by the ArchiveFiles that opened it, or kept open by this process's cache


def open_zip(location: str, file: BinaryIO) -> zipfile.ZipFile:
    """A ZipFile over `file` (its central directory read once), or one line naming the archive."""
    try:
        return zipfile.ZipFile(file)
    except (zipfile.BadZipFile, EOFError) as error:
        raise CorruptArchiveError(
            f"{location}: not a readable zip archive ({error}); it may be incomplete or damaged: download it again"
        ) from error


def cache_zip(location: str, archive: zipfile.ZipFile) -> None:
    """Let this process read members of `location` through `archive` (opened by an `ArchiveFiles`)."""
    with _ZIPS_LOCK:
        _ZIPS[location] = (os.getpid(), archive)


def uncache_zip(location: str, archive: zipfile.ZipFile) -> None:
    with _ZIPS_LOCK:
        if _ZIPS.get(location, (0, None))[1] is archive:
            del _ZIPS[location]


def zip_for(location: str) -> zipfile.ZipFile:
    """This process's open archive at `location`, opened on first use."""
    with _ZIPS_LOCK:
        cached = _ZIPS.get(location)
        if cached is not None and cached[0] == os.getpid():
            return cached[1]
        if len(_ZIPS) >= _MAX_CACHED:
            _ZIPS.pop(next(iter(_ZIPS)))  # the oldest: its file closes once its open members are done
        archive = open_zip(location, open_location(location))
        _ZIPS[location] = (os.getpid(), archive)
        return archive


def open_member(ref: str) -> tuple[BinaryIO, int]:
    """The member a ref names, opened for a streamed read, and its size."""
    location, member = split_member_ref(ref)
    where = f"{location}: {member}"
    archive = zip_for(location)
    with _damage_named(where):
        info = archive.getinfo(member)
        if info.flag_bits & 0x1:
            raise CorruptArchiveError(f"{where}: encrypted; the build reads unencrypted archives only")
        try:
            opened = archive.open(info)
        except NotImplementedError as error:
            raise CorruptArchiveError(
                f"{where}: {error} (compression method {info.compress_type}); unzip the archive with a tool that "
                "reads it and build from the folder"
            ) from error
    return cast(BinaryIO, _MemberStream(opened, where)), info.file_size


class _MemberStream(io.BufferedIOBase):
    """An archive member being read; damage found while reading is one error naming archive and member."""

    def __init__(self, member: IO[bytes], where: str):
        super().__init__()
        self._member, self._where = member, where

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._member.seekable()

    def read(self, size: int | None = -1) -> bytes:
        with _damage_named(self._where):
            return self._member.read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        with _damage_named(self._where):
            return self._member.read1(size)  # type: ignore[attr-defined]

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        with _damage_named(self._where):
            return self._member.seek(offset, whence)

    def tell(self) -> int:
        return self._member.tell()

    def close(self) -> None:
        self._member.close()
        super().close()


@contextmanager
def _damage_named(where: str) -> Iterator[None]:
    try:
        yield
    except _DAMAGE as error:
        raise CorruptArchiveError(f"{where}: damaged in its archive ({error}); download the archive again") from error
