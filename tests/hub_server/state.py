"""What the stand-in Hub holds: repos, commits, files, tags, LFS objects, faults and its request log. TEST ONLY.

Mirrors no endpoint itself: the handlers in ``handlers/`` read and change this state. File bytes live
on disk in an ``ObjectStore`` keyed by sha256; ``Fault`` and ``RequestRecord`` are the test hooks' state
(``HubServer.inject_fault``, ``HubServer.requests``). The constants are the Hub's limits and names
(https://huggingface.co/docs/hub/storage-limits for the 10 MiB regular-file limit).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .git import lfs_pointer

TEST_TOKEN = "hf_local_test_token"
TEST_USER = "sarlang-tester"
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024  # the Hub refuses regular (non-LFS) files from 10 MiB on
TREE_PAGE_SIZE = 1000
TREE_EXPAND_PAGE_SIZE = 50
COMMITS_PAGE_SIZE = 50
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
REF_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
COMMIT_OID_PREFIX_PATTERN = re.compile(r"[0-9a-f]{7,40}")

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}


@dataclass(frozen=True)
class StoredFile:
    """One file of a commit: what the Hub reports about it, and where its served bytes are."""

    size: int
    blob_oid: str  # git oid: of the content, or of the LFS pointer
    lfs_sha256: str | None
    content_key: str  # sha256 of the bytes served; differs from lfs_sha256 only after tamper_file

    @property
    def pointer_size(self) -> int | None:
        return None if self.lfs_sha256 is None else len(lfs_pointer(self.lfs_sha256, self.size))

    @property
    def remote_oid(self) -> str:
        """The ``oid`` preupload reports, compared by the client with its local sha256 or git sha1."""
        return self.lfs_sha256 or self.blob_oid


@dataclass
class Commit:
    oid: str
    parents: tuple[str, ...]
    files: dict[str, StoredFile]
    tree_oids: dict[str, str]
    title: str
    description: str
    author: str
    timestamp: int


@dataclass
class Tag:
    commit: str
    message: str | None


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: float
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)
    pull_requests: dict[int, str] = field(default_factory=dict)  # N of refs/pr/N -> head commit oid
    lfs_objects: dict[str, int] = field(default_factory=dict)  # sha256 -> size, uploaded to this repo


@dataclass
class PendingUpload:
    """An LFS upload URL handed out by the batch endpoint, valid until used."""

    repo_key: tuple[str, str]
    oid: str
    size: int
    part_count: int | None = None  # None for a single PUT
    parts: dict[int, bytes] = field(default_factory=dict)


@dataclass
class Fault:
    """Make the Nth request to ``route`` (counted from now) fail, ``times`` times in a row (None: forever).

    ``status=None`` drops the connection without an answer. huggingface_hub retries 429/5xx and
    dropped connections on LFS PUTs and batch calls (waits of 1, 2, 4, 8, 8 s) but not on the commit
    call: use a status it does not retry (e.g. 403) for a fast, final failure of an upload.
    """

    route: str
    nth: int = 1
    times: int | None = 1
    status: int | None = 500
    headers: dict[str, str] = field(default_factory=dict)
    seen: int = 0
    fired: int = 0

    def take(self) -> bool:
        self.seen += 1
        if self.seen < self.nth or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True


@dataclass(frozen=True)
class RequestRecord:
    method: str
    route: str
    path: str
    status: int | None  # None: connection dropped by a fault
    time: float = 0.0  # time.monotonic() when answered


class ObjectStore:
    """Content-addressed bytes on disk (key: sha256 of the bytes)."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        target = self.root / key
        if not target.exists():
            temporary = self.root / f".{key}.{secrets.token_hex(4)}"
            temporary.write_bytes(data)
            temporary.replace(target)
        return key

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()
