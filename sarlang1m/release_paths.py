"""A file of a release, named by a path inside it (a row's ``sar_path``), read without ever leaving the release.

Rows and MANIFESTs are written by whoever publishes a release, so a path in them is data, not a place to
go. `path_problem` refuses what could point elsewhere or drive a terminal (empty, absolute, ``\\``, ``.``
or ``..`` parts, control characters). `read_release_file` then opens the file one folder at a time from
the release root without following a symlink (the root itself is the caller's and may be one), refuses
anything but a regular file before opening it (a FIFO would block, ``/dev/zero`` never ends, a folder is
no original), and reads at most the size the row gives plus one byte, so a longer file is refused without
being read. With the bytes it returns the file's identity (size, mtime, inode), what a cache of checked
files needs. `OriginalsReader`, `prefetch` and `verify` read originals through it; an archive reader
applies `path_problem` to member names.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import schema
from .errors import NotFoundError, ReleaseError, VerificationError, has_control_characters, printable

_CHUNK = 8 * 2**20
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NON_BLOCKING = getattr(os, "O_NONBLOCK", 0)
#: Whether folders can be walked by descriptor (POSIX): then no path is ever resolved through a symlink,
#: even one swapped in while the walk runs. Elsewhere each part is checked with lstat before it is used.
_WALK_BY_DESCRIPTOR = bool(_NO_FOLLOW) and os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd


@dataclass(frozen=True)
class FileRead:
    """A regular file's bytes and its identity when it was read (what a cache of checked files keys on)."""

    data: bytes
    size: int
    mtime_ns: int
    inode: int
    device: int


def path_problem(path: object) -> str | None:
    """Why `path` is not a plain relative POSIX path inside a release, or None if it is one."""
    if not isinstance(path, str) or not path:
        return "is empty" if path == "" else f"is not a path ({type(path).__name__})"
    if has_control_characters(path):
        return "holds control characters"
    if "\\" in path:
        return "holds a backslash"
    if path.startswith("/"):
        return "is absolute"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "has an empty, '.' or '..' part"
    return None


def check_original_path(path: object) -> str:
    """``path`` if it is a plain relative path under ``originals/`` (a row never points outside the release)."""
    problem = path_problem(path)
    if problem is None and not (str(path).startswith(f"{schema.ORIGINALS_DIR}/") and str(path).count("/") >= 2):
        problem = f"is not in a folder of {schema.ORIGINALS_DIR}/"
    if problem is not None:
        raise ReleaseError(
            f"sar_path {printable(repr(path))} is not a relative path under {schema.ORIGINALS_DIR}/ (it {problem})"
        )
    return str(path)


def read_release_file(root: str | os.PathLike[str], path: str, *, limit: int | None = None) -> FileRead:
    """The bytes of the regular file `path` (relative, POSIX) under the release folder `root`.

    Nothing outside `root` is reached: no symlink is followed, in the folders or at the file. A symlink,
    a FIFO, a device or a folder raises `ReleaseError`; a missing file `NotFoundError`; a file longer than
    `limit` bytes `VerificationError`, unread. Each names the file.
    """
    problem = path_problem(path)
    if problem is not None:
        raise ReleaseError(f"{printable(repr(path))} {problem}: not a path inside the release {printable(str(root))}")
    shown = printable(str(Path(root) / path))
    if _WALK_BY_DESCRIPTOR:
        descriptor = _open_by_descriptor(Path(root), path.split("/"), shown)
    else:  # pragma: no cover (platforms without openat)
        descriptor = _open_by_lstat(Path(root), path.split("/"), shown)
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        return _read_bounded(handle, shown, limit)


def read_regular_file(path: str | os.PathLike[str], *, limit: int | None = None) -> FileRead:
    """The bytes of a regular file the caller chose (huggingface_hub's cache, a folder it wrote), read with
    the same bound as `read_release_file`: anything but a regular file is refused, not read."""
    shown = printable(str(path))
    try:
        descriptor = os.open(path, os.O_RDONLY | _NON_BLOCKING | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise NotFoundError(f"{shown}: no such file") from None
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        return _read_bounded(handle, shown, limit)


def _open_by_descriptor(root: Path, parts: list[str], shown: str) -> int:
    """Open `parts` under `root` one name at a time relative to the folder before it, never following a link."""
    folder_flags = os.O_RDONLY | os.O_DIRECTORY | _NO_FOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise NotFoundError(f"{printable(str(root))}: no such release folder") from None
    try:
        for index, name in enumerate(parts):
            last = index == len(parts) - 1
            try:
                mode = os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
            except FileNotFoundError:
                raise _not_found(shown, root) from None
            _refuse_unless(mode, stat.S_ISREG if last else stat.S_ISDIR, shown, "/".join(parts[: index + 1]))
            flags = os.O_RDONLY | _NO_FOLLOW | _NON_BLOCKING | getattr(os, "O_CLOEXEC", 0) if last else folder_flags
            try:
                opened = os.open(name, flags, dir_fd=folder)
            except OSError as error:  # swapped for a link or another kind of file since the stat
                raise ReleaseError(f"{shown}: changed while it was opened ({error.strerror}); try again") from None
            os.close(folder)
            folder = opened
        return folder
    except BaseException:
        os.close(folder)
        raise


def _open_by_lstat(root: Path, parts: list[str], shown: str) -> int:  # pragma: no cover (platforms without openat)
    for index in range(len(parts)):
        try:
            mode = (root.joinpath(*parts[: index + 1])).lstat().st_mode
        except FileNotFoundError:
            raise _not_found(shown, root) from None
        last = index == len(parts) - 1
        _refuse_unless(mode, stat.S_ISREG if last else stat.S_ISDIR, shown, "/".join(parts[: index + 1]))
    return os.open(root.joinpath(*parts), os.O_RDONLY | getattr(os, "O_BINARY", 0))


def _not_found(shown: str, root: Path) -> NotFoundError:
    return NotFoundError(f"{shown}: original not found; is {printable(str(root))} the release these rows come from?")


def _refuse_unless(mode: int, wanted: Callable[[int], bool], shown: str, part: str) -> None:
    """Refuse a part of the path that is not what it must be: a folder on the way, a regular file at the end."""
    if wanted(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    where = "" if shown.endswith(part) else f" {printable(part)}"
    raise ReleaseError(
        f"{shown}:{where} is {kind}; a release holds regular files and folders only, and nothing outside it is read"
    )


_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISLNK, "a symlink"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISREG, "a file, not a folder"),
)


def _read_bounded(handle: BinaryIO, shown: str, limit: int | None) -> FileRead:
    """Read an open file: a regular one only, at most `limit` (else its size) + 1 bytes: more is refused."""
    status = os.fstat(handle.fileno())
    _refuse_unless(status.st_mode, stat.S_ISREG, shown, shown)
    if limit is not None and status.st_size > limit:
        raise VerificationError(f"{shown}: {status.st_size} bytes, the row says {limit}: run `sarlang1m verify`")
    bound = status.st_size if limit is None else limit
    chunks, left = [], bound + 1
    while left > 0 and (chunk := handle.read(min(left, _CHUNK))):
        chunks.append(chunk)
        left -= len(chunk)
    data = b"".join(chunks)
    if len(data) > bound:
        raise VerificationError(f"{shown}: grew past {bound} bytes while it was read: run `sarlang1m verify`")
    return FileRead(data, status.st_size, status.st_mtime_ns, status.st_ino, status.st_dev)
