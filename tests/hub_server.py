"""A local stand-in for the Hugging Face Hub's HTTP protocol, for tests of the upload path. TEST ONLY.

No server that accepts Hub writes runs offline, so the tests of `push`, tag, verify and pinned loading
talk to this one. It is small but real: every commit is a git commit object whose oid is the SHA-1 git
would compute (over real tree and blob objects, LFS files stored as pointer blobs), refs are real
branches and tags, LFS objects are checked against their sha256 on upload, and file bytes live on disk.
So client code under test can fail for the reasons it would fail against huggingface.co.

Implemented (the legacy, non-Xet protocol: clients must run with ``HF_HUB_DISABLE_XET=1``):
  POST   /api/repos/create, DELETE /api/repos/delete           create (public/private, 409 if present), delete
  GET    /api/{type}s/{repo}[/revision/{rev}]                  repo info: sha, siblings (sizes and LFS with
                                                                ``blobs=true``), cardData from README YAML, expand
  GET    /api/{type}s/{repo}/tree/{rev}[/{path}]               recursive and expand (lastCommit), paginated
  POST   /api/{type}s/{repo}/paths-info/{rev}                  form ``paths=...&expand=...``
  POST   /api/{type}s/{repo}/preupload/{rev}                   lfs or regular like the Hub: .gitattributes
                                                                patterns, >= 10 MiB, or a NUL byte in the sample
  POST   /api/{type}s/{repo}/commit/{rev}                      ndjson: file, lfsFile, deletedFile,
                                                                deletedFolder; parentCommit (412 if stale)
  GET    /api/{type}s/{repo}/commits/{rev}, /refs              history (paginated) and refs
  POST/DELETE /api/{type}s/{repo}/tag/{rev|tag}                tags (409 if the tag exists)
  POST/DELETE /api/{type}s/{repo}/branch/{branch}              branches (409 if present, ``startingPoint``)
  POST   /{prefix}{repo}.git/info/lfs/objects/batch            basic and multipart transfer; objects already
                                                                in the repo get no actions (resumed uploads)
  POST   /{prefix}{repo}.git/info/lfs/objects/verify           verify action
  PUT    /__lfs/{upload}[/{part}], POST /__lfs/{upload}        the "presigned" upload URLs the batch hands out
  HEAD/GET /{prefix}{repo}/resolve/{rev}/{path}                ETag, X-Repo-Commit, Range; LFS files answer
                                                                302 with X-Linked-Etag/X-Linked-Size to a
                                                                "CDN" on another host name (``localhost``)
  HEAD/GET /__cdn/{sha256}?sig=...                             signed content URLs, with Range
  POST   /api/validate-yaml, GET /api/whoami-v2
Errors carry the Hub's ``X-Error-Code`` (RepoNotFound, RevisionNotFound, EntryNotFound) and
``X-Error-Message`` headers, so huggingface_hub raises the same exception types as against the Hub.

Pull requests: a commit with ``create_pr=1`` goes on a new ref ``refs/pr/N`` on top of the branch, which
stays where it was, and answers a ``pullRequestUrl`` ending in ``/discussions/N``; ``refs/pr/N`` resolves
as a revision and ``/refs?include_prs=1`` lists it. Merging, comments and the discussion API are not
implemented.

Deliberately not implemented: Xet storage, CommitOperationCopy between
repos (``lfs-files/duplicate``), .gitignore (``shouldIgnore`` is always false), gated repos, LFS
download batches, settings, discussions, Spaces runtime, the dataset viewer (``datasets-server``) and
the Parquet conversion refs. Requests to anything else are answered 404 and logged with route
``"unknown"``, so a test can assert that the client used only what is implemented here.
Any namespace is writable by any user with a known token (``tokens``); private repos are invisible
without one. Pass a token the server does not know and every request is answered 401, like the Hub.

Test hooks: ``inject_fault`` (HTTP error, with headers such as ``Retry-After``, or dropped connection on
the Nth request to a route), ``tamper_file`` (serve other bytes under the same recorded oid/sha256, like
corrupted storage), ``corrupt_next_upload`` (the next commit of a path stores damaged bytes, recorded
with their own sha256), ``move_tag`` (point a tag at another commit), ``inject_concurrent_commit``
(another writer commits to a branch just before the Nth commit request),
``requests`` (what the client called), ``head``/``read_file`` (state read without HTTP).

Using it: ``HF_ENDPOINT`` is read when huggingface_hub/datasets are imported, so client code runs in a
subprocess whose environment is set before those imports: ``run_client(code, server.client_env(home))``,
while the server runs in a thread of the test process (``hub_server`` fixture).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fnmatch
import functools
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest
import yaml

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

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}


# --------------------------------------------------------------------------------------------------
# Git objects: the oids the Hub reports are git's, so compute them the way git does.


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
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --------------------------------------------------------------------------------------------------
# State


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


class HubError(Exception):
    """An error answer, with the Hub's headers so the client maps it to the right exception."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}

    def response(self) -> Response:
        headers = {"X-Error-Message": self.message.replace("\n", " "), **self.headers}
        if self.code:
            headers["X-Error-Code"] = self.code
        return Response(self.status, {"error": self.message}, headers)


@dataclass
class Response:
    status: int
    body: bytes | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    base_url: str
    user: str | None

    def flag(self, name: str) -> bool:
        return self.query.get(name, ["false"])[-1].lower() in ("1", "true")

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except json.JSONDecodeError as error:
            raise HubError(400, f"Malformed JSON body: {error}") from error


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


# --------------------------------------------------------------------------------------------------
# The server


