"""Reading a release's original GeoTIFFs by path: from a local folder or from the Hub at a pinned revision.

Rows name their original (``sar_path``, ``sar_sha256``, ``sar_bytes``); the files lie under
``originals/<source>/`` in the release, stored once and listed by no config, so `datasets` never
downloads them for image-only use. `OriginalsReader` fetches the originals a batch needs: concurrently
(a small thread pool hides the Hub's request latency), each path once per batch, and checks each file's
SHA-256 against its row by default (about 2 ms per 10 MB here, a few percent of decoding it). A local
original is opened through `release_paths.read_release_file` (no symlink followed, regular files only),
and every read, local or remote, stops at the row's size plus one byte.

A Hub root is ``hf://datasets/ORG/NAME@REV``. Streaming reads make one GET per original at that
revision; map-style reads (``cache=True``) go through huggingface_hub's cache, so a second epoch reads
from disk. `sarlang1m.prefetch` fills that cache (or a local folder) for one config, for offline use.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .errors import InputError, VerificationError, printable
from .publish.remote import call, translated
from .release_paths import check_original_path, read_regular_file, read_release_file

__all__ = [
    "DEFAULT_FETCH_WORKERS",
    "HubRoot",
    "OriginalsReader",
    "check_original_path",
    "gdal_path",
    "hub_root",
    "parse_root",
]

#: Threads fetching originals per reader (one reader per DataLoader worker): enough to hide ~30-100 ms of
#: request latency behind decoding, few enough not to flood the Hub from many workers.
DEFAULT_FETCH_WORKERS = 8
T = TypeVar("T")
_HUB_ROOT = re.compile(r"^hf://datasets/(?P<repo>[^/@]+/[^/@]+)(?:@(?P<revision>[^/]+))?/?$")


@dataclass(frozen=True)
class HubRoot:
    """A release on the Hub at a revision (a tag, branch or commit sha)."""

    repo_id: str
    revision: str

    def __str__(self) -> str:
        return f"hf://datasets/{self.repo_id}@{self.revision}"


def hub_root(repo_id: str, revision: str) -> str:
    """The ``hf://`` root of a Hub release, as `OriginalsReader` and `SARDecode(root=...)` take it."""
    return str(HubRoot(repo_id, revision))


def gdal_path(repo_id: str, path: str, revision: str, *, endpoint: str | None = None) -> str:
    """The GDAL path of an original on the Hub (``/vsicurl/`` on its resolve URL), for rasterio or QGIS.

    GDAL reads the header and only the tiles it needs with HTTP range requests; a private repo needs
    ``GDAL_HTTP_HEADERS="Authorization: Bearer <token>"`` in the environment.
    """
    from huggingface_hub import hf_hub_url

    url = hf_hub_url(repo_id, check_original_path(path), repo_type="dataset", revision=revision, endpoint=endpoint)
    return f"/vsicurl/{url}"


def parse_root(root: str | os.PathLike[str]) -> Path | HubRoot:
    """A local release folder, or a `HubRoot` from ``hf://datasets/ORG/NAME@REV``."""
    text = os.fspath(root)
    if text.startswith("hf://"):
        match = _HUB_ROOT.match(text)
        if match is None:
            raise InputError(f"{text}: a Hub root is hf://datasets/ORG/NAME@REVISION")
        return HubRoot(match["repo"], match["revision"] or "main")
    return Path(text)


