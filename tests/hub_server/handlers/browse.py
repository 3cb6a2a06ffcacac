"""Browsing endpoints: tree, paths-info, commit history, refs. TEST ONLY.

Mirrors:
  GET    /api/{type}s/{repo}/tree/{rev}[/{path}]   ``recursive`` and ``expand`` (lastCommit), paginated
  POST   /api/{type}s/{repo}/paths-info/{rev}      form ``paths=...&expand=...`` (or JSON)
  GET    /api/{type}s/{repo}/commits/{rev}         first-parent history, paginated
  GET    /api/{type}s/{repo}/refs                  branches, tags, and ``refs/pr/N`` with ``include_prs=1``
Documented at https://huggingface.co/docs/hub/api (tree and refs); clients: ``HfApi.list_repo_tree``,
``HfApi.get_paths_info``, ``HfApi.list_repo_commits``, ``HfApi.list_repo_refs``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote

from ..core import HubCore
from ..git import iso_date
from ..protocol import HubError, Request, Response, _split_revision
from ..state import COMMITS_PAGE_SIZE, REPO_TYPES, TREE_EXPAND_PAGE_SIZE, TREE_PAGE_SIZE, Commit


class BrowseEndpoints(HubCore):
    """List a revision's files and folders, its history, and the repo's refs."""

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