REPO = r"/api/(?P<type>models|datasets|spaces)/(?P<ns>[^/]+)/(?P<name>[^/]+)"
GIT = r"/(?:(?P<prefix>datasets|spaces)/)?(?P<ns>[^/]+)/(?P<name>[^/]+)\.git"
ROUTE_TABLE: tuple[tuple[str, str, str], ...] = (
    ("POST", r"/api/repos/create", "create_repo"),
    ("DELETE", r"/api/repos/delete", "delete_repo"),
    ("POST", r"/api/validate-yaml", "validate_yaml"),
    ("GET", r"/api/whoami-v2", "whoami"),
    ("GET", REPO + r"(?:/revision/(?P<rev>.+))?", "repo_info"),
    ("GET", REPO + r"/tree/(?P<rev_path>.+)", "tree"),
    ("POST", REPO + r"/paths-info/(?P<rev>.+)", "paths_info"),
    ("POST", REPO + r"/preupload/(?P<rev>.+)", "preupload"),
    ("POST", REPO + r"/commit/(?P<rev>.+)", "commit"),
    ("GET", REPO + r"/commits/(?P<rev>.+)", "commits"),
    ("GET", REPO + r"/refs", "refs"),
    ("POST", REPO + r"/tag/(?P<rev>.+)", "create_tag"),
    ("DELETE", REPO + r"/tag/(?P<tag>.+)", "delete_tag"),
    ("POST", REPO + r"/branch/(?P<branch>.+)", "create_branch"),
    ("DELETE", REPO + r"/branch/(?P<branch>.+)", "delete_branch"),
    ("POST", GIT + r"/info/lfs/objects/batch", "lfs_batch"),
    ("POST", GIT + r"/info/lfs/objects/verify", "lfs_verify"),
    ("PUT", r"/__lfs/(?P<upload>[0-9a-f]{32})(?:/(?P<part>[0-9]+))?", "lfs_put"),
    ("POST", r"/__lfs/(?P<upload>[0-9a-f]{32})", "lfs_complete"),
    ("GET HEAD", GIT.removesuffix(r"\.git") + r"/resolve/(?P<rev_path>.+)", "resolve"),
    ("GET HEAD", r"/__cdn/(?P<key>[0-9a-f]{64})", "cdn"),
)  # fmt: skip
ROUTES = frozenset(name for _, _, name in ROUTE_TABLE)
_COMPILED_ROUTES = [(methods.split(), re.compile(pattern), name) for methods, pattern, name in ROUTE_TABLE]


