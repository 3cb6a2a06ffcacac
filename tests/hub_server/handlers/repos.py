"""Repo endpoints: create, delete, info. TEST ONLY.

Mirrors:
  POST   /api/repos/create                         create (public/private), 409 if present
  DELETE /api/repos/delete                         delete
  GET    /api/{type}s/{repo}[/revision/{rev}]      info: sha, siblings (sizes and LFS with ``blobs=true``),
                                                   cardData from the README's YAML, ``expand``
Documented at https://huggingface.co/docs/hub/api (``/api/repos/create``, ``/api/repos/delete``,
``/api/models/{repo_id}`` and its ``revision`` form); clients: ``HfApi.create_repo``,
``HfApi.delete_repo``, ``HfApi.repo_info`` / ``dataset_info``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any
from urllib.parse import unquote

from ..core import HubCore
from ..git import DEFAULT_GITATTRIBUTES, iso_date
from ..protocol import HubError, Request, Response
from ..state import NAME_PATTERN, REPO_TYPES, URL_PREFIXES, Repo
from .misc import _card_data


class RepoEndpoints(HubCore):
    """Create, delete and describe repos."""

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
            repo = Repo(repo_type, repo_id, private, dt.datetime.now(dt.UTC).timestamp())
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
