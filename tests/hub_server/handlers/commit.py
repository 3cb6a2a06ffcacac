"""Upload endpoints: preupload and commit. TEST ONLY.

Mirrors:
  POST   /api/{type}s/{repo}/preupload/{rev}       lfs or regular like the Hub: .gitattributes patterns,
                                                   >= 10 MiB, or a NUL byte in the sample
  POST   /api/{type}s/{repo}/commit/{rev}          ndjson: header, file, lfsFile, deletedFile,
                                                   deletedFolder; parentCommit (412 if stale);
                                                   ``create_pr=1`` puts the commit on a new ``refs/pr/N``
Neither is in the Hub's API reference; huggingface_hub's ``HfApi.create_commit`` and ``_commit_api.py``
(``_fetch_upload_modes``, ``_prepare_commit_payload``) define them, and
https://huggingface.co/docs/huggingface_hub/guides/upload describes the behaviour.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from ..core import HubCore
from ..git import is_lfs_by_gitattributes
from ..protocol import HubError, Request, Response, _is_valid_repo_path, _parse_ndjson
from ..state import LFS_SIZE_THRESHOLD, REPO_TYPES, URL_PREFIXES, Repo, StoredFile


class CommitEndpoints(HubCore):
    """Decide upload modes and write commits (a new git commit on a branch, or on a new PR ref)."""

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
