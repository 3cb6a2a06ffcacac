"""Planning a push: which files differ from the branch's current commit, cut into commits the Hub accepts.

Only files whose size and hash differ from what the base commit holds are uploaded (LFS files by
their sha256, small files by their git blob id), so a push that was interrupted resumes where it
stopped. Commits hold at most `COMMIT_MAX_FILES` files and `COMMIT_MAX_BYTES`, with the top-level
files (card, Croissant, report, MANIFEST) in the last one, so a repository whose MANIFEST is new is
complete.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub import HfApi
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils.sha import git_hash

from .. import schema
from ..sizes import human_bytes
from .manifest import file_entry
from .remote import call

#: Files per commit. The Hub asks for fewer than 100 files per commit over HTTP
#: (https://huggingface.co/docs/hub/repositories-recommendations); small commits also make a push resumable.
COMMIT_MAX_FILES = 99
COMMIT_MAX_BYTES = 2 * 2**30
#: Files a Hub repository keeps that no release lists (the Hub writes them).
KEEP_REMOTE = {".gitattributes"}


@dataclass
class PushPlan:
    """What a push would do: files to add or replace, files to delete, and the bytes to send."""

    repo_id: str
    tag: str
    branch: str = "main"
    base: str | None = None
    additions: list[str] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    bytes_to_upload: int = 0
    commits: list[list[str]] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    #: files the MANIFEST lists (MANIFEST.json itself is counted apart, as `verify` counts)
    listed: int = 0
    #: whether the repository exists on the Hub (False: the push creates it)
    repo_exists: bool = True
    #: why the Hub was not asked (a dry run that could not reach it), or None when it was
    unchecked: str | None = None

    def summary(self) -> str:
        where = "" if self.branch == "main" else f" on branch {self.branch} (main is not moved)"
        upload = sum(p != schema.MANIFEST_FILE for p in self.additions)
        manifest = "to upload" if schema.MANIFEST_FILE in self.additions else "unchanged"
        lines = [
            f"push to {self.repo_id} as {self.tag}{where}: of the {self.listed} files the MANIFEST lists, {upload} "
            f"to upload and {self.listed - upload} unchanged; {schema.MANIFEST_FILE} {manifest}; "
            f"{human_bytes(self.bytes_to_upload)} in {len(self.commits)} commit(s); {len(self.deletions)} file(s) "
            "to delete"
        ]
        if self.unchecked is not None:
            lines.append(
                f"  not checked against the Hub ({self.unchecked}): this plan assumes {self.repo_id} is new "
                "and its version tags were not read; run the dry run again online before pushing"
            )
        elif not self.repo_exists:
            lines.append(f"  {self.repo_id} does not exist on the Hub: the push creates it")
        lines += [f"  + {path}" for path in self.additions[:200]]
        lines += [f"  - {path}" for path in self.deletions[:200]]
        hidden = max(len(self.additions) - 200, 0) + max(len(self.deletions) - 200, 0)
        if hidden:
            lines.append(f"  ... and {hidden} more")
        return "\n".join(lines)


def remote_files(api: HfApi, repo_id: str, revision: str) -> dict[str, RepoFile]:
    tree = call(
        lambda: list(api.list_repo_tree(repo_id, repo_type="dataset", revision=revision, recursive=True, expand=True))
    )
    return {item.path: item for item in tree if isinstance(item, RepoFile)}


def make_plan(release: Path, manifest: dict, remote: dict[str, RepoFile], repo_id: str, tag: str) -> PushPlan:
    plan = PushPlan(repo_id, tag, listed=len(manifest["files"]))
    wanted = {**manifest["files"], schema.MANIFEST_FILE: file_entry(release / schema.MANIFEST_FILE)}
    for path in sorted(wanted):
        if _same(remote.get(path), wanted[path], release / path):
            plan.unchanged.append(path)
        else:
            plan.additions.append(path)
            plan.bytes_to_upload += wanted[path]["bytes"]
    plan.deletions = sorted(set(remote) - set(wanted) - KEEP_REMOTE)
    plan.sizes = {path: wanted[path]["bytes"] for path in plan.additions}
    plan.commits = list(_commits(plan.additions, plan.deletions, plan.sizes))
    return plan


def _commits(additions: list[str], deletions: list[str], sizes: dict[str, int]) -> Iterator[list[str]]:
    """Commits of at most `COMMIT_MAX_FILES` operations and `COMMIT_MAX_BYTES`: every file in a folder
    first (whatever the folder), then deletions, then the top-level files (card, Croissant, report,
    MANIFEST) in the last commit, so a repository whose MANIFEST is new is complete."""
    top_level = [p for p in additions if "/" not in p]
    payload = [p for p in additions if "/" in p] + deletions
    batch: list[str] = []
    size = 0
    for path in payload:
        if batch and (len(batch) >= COMMIT_MAX_FILES or size + sizes.get(path, 0) > COMMIT_MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += sizes.get(path, 0)
    if batch and len(batch) + len(top_level) > COMMIT_MAX_FILES:
        yield batch
        batch = []
    if batch or top_level:
        yield batch + top_level


def _same(remote: RepoFile | None, entry: dict, local: Path) -> bool:
    if remote is None or remote.size != entry["bytes"]:
        return False
    if remote.lfs is not None:
        return remote.lfs.sha256 == entry["sha256"]
    return remote.blob_id == git_hash(local.read_bytes())
