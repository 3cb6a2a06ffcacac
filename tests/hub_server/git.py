"""Git objects, computed the way git does: the oids the Hub reports are git's. TEST ONLY.

Mirrors no endpoint itself; every endpoint that reports an ``oid``, ``sha``, ``blobId``, ``ETag`` or
``lastCommit`` uses these (blob, tree and commit ids, and the LFS pointer file git stores in place of an
LFS object: https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md). ``DEFAULT_GITATTRIBUTES`` is the
.gitattributes the Hub writes into a new repo, and ``is_lfs_by_gitattributes`` reads one like git does
(https://huggingface.co/docs/hub/repositories-getting-started#tracking-large-files).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
from collections.abc import Mapping

# Modelled on the .gitattributes the Hub writes into a new repo's initial commit.
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.gz", "*.h5", "*.joblib", "*.lfs.*", "*.lz4",
        "*.mds", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.parquet", "*.pickle", "*.pkl", "*.pt",
        "*.pth", "*.rar", "*.safetensors", "*.tar", "*.tar.*", "*.tgz", "*.xz", "*.zip", "*.zst",
        "*tfevents*", "*.wav", "*.mp3", "*.bmp", "*.gif", "*.png", "*.tiff", "*.jpg", "*.jpeg",
        "*.webp", "*.mp4", "*.webm",
    )
)  # fmt: skip


def git_blob_oid(data: bytes) -> str:
    """Git's object id of a blob (what the Hub reports as a regular file's ``oid`` and ETag)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The pointer file git stores in place of an LFS object; the Hub's ``oid`` of an LFS file is its blob id."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def git_tree_oids(blob_oids: Mapping[str, str]) -> dict[str, str]:
    """Git tree oid of every folder ("" is the root) of a flat ``{path: blob oid}`` listing."""
    children: dict[str, dict[str, str | None]] = {"": {}}  # folder -> name -> blob oid, or None for a folder
    for path, oid in blob_oids.items():
        parts = path.split("/")
        for depth in range(len(parts) - 1):
            children.setdefault("/".join(parts[:depth]), {})[parts[depth]] = None
            children.setdefault("/".join(parts[: depth + 1]), {})
        children.setdefault("/".join(parts[:-1]), {})[parts[-1]] = oid
    oids: dict[str, str] = {}

    def tree_oid(folder: str) -> str:
        entries: list[tuple[bytes, bytes]] = []
        for name, oid in children[folder].items():
            if oid is None:
                sub_oid = tree_oid(f"{folder}/{name}" if folder else name)
                entries.append(((name + "/").encode(), b"40000 %s\0" % name.encode() + bytes.fromhex(sub_oid)))
            else:
                entries.append((name.encode(), b"100644 %s\0" % name.encode() + bytes.fromhex(oid)))
        body = b"".join(entry for _, entry in sorted(entries))  # git orders folders as "name/"
        oids[folder] = hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()
        return oids[folder]

    tree_oid("")
    return oids


def git_commit_message(title: str, description: str) -> str:
    """The message git stores: title, a blank line and the description when there is one."""
    return f"{title}\n\n{description}\n" if description else f"{title}\n"


def git_commit_oid(tree: str, parents: tuple[str, ...], author: str, timestamp: int, message: str) -> str:
    """Git's object id of a commit (author and committer alike, UTC)."""
    ident = f"{author} <{author}@users.noreply.huggingface.co> {timestamp} +0000"
    text = f"tree {tree}\n" + "".join(f"parent {parent}\n" for parent in parents)
    data = (text + f"author {ident}\ncommitter {ident}\n\n{message}").encode()
    return hashlib.sha1(b"commit %d\0" % len(data) + data).hexdigest()


def is_lfs_by_gitattributes(path: str, gitattributes: str) -> bool:
    """Whether .gitattributes routes ``path`` to LFS (last matching line wins, like git)."""
    is_lfs = False
    for line in gitattributes.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        pattern, attributes = fields[0], fields[1:]
        target = path if "/" in pattern else path.rsplit("/", 1)[-1]
        if not fnmatch.fnmatchcase(target, pattern.lstrip("/")):
            continue
        if "filter=lfs" in attributes:
            is_lfs = True
        elif "-filter" in attributes or "!filter" in attributes:
            is_lfs = False
    return is_lfs


def iso_date(timestamp: float) -> str:
    """The Hub's date format."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
