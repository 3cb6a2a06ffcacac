"""Zip archives for tests, hostile and damaged ones included (synthetic content)."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

#: Unix modes a zip entry's external attributes can declare.
REGULAR, SYMLINK, DEVICE, FIFO = stat.S_IFREG | 0o644, stat.S_IFLNK | 0o777, stat.S_IFCHR | 0o600, stat.S_IFIFO | 0o600


def write_zip(path: Path, members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED, modes=None) -> Path:
    """A zip of `members` (name -> bytes), each with the Unix mode `modes[name]` (default: a regular file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            info.create_system = 3
            info.external_attr = (modes or {}).get(name, REGULAR) << 16
            archive.writestr(info, data)
    return path


def zip_tree(path: Path, root: Path, *, prefix: str = "", compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A zip of every file under `root`, named `prefix` + its path under `root`."""
    members = {prefix + p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    return write_zip(path, members, compression=compression)


def rename_member(path: Path, old: str, new: bytes) -> None:
    """Rename a member in place, bytes for bytes (local header and central directory): a name `zipfile`
    cannot write, such as one holding a NUL. `new` must be as long as `old`."""
    data = path.read_bytes()
    assert len(new) == len(old.encode()) and data.count(old.encode()) == 2
    path.write_bytes(data.replace(old.encode(), new))


def set_compression_method(path: Path, method: int) -> None:
    """Declare every member compressed with `method` (e.g. 9, Deflate64, which `zipfile` cannot read)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = data.find(signature)
        while start >= 0:
            data[start + offset : start + offset + 2] = method.to_bytes(2, "little")
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
