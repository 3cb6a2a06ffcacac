"""Publish a release on the Hugging Face Hub as an immutable, verified version tag.

`push_release` checks the local release against its MANIFEST, uploads only what differs from the
repository's main branch (several commits when large, so an interrupted push resumes where it
stopped), tags the final commit `vX.Y.Z` (never moving an existing tag), and verifies that the files at
the tag match the MANIFEST. Transport is huggingface_hub's (`create_commit`, LFS, tags).
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, hf_hub_download, snapshot_download
from huggingface_hub.hf_api import RepoFile
from packaging.version import InvalidVersion, Version
from tqdm.auto import tqdm

from . import schema
from .errors import InputError
from .manifest import Verification, compare_files, file_entry, read_manifest, sha256_file, verify_local

#: A commit holds at most this many files or bytes, so that a push of a large release is resumable.
COMMIT_MAX_FILES = 50
COMMIT_MAX_BYTES = 2 * 2**30
_KEEP_REMOTE = {".gitattributes"}
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class PushRefused(InputError):
    """The push would damage or mislabel a release; nothing was changed."""


@dataclass
class PushPlan:
    """What a push would do: files to add or replace, files to delete, and the bytes to send."""

    repo_id: str
    tag: str
    additions: list[str] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    bytes_to_upload: int = 0
    commits: list[list[str]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"push to {self.repo_id} as {self.tag}: {len(self.additions)} file(s) to upload "
            f"({self.bytes_to_upload / 2**20:.1f} MiB) in {len(self.commits)} commit(s), "
            f"{len(self.deletions)} to delete, {len(self.unchanged)} unchanged"
        ]
        lines += [f"  + {path}" for path in self.additions]
        lines += [f"  - {path}" for path in self.deletions]
        return "\n".join(lines)


@dataclass
class PushResult:
    plan: PushPlan
    commit: str | None
    verification: Verification | None
    pull_request: str | None = None

    @property
    def load_line(self) -> str:
        return f'load_dataset("{self.plan.repo_id}", "vqa", revision="{self.plan.tag}")'


def push_release(
    release: str | Path,
    repo_id: str,
    version: str,
    *,
    private: bool = False,
    dry_run: bool = False,
    create_pr: bool = False,
    allow_older: bool = False,
    token: str | None = None,
    progress: bool = True,
) -> PushResult:
    """Upload a local release folder to `repo_id` and tag it `v{version}` (see the module docstring)."""
    release = Path(release)
    tag = _tag_for(version)
    local = verify_local(release)
    if not local.ok:
        raise PushRefused(f"the local release does not match its MANIFEST; rebuild it:\n{local.summary()}")
    manifest = read_manifest(release)
    if manifest.get("version") != version:
        raise PushRefused(
            f"{release} was built as version {manifest.get('version')}, not {version}: "
            f"rebuild with `sarlang1m build ... --version {version}` so the card and MANIFEST say {version}"
        )
    api = HfApi(token=token)
    exists = api.repo_exists(repo_id, repo_type="dataset")
    tags = _version_tags(api, repo_id) if exists else {}
    if tag in tags:
        raise PushRefused(f"{repo_id} already has the tag {tag} (at {tags[tag][:12]}): tags are never moved")
    newer = [t for t in tags if Version(t[1:]) >= Version(version)]
    if newer and not allow_older:
        raise PushRefused(
            f"{repo_id} already has {max(newer, key=lambda t: Version(t[1:]))}: {tag} is not newer "
            "(pass allow_older=True / --allow-older to publish it anyway)"
        )
    remote = _remote_files(api, repo_id, "main") if exists else {}
    plan = _plan(release, manifest, remote, repo_id, tag)
    if dry_run:
        return PushResult(plan, commit=None, verification=None)
    if not exists:
        api.create_repo(repo_id, repo_type="dataset", private=private)
    if create_pr:
        info = api.create_commit(
            repo_id,
            _operations(release, plan.additions, plan.deletions),
            repo_type="dataset",
            commit_message=f"Release {tag}",
            create_pr=True,
        )
        verification = verify_hub(f"{repo_id}@{info.pr_revision}", token=token)
        return PushResult(plan, commit=info.oid, verification=verification, pull_request=info.pr_url)
    head = api.repo_info(repo_id, repo_type="dataset").sha
    for index, paths in enumerate(tqdm(plan.commits, desc="commits", unit=" commit", disable=not progress)):
        last = index == len(plan.commits) - 1
        info = api.create_commit(
            repo_id,
            _operations(release, paths, plan.deletions if last else []),
            repo_type="dataset",
            commit_message=f"Release {tag} ({index + 1}/{len(plan.commits)})",
            parent_commit=head,
        )
        head = info.oid
    api.create_tag(repo_id, tag=tag, revision=head, repo_type="dataset", tag_message=f"SARLANG-1M release {version}")
    verification = verify_hub(f"{repo_id}@{tag}", token=token)
    return PushResult(plan, commit=head, verification=verification)


def verify(target: str | Path, *, download: bool = False, token: str | None = None) -> Verification:
    """Check a local release folder, or a Hub revision `ORG/NAME@REV`, against its MANIFEST."""
    if Path(target).exists():
        return verify_local(target)
    return verify_hub(str(target), download=download, token=token)


def verify_hub(target: str, *, download: bool = False, token: str | None = None) -> Verification:
    """Check the files of `ORG/NAME@REV` against the MANIFEST at that revision.

    Without `download`, sizes and the sha256 the Hub recorded for LFS files are compared (small regular
    files are downloaded and hashed). With `download`, every file is downloaded and hashed: this also
    catches storage that serves other bytes than were uploaded.
    """
    repo_id, _, revision = target.partition("@")
    revision = revision or "main"
    api = HfApi(token=token)
    manifest_path = hf_hub_download(repo_id, schema.MANIFEST_FILE, repo_type="dataset", revision=revision, token=token)
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    if download:
        with tempfile.TemporaryDirectory(prefix="sarlang1m-verify-") as folder:
            snapshot_download(repo_id, repo_type="dataset", revision=revision, local_dir=folder, token=token)
            result = verify_local(folder)
            result.target = target
            return result
    remote = _remote_files(api, repo_id, revision)

    def entry(path: str) -> dict:
        file = remote[path]
        if file.lfs is not None:
            return {"bytes": file.size, "sha256": file.lfs.sha256}
        local = hf_hub_download(repo_id, path, repo_type="dataset", revision=revision, token=token)
        return {"bytes": file.size, "sha256": sha256_file(local)}

    return compare_files(target, manifest["files"], remote, entry, ignore_extra=_KEEP_REMOTE)


# ------------------------------------------------------------------------------------ planning


def _tag_for(version: str) -> str:
    if not _VERSION.match(version):
        raise PushRefused(f"version must look like X.Y.Z (e.g. 1.0.0), got {version!r}")
    return f"v{version}"


def _version_tags(api: HfApi, repo_id: str) -> dict[str, str]:
    tags = {}
    for ref in api.list_repo_refs(repo_id, repo_type="dataset").tags:
        if ref.name.startswith("v"):
            try:
                Version(ref.name[1:])
            except InvalidVersion:
                continue
            tags[ref.name] = ref.target_commit
    return tags


def _remote_files(api: HfApi, repo_id: str, revision: str) -> dict[str, RepoFile]:
    return {
        item.path: item
        for item in api.list_repo_tree(repo_id, repo_type="dataset", revision=revision, recursive=True, expand=True)
        if isinstance(item, RepoFile)
    }


def _plan(release: Path, manifest: dict, remote: dict[str, RepoFile], repo_id: str, tag: str) -> PushPlan:
    plan = PushPlan(repo_id, tag)
    wanted = {**manifest["files"], schema.MANIFEST_FILE: file_entry(release / schema.MANIFEST_FILE)}
    for path in sorted(wanted):
        if _same(remote.get(path), wanted[path], release / path):
            plan.unchanged.append(path)
        else:
            plan.additions.append(path)
            plan.bytes_to_upload += wanted[path]["bytes"]
    plan.deletions = sorted(set(remote) - set(wanted) - _KEEP_REMOTE)
    plan.commits = list(_batches(plan.additions, wanted))
    if not plan.commits and plan.deletions:
        plan.commits = [[]]
    return plan


def _batches(additions: list[str], entries: dict[str, dict]) -> Iterator[list[str]]:
    """Data files in commits of bounded size, then the rest: the card and the MANIFEST go last, so a
    repository whose MANIFEST is new is complete."""
    data = [p for p in additions if p.startswith(schema.DATA_DIR + "/")]
    rest = [p for p in additions if p not in data]
    batch: list[str] = []
    size = 0
    for path in data:
        if batch and (len(batch) >= COMMIT_MAX_FILES or size + entries[path]["bytes"] > COMMIT_MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += entries[path]["bytes"]
    if batch or rest:
        yield batch + rest


def _same(remote: RepoFile | None, entry: dict, local: Path) -> bool:
    if remote is None or remote.size != entry["bytes"]:
        return False
    if remote.lfs is not None:
        return remote.lfs.sha256 == entry["sha256"]
    return remote.blob_id == _git_blob_oid(local)


def _git_blob_oid(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _operations(release: Path, additions: list[str], deletions: list[str]) -> list:
    return [CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(release / p)) for p in additions] + [
        CommitOperationDelete(path_in_repo=p) for p in deletions
    ]
