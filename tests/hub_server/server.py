"""``HubServer``: the stand-in Hub, its route table, lifecycle and test hooks. TEST ONLY.

Mirrors the Hub's URL space: ``ROUTE_TABLE`` maps each implemented (method, path) to a route name and
its ``handle_{route}`` method in ``handlers/`` (see the package docstring for the whole list). Any
other path is answered 404 (405 for a known path with another method) and logged with route
``"unknown"``. The test hooks (``inject_fault``, ``tamper_file``, ``corrupt_next_upload``, ``move_tag``,
``inject_concurrent_commit``, ``inject_concurrent_tag``, ``count``, ``head``, ``files``, ``read_file``) read
and change the state without HTTP.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Literal

from .handlers import (
    BrowseEndpoints,
    CommitEndpoints,
    DownloadEndpoints,
    LfsEndpoints,
    MiscEndpoints,
    RefEndpoints,
    RepoEndpoints,
)
from .protocol import HubError, Request, Response
from .state import Fault, StoredFile, Tag

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


class HubServer(
    RepoEndpoints,
    BrowseEndpoints,
    DownloadEndpoints,
    CommitEndpoints,
    RefEndpoints,
    LfsEndpoints,
    MiscEndpoints,
):
    """The stand-in Hub: state plus an HTTP server on a thread. Use as a context manager or start()/stop()."""

    # ---- lifecycle and test hooks

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

    def inject_concurrent_tag(
        self, repo_id: str, tag: str, *, revision: str = "main", nth: int = 1, repo_type: str = "dataset"
    ) -> None:
        """Just before the ``nth`` tag-creation request (counted from now) is handled, another writer creates
        ``tag`` on the commit ``revision`` points to then (a tag made by someone else during a push)."""
        with self._lock:
            self._concurrent.append(
                {"key": (repo_type, repo_id), "tag": tag, "revision": revision, "nth": nth, "seen": 0}
            )

    def _run_concurrent_writers(self, route: str) -> None:
        if route not in ("commit", "create_tag"):
            return
        with self._lock:
            for write in list(self._concurrent):
                if ("tag" in write) != (route == "create_tag"):
                    continue
                write["seen"] += 1
                if write["seen"] < write["nth"]:
                    continue
                self._concurrent.remove(write)
                repo = self._repo(write["key"])
                if "tag" in write:
                    repo.tags[write["tag"]] = Tag(self._resolve(repo, write["revision"]).oid, "by another writer")
                    continue
                parent = repo.commits[repo.branches[write["branch"]]]
                files = dict(parent.files) | {write["path"]: self._store_regular(write["data"])}
                commit = self._new_commit(repo, parent, files, "A commit by another writer", "", "another-writer")
                repo.branches[write["branch"]] = commit.oid

    def _entry(self, repo_id: str, path: str, revision: str, repo_type: str) -> StoredFile:
        files = self.files(repo_id, revision, repo_type=repo_type)
        if path not in files:
            raise KeyError(f"{path!r} is not in {repo_type} {repo_id} at {revision!r}")
        return files[path]

    # ---- dispatch

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


def _call_with_params(handler: Callable[..., Response], params: dict[str, str], request: Request) -> Response:
    return handler(request, **params)