class HubServer:
    """The stand-in Hub: state plus an HTTP server on a thread. Use as a context manager or start()/stop()."""

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Mapping[str, str] | None = None,
        cdn_host: str = "localhost",
        multipart_chunk_size: int | None = None,
    ):
        """``cdn_host`` must name this machine but differ from ``host``, so LFS redirects leave the Hub's origin
        as they do on huggingface.co; ``multipart_chunk_size`` turns on the multipart LFS transfer for
        larger objects."""
        self.objects = ObjectStore(Path(root) / "objects")
        self.tokens = dict(tokens or {TEST_TOKEN: TEST_USER})
        self.token = next(iter(self.tokens))
        self.cdn_host = cdn_host
        self.multipart_chunk_size = multipart_chunk_size
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[RequestRecord] = []
        self._uploads: dict[str, PendingUpload] = {}
        self._faults: list[Fault] = []
        self._corruptions: dict[tuple[str, str], int] = {}  # (repo_id, path) -> commits left to corrupt
        self._concurrent: list[dict[str, Any]] = []  # pending writes of "another writer"
        self._secret = secrets.token_bytes(16)
        self._lock = threading.RLock()
        self._http = ThreadingHTTPServer((host, port), _Handler)
        self._http.daemon_threads = True
        self._http.hub = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # ---- lifecycle and test hooks

    @property
    def port(self) -> int:
        return self._http.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://{self._http.server_address[0]}:{self.port}"

    def start(self) -> HubServer:
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def client_env(self, home: Path, *, token: str | None = None) -> dict[str, str]:
        """Environment for a client subprocess: this endpoint, no Xet, a private cache, nothing sent elsewhere."""
        home = Path(home)
        home.mkdir(parents=True, exist_ok=True)
        proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("HF_", "HUGGINGFACE_")) and key.lower() not in proxies
        }
        env.update(
            HF_ENDPOINT=self.endpoint,
            HF_HUB_DISABLE_XET="1",
            HF_TOKEN=self.token if token is None else token,
            HF_HUB_OFFLINE="0",
            HF_DATASETS_OFFLINE="0",
            HF_HOME=str(home / "hf_home"),
            # sarlang1m's record of published commits: per client, never the user's own file
            SARLANG1M_RELEASES_FILE=str(home / "releases.json"),
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_DISABLE_PROGRESS_BARS="1",
            HF_UPDATE_DOWNLOAD_COUNTS="0",
            NO_PROXY=f"{self._http.server_address[0]},{self.cdn_host}",
            no_proxy=f"{self._http.server_address[0]},{self.cdn_host}",
            PYTHONUNBUFFERED="1",
        )
        return env

    def inject_fault(
        self,
        route: str,
        *,
        nth: int = 1,
        times: int | None = 1,
        status: int | None = 500,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Fail requests to ``route`` (one of ``ROUTES``, e.g. "lfs_put", "commit"); see ``Fault``. ``headers``
        go with the error answer (e.g. ``{"Retry-After": "1"}`` with status 429 or 503)."""
        if route not in ROUTES:
            raise ValueError(f"Unknown route {route!r}; expected one of {sorted(ROUTES)}")
        if nth < 1 or (times is not None and times < 1):
            raise ValueError(f"nth and times must be >= 1, got nth={nth}, times={times}")
        fault = Fault(route, nth=nth, times=times, status=status, headers=dict(headers or {}))
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def count(self, route: str, *, status: int | Literal["any"] | None = 200) -> int:
        """How many requests to ``route`` were answered with ``status`` (None: dropped by a fault)."""
        with self._lock:
            return sum(1 for r in self.requests if r.route == route and status in ("any", r.status))

    def head(self, repo_id: str, revision: str = "main", *, repo_type: str = "dataset") -> str:
        """The commit oid ``revision`` points to, read from the state (not over HTTP)."""
        with self._lock:
            return self._resolve(self._repo((repo_type, repo_id)), revision).oid

    def files(self, repo_id: str, revision: str = "main", *, repo_type: str = "dataset") -> dict[str, StoredFile]:
        with self._lock:
            return dict(self._resolve(self._repo((repo_type, repo_id)), revision).files)

    def read_file(self, repo_id: str, path: str, revision: str = "main", *, repo_type: str = "dataset") -> bytes:
        """The bytes the server would serve for ``path`` at ``revision``."""
        stored = self._entry(repo_id, path, revision, repo_type)
        return self.objects.read(stored.content_key)

    def tamper_file(
        self, repo_id: str, path: str, data: bytes, revision: str = "main", *, repo_type: str = "dataset"
    ) -> None:
        """Serve ``data`` for ``path`` in the commit ``revision`` points to, keeping its recorded size, oid and
        sha256 (like corrupted storage). Every ref to that commit sees it. hf_hub_download notices only a
        size change of an LFS file (X-Linked-Size is the recorded size); the rest takes a checksum."""
        key = self.objects.put(data)
        with self._lock:
            commit = self._resolve(self._repo((repo_type, repo_id)), revision)
            commit.files[path] = replace(self._entry(repo_id, path, revision, repo_type), content_key=key)

    def corrupt_next_upload(self, repo_id: str, path: str, *, times: int = 1) -> None:
        """The next ``times`` commits that add ``path`` to ``repo_id`` store damaged bytes (one byte flipped),
        recorded with the damaged bytes' own sha256 and blob oid, like storage that kept a bad copy."""
        with self._lock:
            self._corruptions[(repo_id, path)] = times

    def move_tag(self, repo_id: str, tag: str, revision: str, *, repo_type: str = "dataset") -> None:
        """Point ``tag`` at the commit ``revision`` resolves to (what a tag deleted and re-created does)."""
        with self._lock:
            repo = self._repo((repo_type, repo_id))
            repo.tags[tag] = replace(repo.tags[tag], commit=self._resolve(repo, revision).oid)

    def inject_concurrent_commit(
        self, repo_id: str, path: str, data: bytes, *, nth: int = 1, branch: str = "main", repo_type: str = "dataset"
    ) -> None:
        """Just before the ``nth`` commit request (counted from now) is handled, another writer commits ``path``
        with ``data`` to ``branch`` of ``repo_id``."""
        with self._lock:
            self._concurrent.append(
                {"key": (repo_type, repo_id), "path": path, "data": data, "nth": nth, "branch": branch, "seen": 0}
            )

    def _run_concurrent_writers(self, route: str) -> None:
        if route != "commit":
            return
        with self._lock:
            for write in list(self._concurrent):
                write["seen"] += 1
                if write["seen"] < write["nth"]:
                    continue
                self._concurrent.remove(write)
                repo = self._repo(write["key"])
                parent = repo.commits[repo.branches[write["branch"]]]
                files = dict(parent.files) | {write["path"]: self._store_regular(write["data"])}
                commit = self._new_commit(repo, parent, files, "A commit by another writer", "", "another-writer")
                repo.branches[write["branch"]] = commit.oid

    def _corrupted(self, repo: Repo, path: str, stored: StoredFile) -> StoredFile:
        """``stored``, or a damaged copy of it if ``corrupt_next_upload`` asked for one (lock held)."""
        left = self._corruptions.get((repo.repo_id, path), 0)
        if left <= 0:
            return stored
        self._corruptions[(repo.repo_id, path)] = left - 1
        data = bytearray(self.objects.read(stored.content_key))
        data[len(data) // 2] ^= 0xFF
        if stored.lfs_sha256 is None:
            return self._store_regular(bytes(data))
        sha256 = hashlib.sha256(bytes(data)).hexdigest()
        return replace(self._store_lfs(sha256, len(data)), content_key=self.objects.put(bytes(data)))

    def _entry(self, repo_id: str, path: str, revision: str, repo_type: str) -> StoredFile:
        files = self.files(repo_id, revision, repo_type=repo_type)
        if path not in files:
            raise KeyError(f"{path!r} is not in {repo_type} {repo_id} at {revision!r}")
        return files[path]

    # ---- plumbing shared by the handlers

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.route == route and fault.take():
                    return fault
        return None

    def _log(self, method: str, route: str, path: str, status: int | None) -> None:
        with self._lock:
            self.requests.append(RequestRecord(method, route, unquote(path), status, time.monotonic()))

    def _user(self, headers: Message) -> str | None:
        authorization = headers.get("Authorization") or ""
        if not authorization.lower().startswith("bearer "):
            return None
        user = self.tokens.get(authorization[7:].strip())
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        return user

    def _repo(self, key: tuple[str, str]) -> Repo:
        repo = self.repos.get(key)
        if repo is None:
            raise HubError(404, f"Repository not found: {key[0]} {key[1]}", "RepoNotFound")
        return repo

    def _readable(self, request: Request, key: tuple[str, str]) -> Repo:
        repo = self._repo(key)
        if repo.private and request.user is None:
            raise HubError(404, f"Repository not found: {key[0]} {key[1]}", "RepoNotFound")
        return repo

    def _writable(self, request: Request, key: tuple[str, str]) -> Repo:
        if request.user is None:
            raise HubError(401, "You must be authenticated to write to a repository")
        return self._repo(key)

    @staticmethod
    def _resolve(repo: Repo, revision: str) -> Commit:
        """A branch, tag, ``refs/heads|tags/...`` or (abbreviated) commit oid, as the Hub accepts them."""
        name = revision.removeprefix("refs/heads/").removeprefix("refs/tags/")
        oid = repo.branches.get(name) or (repo.tags[name].commit if name in repo.tags else None)
        number = revision.removeprefix("refs/pr/")
        if oid is None and revision.startswith("refs/pr/") and number.isdigit():
            oid = repo.pull_requests.get(int(number))
        if oid is None and COMMIT_OID_PREFIX_PATTERN.fullmatch(revision):
            matches = [candidate for candidate in repo.commits if candidate.startswith(revision)]
            oid = matches[0] if len(matches) == 1 else None
        if oid is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return repo.commits[oid]

    def _new_commit(
        self, repo: Repo, parent: Commit | None, files: dict[str, StoredFile], title: str, description: str, author: str
    ) -> Commit:
        tree_oids = git_tree_oids({path: stored.blob_oid for path, stored in files.items()})
        timestamp = int(dt.datetime.now(dt.timezone.utc).timestamp())
        parents = (parent.oid,) if parent else ()
        message = git_commit_message(title, description)
        oid = git_commit_oid(tree_oids[""], parents, author, timestamp, message)
        commit = Commit(oid, parents, files, tree_oids, title, description, author, timestamp)
        repo.commits[oid] = commit
        return commit

    def _store_regular(self, data: bytes) -> StoredFile:
        return StoredFile(len(data), git_blob_oid(data), None, self.objects.put(data))

    def _store_lfs(self, sha256: str, size: int) -> StoredFile:
        return StoredFile(size, git_blob_oid(lfs_pointer(sha256, size)), sha256, sha256)

    def _sign(self, key: str) -> str:
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()[:32]

    def _gitattributes(self, commit: Commit) -> str:
        stored = commit.files.get(".gitattributes")
        return self.objects.read(stored.content_key).decode(errors="replace") if stored else ""

    def _last_commit(self, repo: Repo, commit: Commit, path: str, is_folder: bool) -> dict[str, str]:
        """The newest commit (first-parent history) that changed ``path``."""

        def state(candidate: Commit) -> str | None:
            if is_folder:
                return candidate.tree_oids.get(path)
            stored = candidate.files.get(path)
            return stored.blob_oid if stored else None

        current, value = commit, state(commit)
        while current.parents and state(repo.commits[current.parents[0]]) == value:
            current = repo.commits[current.parents[0]]
        return {"id": current.oid, "title": current.title, "date": iso_date(current.timestamp)}

    def _entry_json(
        self, repo: Repo, commit: Commit, path: str, *, expand: bool, folder_oid: str | None = None
    ) -> dict[str, Any]:
        if folder_oid is not None:
            entry: dict[str, Any] = {"type": "directory", "oid": folder_oid, "size": 0, "path": path}
        else:
            stored = commit.files[path]
            entry = {"type": "file", "oid": stored.blob_oid, "size": stored.size, "path": path}
            if stored.lfs_sha256:
                entry["lfs"] = {"oid": stored.lfs_sha256, "size": stored.size, "pointerSize": stored.pointer_size}
        if expand:
            entry["lastCommit"] = self._last_commit(repo, commit, path, folder_oid is not None)
        return entry

    @staticmethod
    def _paginate(request: Request, items: list, page_size: int) -> Response:
        """Cursor pagination with a GitHub-style ``Link: <...>; rel="next"`` header, like the Hub."""
        cursor = request.query.get("cursor", ["0"])[-1]
        start = int(cursor) if cursor.isdigit() else 0
        headers = {}
        if start + page_size < len(items):
            query = {key: values[-1] for key, values in request.query.items()} | {"cursor": str(start + page_size)}
            headers["Link"] = f'<{request.base_url}{request.path}?{urlencode(query)}>; rel="next"'
        return Response(200, items[start : start + page_size], headers)

    @staticmethod
    def _serve_bytes(request: Request, data: bytes, headers: dict[str, str]) -> Response:
        """200 or 206 for one ``bytes=`` range (416 if unsatisfiable); other Range forms are ignored."""
        headers = {"Accept-Ranges": "bytes", **headers}
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", (request.headers.get("Range") or "").strip())
        if not match or match.groups() == ("", ""):
            return Response(200, data, headers)
        first, last = match.groups()
        size = len(data)
        if first == "":
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            raise HubError(
                416,
                f"Range {match.group(0)} not satisfiable for {size} bytes",
                None,
                {"Content-Range": f"bytes */{size}"},
            )
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Response(206, data[start : end + 1], headers)

    # ---- handlers: repositories

    def handle_create_repo(self, request: Request) -> Response:
        if request.user is None:
            raise HubError(401, "You must be authenticated to create a repository")
        body = request.json()
        name, namespace = body.get("name"), body.get("organization") or request.user
        repo_type = body.get("type") or "model"
        if repo_type not in URL_PREFIXES or not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise HubError(400, f"Invalid repo name or type: name={name!r}, type={repo_type!r}")
        repo_id = f"{namespace}/{name}"
        url = f"{request.base_url}/{URL_PREFIXES[repo_type]}{repo_id}"
        private = body.get("visibility", "private" if body.get("private") else "public") == "private"
        with self._lock:
            if (repo_type, repo_id) in self.repos:
                return Response(
                    409,
                    {"error": f"You already created this {repo_type} repo", "url": url},
                    {"X-Error-Message": f"You already created this {repo_type} repo"},
                )
            repo = Repo(repo_type, repo_id, private, dt.datetime.now(dt.timezone.utc).timestamp())
            files = {".gitattributes": self._store_regular(DEFAULT_GITATTRIBUTES.encode())}
            repo.branches["main"] = self._new_commit(repo, None, files, "initial commit", "", request.user).oid
            self.repos[(repo_type, repo_id)] = repo
        return Response(200, {"url": url, "name": repo_id, "id": repo_id})

    def handle_delete_repo(self, request: Request) -> Response:
        body = request.json()
        repo_id = f"{body.get('organization') or request.user}/{body.get('name')}"
        key = (body.get("type") or "model", repo_id)
        with self._lock:
            self._writable(request, key)
            del self.repos[key]
        return Response(200, {})

    def handle_repo_info(self, request: Request, type: str, ns: str, name: str, rev: str | None = None) -> Response:
        key = (REPO_TYPES[type], f"{ns}/{name}")
        with self._lock:
            repo = self._readable(request, key)
            commit = self._resolve(repo, unquote(rev) if rev else "main")
            files = dict(commit.files)
        with_blobs = request.flag("blobs")
        siblings = []
        for path, stored in sorted(files.items()):
            sibling: dict[str, Any] = {"rfilename": path}
            if with_blobs:
                sibling |= {"size": stored.size, "blobId": stored.blob_oid}
                if stored.lfs_sha256:
                    sibling["lfs"] = {
                        "sha256": stored.lfs_sha256,
                        "size": stored.size,
                        "pointerSize": stored.pointer_size,
                    }
            siblings.append(sibling)
        card_data = _card_data(self.objects.read(files["README.md"].content_key)) if "README.md" in files else None
        info: dict[str, Any] = {
            "_id": hashlib.sha1(f"{key}".encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "author": ns,
            "sha": commit.oid,
            "lastModified": iso_date(commit.timestamp),
            "createdAt": iso_date(repo.created_at),
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [str(tag) for tag in (card_data or {}).get("tags", []) or []],
            "siblings": siblings,
            "usedStorage": sum(stored.size for stored in files.values()),
        }
        if card_data is not None:
            info["cardData"] = card_data
        if repo.repo_type == "model":
            info["modelId"] = repo.repo_id
        expand = request.query.get("expand", []) + request.query.get("expand[]", [])
        if expand:
            info = {k: v for k, v in info.items() if k in {"_id", "id", *expand}}
        return Response(200, info)

    # ---- handlers: reads

    def handle_tree(self, request: Request, type: str, ns: str, name: str, rev_path: str) -> Response:
        revision, folder = _split_revision(rev_path)
        folder = folder.strip("/")
        recursive, expand = request.flag("recursive"), request.flag("expand")
        with self._lock:
            repo = self._readable(request, (REPO_TYPES[type], f"{ns}/{name}"))
            commit = self._resolve(repo, revision)
            if folder not in commit.tree_oids:
                raise HubError(
                    404,
                    f"Entry not found: {folder!r} is not a folder at {revision}",
                    "EntryNotFound",
                    {"X-Repo-Commit": commit.oid},
                )
            prefix = f"{folder}/" if folder else ""
            entries = []
            for path, oid in sorted(commit.tree_oids.items()):
                if path.startswith(prefix) and path != folder and (recursive or "/" not in path[len(prefix) :]):
                    entries.append(self._entry_json(repo, commit, path, expand=expand, folder_oid=oid))
            for path in sorted(commit.files):
                if path.startswith(prefix) and (recursive or "/" not in path[len(prefix) :]):
                    entries.append(self._entry_json(repo, commit, path, expand=expand))
        return self._paginate(request, entries, TREE_EXPAND_PAGE_SIZE if expand else TREE_PAGE_SIZE)

    def handle_paths_info(self, request: Request, type: str, ns: str, name: str, rev: str) -> Response:
        if (request.headers.get("Content-Type") or "").startswith("application/json"):
            body = request.json()
            paths, expand = body.get("paths", []), bool(body.get("expand"))
        else:
            form = parse_qs(request.body.decode(), keep_blank_values=True)
            paths, expand = form.get("paths", []), form.get("expand", ["false"])[-1].lower() in ("1", "true")
        with self._lock:
            repo = self._readable(request, (REPO_TYPES[type], f"{ns}/{name}"))
            commit = self._resolve(repo, unquote(rev))
            entries = []
            for path in (p.strip("/") for p in paths):
                if path in commit.files:
                    entries.append(self._entry_json(repo, commit, path, expand=expand))
                elif path in commit.tree_oids:
                    entries.append(
                        self._entry_json(repo, commit, path, expand=expand, folder_oid=commit.tree_oids[path])
                    )
        return Response(200, entries)

    def handle_commits(self, request: Request, type: str, ns: str, name: str, rev: str) -> Response:
        with self._lock:
            repo = self._readable(request, (REPO_TYPES[type], f"{ns}/{name}"))
            commit: Commit | None = self._resolve(repo, unquote(rev))
            history = []
            while commit is not None:
                history.append(
                    {
                        "id": commit.oid,
                        "title": commit.title,
                        "message": commit.description,
                        "authors": [{"user": commit.author, "avatar": None}],
                        "date": iso_date(commit.timestamp),
                    }
                )
                commit = repo.commits[commit.parents[0]] if commit.parents else None
        return self._paginate(request, history, COMMITS_PAGE_SIZE)

    def handle_refs(self, request: Request, type: str, ns: str, name: str) -> Response:
        with self._lock:
            repo = self._readable(request, (REPO_TYPES[type], f"{ns}/{name}"))
            branches = [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": oid} for b, oid in repo.branches.items()]
            tags = [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": tag.commit} for t, tag in repo.tags.items()]
            pulls = [
                {"name": str(n), "ref": f"refs/pr/{n}", "targetCommit": oid} for n, oid in repo.pull_requests.items()
            ]
        answer = {"branches": branches, "converts": [], "tags": tags}
        if request.flag("include_prs"):
            answer["pullRequests"] = pulls
        return Response(200, answer)

    def handle_resolve(
        self, request: Request, ns: str, name: str, rev_path: str, prefix: str | None = None
    ) -> Response:
        revision, path = _split_revision(rev_path)
        with self._lock:
            repo = self._readable(request, (REPO_TYPES[prefix] if prefix else "model", f"{ns}/{name}"))
            commit = self._resolve(repo, revision)
            stored = commit.files.get(path)
        headers = {"X-Repo-Commit": commit.oid}
        if stored is None:
            raise HubError(404, f"Entry not found: {path!r} at {revision}", "EntryNotFound", headers)
        if stored.lfs_sha256:
            key = stored.content_key
            location = f"http://{self.cdn_host}:{self.port}/__cdn/{key}?{urlencode({'sig': self._sign(key)})}"
            headers |= {
                "Location": location,
                "X-Linked-Etag": f'"{stored.lfs_sha256}"',
                "X-Linked-Size": str(stored.size),
                "ETag": f'"{stored.lfs_sha256}"',
            }
            return Response(302, b"", headers)
        headers["ETag"] = f'"{stored.blob_oid}"'
        response = self._serve_bytes(request, self.objects.read(stored.content_key), headers)
        response.content_type = "text/plain; charset=utf-8" if path.endswith((".md", ".txt")) else None
        return response

    def handle_cdn(self, request: Request, key: str) -> Response:
        if not hmac.compare_digest(request.query.get("sig", [""])[-1], self._sign(key)):
            raise HubError(403, "Request signature does not match")
        return self._serve_bytes(request, self.objects.read(key), {"ETag": f'"{key}"'})

    # ---- handlers: writes

    def handle_preupload(self, request: Request, type: str, ns: str, name: str, rev: str) -> Response:
        files = request.json().get("files")
        if not isinstance(files, list):
            raise HubError(400, "preupload: 'files' must be a list")
        with self._lock:
            repo = self._writable(request, (REPO_TYPES[type], f"{ns}/{name}"))
            commit = self._resolve(repo, unquote(rev))
            gitattributes = self._gitattributes(commit)
        answers = []
        for index, item in enumerate(files):
            try:
                path, size, sample = item["path"], int(item["size"]), base64.b64decode(item["sample"], validate=True)
            except (KeyError, TypeError, ValueError, binascii.Error) as error:
                raise HubError(400, f"preupload: files[{index}] is malformed ({error!r})") from error
            is_lfs = size >= LFS_SIZE_THRESHOLD or b"\0" in sample or is_lfs_by_gitattributes(path, gitattributes)
            existing = commit.files.get(path)
            answers.append(
                {
                    "path": path,
                    "uploadMode": "lfs" if is_lfs else "regular",
                    "shouldIgnore": False,
                    "oid": existing.remote_oid if existing else None,
                }
            )
        return Response(200, {"files": answers, "commitOid": commit.oid})

    def handle_commit(self, request: Request, type: str, ns: str, name: str, rev: str) -> Response:
        lines = _parse_ndjson(request.body)
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "commit: the first ndjson line must be the header")
        header = lines[0].get("value") or {}
        title = header.get("summary")
        if not isinstance(title, str) or not title.strip():
            raise HubError(400, "commit: the summary (commit message) must not be empty")
        branch = unquote(rev).removeprefix("refs/heads/")
        # Decode regular files before taking the lock: it is the slow part of a big commit.
        contents: dict[int, bytes] = {}
        for number, line in enumerate(lines[1:], start=2):
            if line.get("key") == "file":
                value = line.get("value") or {}
                try:
                    contents[number] = base64.b64decode(value["content"], validate=True)
                except (KeyError, TypeError, ValueError, binascii.Error) as error:
                    raise HubError(
                        400, f"commit line {number}: bad base64 content for {value.get('path')!r}"
                    ) from error
        with self._lock:
            repo = self._writable(request, (REPO_TYPES[type], f"{ns}/{name}"))
            if branch not in repo.branches:
                self._resolve(repo, branch)  # 404 RevisionNotFound if it is nothing at all
                raise HubError(400, f"Invalid rev id: {branch} is not a branch; commits go to branches")
            parent = repo.commits[repo.branches[branch]]
            expected_parent = header.get("parentCommit")
            if expected_parent and not parent.oid.startswith(expected_parent):
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
            files = dict(parent.files)
            for number, line in enumerate(lines[1:], start=2):
                self._apply_operation(repo, files, number, line, contents.get(number))
            commit = self._new_commit(repo, parent, files, title, header.get("description") or "", request.user or "")
            pull_request_url = None
            if request.flag("create_pr"):  # the branch stays; the commit goes on a new refs/pr/N
                number = max(repo.pull_requests, default=0) + 1
                repo.pull_requests[number] = commit.oid
                repo_url = f"{request.base_url}/{URL_PREFIXES[repo.repo_type]}{repo.repo_id}"
                pull_request_url = f"{repo_url}/discussions/{number}"
            else:
                repo.branches[branch] = commit.oid
        url = f"{request.base_url}/{URL_PREFIXES[repo.repo_type]}{repo.repo_id}/commit/{commit.oid}"
        return Response(
            200, {"success": True, "commitOid": commit.oid, "commitUrl": url, "pullRequestUrl": pull_request_url}
        )

    def _apply_operation(
        self, repo: Repo, files: dict[str, StoredFile], number: int, line: dict, content: bytes | None
    ) -> None:
        key, value = line.get("key"), line.get("value") or {}
        path = value.get("path")
        if not isinstance(path, str) or not _is_valid_repo_path(path.rstrip("/") if key == "deletedFolder" else path):
            raise HubError(400, f"commit line {number}: invalid path {path!r}")
        if key == "file":
            assert content is not None
            if len(content) >= LFS_SIZE_THRESHOLD:
                raise HubError(
                    400,
                    f"commit line {number}: {path!r} is {len(content)} bytes: files from "
                    f"{LFS_SIZE_THRESHOLD} bytes on must be uploaded with LFS",
                )
            files[path] = self._corrupted(repo, path, self._store_regular(content))
        elif key == "lfsFile":
            oid = value.get("oid")
            if value.get("algo", "sha256") != "sha256" or oid not in repo.lfs_objects:
                raise HubError(
                    422, f"commit line {number}: LFS object {oid} for {path!r} was never uploaded to this repo"
                )
            if value.get("size") is not None and value["size"] != repo.lfs_objects[oid]:
                raise HubError(
                    400,
                    f"commit line {number}: size {value['size']} of {path!r} differs from the "
                    f"uploaded object ({repo.lfs_objects[oid]} bytes)",
                )
            files[path] = self._corrupted(repo, path, self._store_lfs(oid, repo.lfs_objects[oid]))
        elif key == "deletedFile":
            if files.pop(path, None) is None:
                raise HubError(
                    404, f"commit line {number}: A file with this name doesn't exist: {path!r}", "EntryNotFound"
                )
        elif key == "deletedFolder":
            prefix = path.rstrip("/") + "/"
            doomed = [existing for existing in files if existing.startswith(prefix)]
            if not doomed:
                raise HubError(
                    404, f"commit line {number}: A folder with this name doesn't exist: {path!r}", "EntryNotFound"
                )
            for existing in doomed:
                del files[existing]
        else:
            raise HubError(400, f"commit line {number}: unsupported operation {key!r}")

    def handle_create_tag(self, request: Request, type: str, ns: str, name: str, rev: str) -> Response:
        body = request.json()
        tag = body.get("tag")
        if not isinstance(tag, str) or not REF_NAME_PATTERN.fullmatch(tag) or ".." in tag:
            raise HubError(400, f"Invalid tag name {tag!r}")
        with self._lock:
            repo = self._writable(request, (REPO_TYPES[type], f"{ns}/{name}"))
            commit = self._resolve(repo, unquote(rev))
            if tag in repo.tags:
                raise HubError(409, f"Tag {tag!r} already exists (at {repo.tags[tag].commit})")
            repo.tags[tag] = Tag(commit.oid, body.get("message"))
        return Response(200, {"name": tag, "ref": f"refs/tags/{tag}", "targetCommit": commit.oid})

    def handle_delete_tag(self, request: Request, type: str, ns: str, name: str, tag: str) -> Response:
        with self._lock:
            repo = self._writable(request, (REPO_TYPES[type], f"{ns}/{name}"))
            if repo.tags.pop(unquote(tag), None) is None:
                raise HubError(404, f"Invalid rev id: tag {unquote(tag)!r} does not exist", "RevisionNotFound")
        return Response(200, {})

    def handle_create_branch(self, request: Request, type: str, ns: str, name: str, branch: str) -> Response:
        branch = unquote(branch)
        if not REF_NAME_PATTERN.fullmatch(branch) or ".." in branch or branch.startswith("refs/"):
            raise HubError(400, f"Invalid branch name {branch!r}")
        starting_point = request.json().get("startingPoint") or "main"
        with self._lock:
            repo = self._writable(request, (REPO_TYPES[type], f"{ns}/{name}"))
            if branch in repo.branches:
                raise HubError(409, f"Branch {branch!r} already exists")
            repo.branches[branch] = self._resolve(repo, starting_point).oid
        return Response(200, {})

    def handle_delete_branch(self, request: Request, type: str, ns: str, name: str, branch: str) -> Response:
        branch = unquote(branch)
        with self._lock:
            repo = self._writable(request, (REPO_TYPES[type], f"{ns}/{name}"))
            if branch == "main":
                raise HubError(403, "Cannot delete the default branch")
            if repo.branches.pop(branch, None) is None:
                raise HubError(404, f"Invalid rev id: branch {branch!r} does not exist", "RevisionNotFound")
        return Response(200, {})

    # ---- handlers: LFS

    def handle_lfs_batch(self, request: Request, ns: str, name: str, prefix: str | None = None) -> Response:
        body = request.json()
        if body.get("operation") != "upload":
            raise HubError(400, "Only the LFS 'upload' operation is implemented by the test Hub")
        if body.get("hash_algo", "sha256") != "sha256":
            raise HubError(400, f"Unsupported hash_algo {body.get('hash_algo')!r}")
        key = (REPO_TYPES[prefix] if prefix else "model", f"{ns}/{name}")
        git_url = f"{request.base_url}/{URL_PREFIXES[key[0]]}{key[1]}.git"
        multipart = self.multipart_chunk_size is not None and "multipart" in body.get("transfers", ["basic"])
        answers = []
        with self._lock:
            repo = self._writable(request, key)
            for item in body.get("objects") or []:
                oid, size = item.get("oid"), item.get("size")
                if not isinstance(oid, str) or not SHA256_PATTERN.fullmatch(oid) or not isinstance(size, int):
                    answers.append(
                        {
                            "oid": str(oid),
                            "size": size if isinstance(size, int) else -1,
                            "error": {"code": 422, "message": f"Invalid oid or size: {oid!r}, {size!r}"},
                        }
                    )
                    continue
                if repo.lfs_objects.get(oid) == size:
                    answers.append({"oid": oid, "size": size, "authenticated": True})  # present: nothing to send
                    continue
                upload_id = secrets.token_hex(16)
                upload_url = f"{request.base_url}/__lfs/{upload_id}"
                pending = PendingUpload(key, oid, size)
                header: dict[str, str] = {}
                if multipart and self.multipart_chunk_size and size > self.multipart_chunk_size:
                    pending.part_count = math.ceil(size / self.multipart_chunk_size)
                    header = {"chunk_size": str(self.multipart_chunk_size)}
                    header |= {str(n): f"{upload_url}/{n}" for n in range(1, pending.part_count + 1)}
                self._uploads[upload_id] = pending
                actions = {
                    "upload": {"href": upload_url, "header": header},
                    "verify": {"href": f"{git_url}/info/lfs/objects/verify", "header": {}},
                }
                answers.append({"oid": oid, "size": size, "authenticated": True, "actions": actions})
        return Response(
            200,
            {"transfer": "multipart" if multipart else "basic", "objects": answers, "hash_algo": "sha256"},
            content_type="application/vnd.git-lfs+json",
        )

    def handle_lfs_put(self, request: Request, upload: str, part: str | None = None) -> Response:
        with self._lock:
            pending = self._uploads.get(upload)
        if pending is None:
            raise HubError(404, f"Unknown or already used LFS upload URL {upload}")
        if part is not None:
            if pending.part_count is None or not 1 <= int(part) <= pending.part_count:
                raise HubError(400, f"Part {part} is not one of the {pending.part_count} parts of {pending.oid}")
            with self._lock:
                pending.parts[int(part)] = request.body
            return Response(200, b"", {"ETag": f'"{hashlib.md5(request.body).hexdigest()}"'})
        if pending.part_count is not None:
            raise HubError(400, f"LFS object {pending.oid} must be uploaded in {pending.part_count} parts")
        self._accept_lfs_object(upload, pending, request.body)
        return Response(200, b"", {"ETag": f'"{hashlib.md5(request.body).hexdigest()}"'})

    def handle_lfs_complete(self, request: Request, upload: str) -> Response:
        with self._lock:
            pending = self._uploads.get(upload)
        if pending is None or pending.part_count is None:
            raise HubError(404, f"Unknown multipart LFS upload {upload}")
        body = request.json()
        parts = body.get("parts") or []
        numbers = [part.get("partNumber") for part in parts]
        if body.get("oid") != pending.oid or numbers != list(range(1, pending.part_count + 1)):
            raise HubError(400, f"Completion of {pending.oid} must list parts 1..{pending.part_count} in order")
        for part in parts:
            data = pending.parts.get(part["partNumber"])
            if data is None or part.get("etag") != f'"{hashlib.md5(data).hexdigest()}"':
                raise HubError(400, f"Part {part['partNumber']} of {pending.oid} is missing or its ETag differs")
        self._accept_lfs_object(upload, pending, b"".join(pending.parts[n] for n in numbers))
        return Response(200, {})

    def _accept_lfs_object(self, upload: str, pending: PendingUpload, data: bytes) -> None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != pending.oid or len(data) != pending.size:
            raise HubError(
                400,
                f"LFS upload of {pending.oid} ({pending.size} bytes) received {len(data)} bytes with sha256 {actual}",
            )
        self.objects.put(data)
        with self._lock:
            self._uploads.pop(upload, None)
            if pending.repo_key in self.repos:
                self.repos[pending.repo_key].lfs_objects[pending.oid] = pending.size

    def handle_lfs_verify(self, request: Request, ns: str, name: str, prefix: str | None = None) -> Response:
        body = request.json()
        with self._lock:
            repo = self._writable(request, (REPO_TYPES[prefix] if prefix else "model", f"{ns}/{name}"))
            if repo.lfs_objects.get(body.get("oid")) != body.get("size"):
                raise HubError(404, f"LFS object {body.get('oid')} ({body.get('size')} bytes) is not stored")
        return Response(200, {})

    # ---- handlers: misc

    def handle_validate_yaml(self, request: Request) -> Response:
        content = request.json().get("content")
        if not isinstance(content, str):
            raise HubError(400, "validate-yaml: 'content' must be a string")
        errors = _yaml_errors(content)
        return Response(400 if errors else 200, {"errors": [{"message": e} for e in errors], "warnings": []})

    def handle_whoami(self, request: Request) -> Response:
        if request.user is None:
            raise HubError(401, "You must be authenticated")
        access = {"displayName": "test token", "role": "write"}
        return Response(
            200,
            {
                "type": "user",
                "name": request.user,
                "fullname": request.user,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": access},
            },
        )

    def dispatch(self, method: str, raw_path: str) -> tuple[str, Callable[[Request], Response]]:
        """The route name and a handler bound to the path's parameters."""
        path_matched = False
        for methods, pattern, name in _COMPILED_ROUTES:
            match = pattern.fullmatch(raw_path)
            if match is None:
                continue
            path_matched = True
            if method in methods:
                handler = getattr(self, f"handle_{name}")
                params = {k: v for k, v in match.groupdict().items() if v is not None}
                return name, functools.partial(_call_with_params, handler, params)
        status = 405 if path_matched else 404

        def unknown(request: Request) -> Response:
            raise HubError(status, f"{method} {raw_path} is not implemented by the test Hub")

        return "unknown", unknown


# --------------------------------------------------------------------------------------------------
# Helpers without state


def _call_with_params(handler: Callable[..., Response], params: dict[str, str], request: Request) -> Response:
    return handler(request, **params)


def _split_revision(raw: str) -> tuple[str, str]:
    """Split ``{rev}/{path}`` of a raw URL path; a quoted rev is one segment, ``refs/x/y`` is three."""
    segments = raw.split("/")
    count = 3 if segments[0] == "refs" and len(segments) >= 3 else 1
    return unquote("/".join(segments[:count])), unquote("/".join(segments[count:]))


def _is_valid_repo_path(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and all(part not in ("", ".", "..", ".git") for part in parts)


def _parse_ndjson(body: bytes) -> list[dict]:
    lines = []
    for number, line in enumerate(body.splitlines(), start=1):
        if line.strip():
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                raise HubError(400, f"commit line {number}: not JSON ({error})") from error
            if not isinstance(value, dict):
                raise HubError(400, f"commit line {number}: expected an object")
            lines.append(value)
    return lines


FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def _card_data(readme: bytes) -> dict | None:
    match = FRONT_MATTER.match(readme.decode(errors="replace"))
    if match is None:
        return None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def _yaml_errors(content: str) -> list[str]:
    """A small part of the Hub's card validation: YAML that parses to a mapping, and well-formed ``configs``."""
    match = FRONT_MATTER.match(content)
    if match is None:
        return []
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        return [f"Invalid YAML in README.md metadata: {error}"]
    if data is None:
        return []
    if not isinstance(data, dict):
        return ["README.md metadata must be a YAML mapping"]
    configs = data.get("configs", [])
    if not isinstance(configs, list):
        return ["'configs' must be a list"]
    errors, seen = [], set()
    for index, config in enumerate(configs):
        name = config.get("config_name") if isinstance(config, dict) else None
        if not isinstance(name, str) or not name:
            errors.append(f"configs[{index}]: 'config_name' must be a non-empty string")
        elif name in seen:
            errors.append(f"configs[{index}]: duplicate config_name {name!r}")
        seen.add(name)
    return errors


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the Hub; every answer carries a Content-Length

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the hub keeps its own request log
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        hub: HubServer = self.server.hub  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        body = self._read_body()
        route, handler = hub.dispatch(self.command, split.path)
        fault = hub._take_fault(route)
        if fault is None:
            hub._run_concurrent_writers(route)
        if fault is not None and fault.status is None:
            hub._log(self.command, route, split.path, None)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            if fault is not None:
                raise HubError(
                    fault.status or 500, f"Injected fault on {route} (request {fault.seen})", headers=fault.headers
                )
            request = Request(
                self.command,
                split.path,
                parse_qs(split.query, keep_blank_values=True),
                self.headers,
                body,
                f"http://{self.headers.get('Host')}",
                hub._user(self.headers),
            )
            response = handler(request)
        except HubError as error:
            response = error.response()
        except Exception as error:  # a bug in the stand-in: answer 500 with the reason rather than hang
            response = HubError(500, f"Test Hub internal error: {error!r}").response()
        hub._log(self.command, route, split.path, response.status)
        data, content_type = response.encoded()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


# --------------------------------------------------------------------------------------------------
# Running client code, and the pytest fixtures


class ClientError(AssertionError):
    """The client subprocess failed; carries its output."""


_PRELUDE = """\
import json as _hub_json, os as _hub_os

def emit(value):
    '''Hand ``value`` (JSON-serialisable) back to the test.'''
    with open(_hub_os.environ["HUB_TEST_RESULT"], "w", encoding="utf-8") as _file:
        _hub_json.dump(value, _file)

"""


def run_client(code: str, env: Mapping[str, str], *, timeout: float = 180.0, cwd: Path | None = None) -> Any:
    """Run ``code`` in a fresh interpreter with ``env`` (from ``HubServer.client_env``) and return what it
    passed to ``emit(...)`` (None if nothing). A non-zero exit raises ``ClientError`` with its output.
    The working directory defaults to an empty folder so that ``load_dataset("ns/name")`` cannot pick
    up a local folder of that name."""
    with tempfile.TemporaryDirectory(prefix="hub-client-") as scratch:
        result_path = Path(scratch) / "result.json"
        completed = subprocess.run(
            [sys.executable, "-c", _PRELUDE + textwrap.dedent(code)],
            env={**env, "HUB_TEST_RESULT": str(result_path)},
            cwd=cwd or scratch,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            raise ClientError(
                f"client exited with {completed.returncode}\n--- stdout ---\n{completed.stdout[-4000:]}"
                f"\n--- stderr ---\n{completed.stderr[-8000:]}"
            )
        return json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else None


def hub_server_fixture(scope: str = "function", **server_options: Any) -> Callable[..., Iterator[HubServer]]:
    """A pytest fixture yielding a started ``HubServer`` (state in a temporary folder), e.g.
    ``hub_with_multipart = hub_server_fixture(multipart_chunk_size=1024)`` in a test module."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload]
    def _hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
        with HubServer(tmp_path_factory.mktemp("hub"), **server_options) as server:
            yield server

    return _hub_server


hub_server = hub_server_fixture()


@pytest.fixture
def hub_env(hub_server: HubServer, tmp_path: Path) -> dict[str, str]:
    """Client environment for ``hub_server`` with a fresh ``HF_HOME`` for this test."""
    return hub_server.client_env(tmp_path / "client")


__all__ = [
    "DEFAULT_GITATTRIBUTES",
    "ROUTES",
    "TEST_TOKEN",
    "TEST_USER",
    "ClientError",
    "Fault",
    "HubServer",
    "RequestRecord",
    "git_blob_oid",
    "git_commit_oid",
    "git_tree_oids",
    "hub_env",
    "hub_server",
    "hub_server_fixture",
    "lfs_pointer",
    "run_client",
]
