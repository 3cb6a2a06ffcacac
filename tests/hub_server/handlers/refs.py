"""Ref endpoints: tags and branches. TEST ONLY.

Mirrors:
  POST   /api/{type}s/{repo}/tag/{rev}             create a tag (409 if it exists), with a message
  DELETE /api/{type}s/{repo}/tag/{tag}             delete a tag
  POST   /api/{type}s/{repo}/branch/{branch}       create a branch (409 if present, ``startingPoint``)
  DELETE /api/{type}s/{repo}/branch/{branch}       delete a branch (never ``main``)
Clients: ``HfApi.create_tag`` / ``delete_tag`` / ``create_branch`` / ``delete_branch``
(https://huggingface.co/docs/huggingface_hub/package_reference/hf_api).
"""

from __future__ import annotations

from urllib.parse import unquote

from ..core import HubCore
from ..protocol import HubError, Request, Response
from ..state import REF_NAME_PATTERN, REPO_TYPES, Tag


class RefEndpoints(HubCore):
    """Create and delete tags and branches."""

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
