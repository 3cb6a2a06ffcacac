"""Download endpoints: resolve, and the "CDN" that serves LFS content. TEST ONLY.

Mirrors:
  HEAD/GET /{prefix}{repo}/resolve/{rev}/{path}    ETag, X-Repo-Commit, Range; an LFS file answers 302
                                                   with X-Linked-Etag / X-Linked-Size to another host name
  HEAD/GET /__cdn/{sha256}?sig=...                 the signed content URL that 302 points to, with Range
Documented at https://huggingface.co/docs/huggingface_hub/guides/download (``hf_hub_download`` and
the ``resolve`` URL from ``hf_hub_url``); the headers it reads are in huggingface_hub's
``file_download.py`` (``get_hf_file_metadata``).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from ..core import HubCore
from ..protocol import HubError, Request, Response, _split_revision
from ..state import REPO_TYPES


class DownloadEndpoints(HubCore):
    """Serve file bytes: regular files directly, LFS files by redirect to a signed URL."""

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