class OriginalsReader:
    """Fetches original GeoTIFFs by their ``sar_path`` from a release root, checking their SHA-256.

    Picklable (DataLoader workers each get their own thread pool, made on first use).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        workers: int = DEFAULT_FETCH_WORKERS,
        check_sha256: bool = True,
        cache: bool = False,
        token: str | bool | None = None,
    ) -> None:
        if workers < 1:
            raise InputError(f"fetch workers must be at least 1, got {workers}")
        self.root = parse_root(root)
        self.workers = workers
        self.check_sha256 = check_sha256
        self.cache = cache
        self.token = token
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        #: The reads the last `read_ahead` started that `read` has not taken yet: {path: future of its bytes}.
        self._ahead: dict[str, Future[bytes]] = {}
        self._ahead_pool: ThreadPoolExecutor | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_pool"], state["_ahead_pool"], state["_lock"], state["_ahead"] = None, None, None, {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def reads_remote(self) -> bool:
        """Whether each read is a request to the Hub (not a local file, nor huggingface_hub's cache)."""
        return isinstance(self.root, HubRoot) and not self.cache

    def __repr__(self) -> str:
        return f"OriginalsReader({str(self.root)!r}, workers={self.workers}, check_sha256={self.check_sha256})"

    def read(self, path: str, sha256: str | None = None, size: int | None = None) -> bytes:
        """The bytes of one original; a wrong size or SHA-256 raises `VerificationError` naming the path.

        A read started ahead by `read_ahead` is taken over (waited for, not repeated).
        """
        with self._lock:
            ahead = self._ahead.pop(path, None)
        if ahead is not None:
            return ahead.result()
        return self._read_checked(path, sha256, size)

    def read_ahead(self, wanted: Iterable[tuple[str, str | None, int | None]]) -> None:
        """Start reading (path, sha256, bytes) on this reader's threads before anyone asks, so that the next
        batch's requests are under way while the current one decodes; `read` takes them over.

        Only this call's reads are held: what the previous call started and nobody took is dropped
        (cancelled if not started). A stream decodes all of one read-ahead batch before it asks for the
        next, so leftovers are reads nobody will take (a stream stopped early). They run on threads of
        their own: queued on the pool that decodes, they would hold the current batch's decodes back
        behind the next batch's reads.
        """
        with self._lock:
            if self._ahead_pool is None:
                self._ahead_pool = ThreadPoolExecutor(self.workers, thread_name_prefix="sarlang1m-read-ahead")
            pool, left = self._ahead_pool, self._ahead
            self._ahead = {}
            for path, sha256, size in wanted:
                if path not in self._ahead:
                    started = left.pop(path, None)
                    self._ahead[path] = started or pool.submit(self._read_checked, path, sha256, size)
            for future in left.values():
                future.cancel()

    def _read_checked(self, path: str, sha256: str | None, size: int | None) -> bytes:
        """One original, read with the bound of its row's size and checked against its size and SHA-256."""
        check_original_path(path)
        data = self._read_local(path, size) if isinstance(self.root, Path) else self._read_hub(path, size)
        if size is not None and len(data) != size:
            raise VerificationError(
                f"{printable(path)}: {len(data)} bytes, the row says {size}: run `sarlang1m verify`"
            )
        if self.check_sha256 and sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise VerificationError(
                f"{printable(path)}: sha256 differs from the row's sar_sha256: run `sarlang1m verify`"
            )
        return data

    def submit(self, function: Callable[..., T], /, *args: Any) -> Future[T]:
        """Run ``function(*args)`` on this reader's threads (`SARDecode` fetches and decodes there)."""
        return self._executor().submit(function, *args)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="sarlang1m-originals")
            return self._pool

    def _read_local(self, path: str, limit: int | None = None) -> bytes:
        """A regular file under the release folder, reached without following a symlink (`read_release_file`)."""
        assert isinstance(self.root, Path)
        return read_release_file(self.root, path, limit=limit).data

    def _read_hub(self, path: str, limit: int | None = None) -> bytes:
        """One GET at the pinned revision (or huggingface_hub's cache), never reading past `limit` + 1 bytes."""
        assert isinstance(self.root, HubRoot)
        if self.cache:
            return read_regular_file(self.download(path), limit=limit).data
        from huggingface_hub import hf_hub_url

        url = hf_hub_url(self.root.repo_id, path, repo_type="dataset", revision=self.root.revision)
        with translated(f"fetching {self.root}/{printable(path)}", repo_id=self.root.repo_id):
            return call(_get_bounded, url, self.token, printable(path), limit)

    def download(self, path: str, local_dir: str | Path | None = None) -> str:
        """One original through huggingface_hub's cache (or into `local_dir`); its local path."""
        assert isinstance(self.root, HubRoot)
        from huggingface_hub import hf_hub_download

        with translated(f"fetching {self.root}/{printable(path)}", repo_id=self.root.repo_id):
            return call(
                hf_hub_download,
                self.root.repo_id,
                path,
                repo_type="dataset",
                revision=self.root.revision,
                token=self.token,
                local_dir=local_dir,
            )


def _get_bounded(url: str, token: str | bool | None, shown: str, limit: int | None) -> bytes:
    """The body of a GET, refused as soon as it runs past `limit` bytes (the server's length is not trusted).

    huggingface_hub retries dropped connections; answers are left to `call`, which retries the transient
    ones and counts what it tried.
    """
    from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, http_stream_backoff

    headers = build_hf_headers(token=token)
    with http_stream_backoff("GET", url, headers=headers, follow_redirects=True, retry_on_status_codes=()) as response:
        hf_raise_for_status(response)
        chunks, received = [], 0
        for chunk in response.iter_bytes():
            received += len(chunk)
            if limit is not None and received > limit:
                raise VerificationError(
                    f"{shown}: the Hub sends more than the row's {limit} bytes: run `sarlang1m verify`"
                )
            chunks.append(chunk)
    return b"".join(chunks)


def __getattr__(name: str) -> Any:
    """`prefetch` and its result, which moved to `sarlang1m.prefetch`, still importable from here."""
    if name in ("prefetch", "PrefetchResult"):
        from . import prefetch as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
