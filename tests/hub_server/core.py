"""``HubCore``: the stand-in's state, its HTTP server, and the plumbing every endpoint handler shares. TEST ONLY.

Mirrors no endpoint itself. It holds what the Hub does behind every call: authentication by
``Authorization: Bearer`` token (401 for an unknown token), repo lookup with private repos hidden from
anonymous readers (404 ``RepoNotFound``), revision resolution (branch, tag, ``refs/heads|tags/...``,
``refs/pr/N`` or an abbreviated commit oid, else 404 ``RevisionNotFound``), new git commits, cursor
pagination with a ``Link: <...>; rel="next"`` header (https://huggingface.co/docs/hub/api), and
``Range`` answers (200/206/416). The endpoint families in ``handlers/`` subclass it; ``server.HubServer``
joins them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from email.message import Message
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

from .git import git_blob_oid, git_commit_message, git_commit_oid, git_tree_oids, iso_date, lfs_pointer
from .protocol import HubError, Request, Response
from .state import (
    COMMIT_OID_PREFIX_PATTERN,
    TEST_TOKEN,
    TEST_USER,
    Commit,
    Fault,
    ObjectStore,
    PendingUpload,
    Repo,
    RequestRecord,
    StoredFile,
)
from .transport import _Handler


class HubCore:
    """State plus an HTTP server on a thread, and the helpers the endpoint handlers share."""

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

    @property
    def port(self) -> int:
        return self._http.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://{self._http.server_address[0]}:{self.port}"

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
        timestamp = int(dt.datetime.now(dt.UTC).timestamp())
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
