"""Publish a release on the Hugging Face Hub as an immutable, verified version tag.

`push_release` checks the local release (files against its MANIFEST, the MANIFEST's shape, and that
card, Croissant and build report name the same repo, version and `synthetic`), plans against the
branch's current commit, uploads only what differs in chained commits of at most `COMMIT_MAX_FILES`
files (so an interrupted push resumes where it stopped and a concurrent writer makes it fail instead
of being mixed in), verifies the files at the final commit against the MANIFEST, and only then tags
that exact commit `vX.Y.Z` (never moving an existing tag) and records its sha (`releases`). An older
version (`allow_older`) is committed to a branch `release/vX.Y.Z` of its own, so `main` keeps the
newest release. Transport is huggingface_hub's (`create_commit`, LFS, tags); `remote` retries its
transient answers and turns failures into one line that says what state the repo was left in.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, hf_hub_download, snapshot_download
from huggingface_hub.hf_api import RepoFile
from packaging.version import InvalidVersion, Version
from tqdm.auto import tqdm

from .. import schema
from ..errors import InputError, NotFoundError, RemoteError, VerificationError
from ..resolve import resolve_hub_revision
from . import releases
from .manifest import (
    Verification,
    check_claims,
    compare_files,
    file_entry,
    parse_manifest,
    read_manifest,
    sha256_file,
    verify_local,
)
from .remote import call, repo_commit, translated

#: Files per commit. The Hub asks for fewer than 100 files per commit over HTTP
#: (https://huggingface.co/docs/hub/repositories-recommendations); small commits also make a push resumable.
COMMIT_MAX_FILES = 99
COMMIT_MAX_BYTES = 2 * 2**30
#: The Hub's limits per repo (same page): entries in one folder, and files in the whole repository.
HUB_MAX_FOLDER_ENTRIES = 10_000
HUB_MAX_REPO_FILES = 100_000
_KEEP_REMOTE = {".gitattributes"}
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class PushRefused(InputError):
    """The push would damage or mislabel a release; nothing was changed."""


class PushVerificationError(VerificationError):
    """The files committed do not match the MANIFEST: no tag was made."""


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

    def summary(self) -> str:
        where = "" if self.branch == "main" else f" on branch {self.branch} (main is not moved)"
        lines = [
            f"push to {self.repo_id} as {self.tag}{where}: {len(self.additions)} file(s) to upload "
            f"({self.bytes_to_upload / 2**20:.1f} MiB) in {len(self.commits)} commit(s), "
            f"{len(self.deletions)} to delete, {len(self.unchanged)} unchanged"
        ]
        lines += [f"  + {path}" for path in self.additions[:200]]
        lines += [f"  - {path}" for path in self.deletions[:200]]
        hidden = max(len(self.additions) - 200, 0) + max(len(self.deletions) - 200, 0)
        if hidden:
            lines.append(f"  ... and {hidden} more")
        return "\n".join(lines)


@dataclass
class PushResult:
    plan: PushPlan
    commit: str | None
    verification: Verification | None
    pull_request: str | None = None
    releases_file: Path | None = None

    @property
    def load_line(self) -> str:
        return f'load_dataset("{self.plan.repo_id}", "vqa", revision="{self.plan.tag}")'


@dataclass
class _PushState:
    """How far a push got, for the one line a failure ends in."""

    repo_id: str
    tag: str
    branch: str = "main"
    files_total: int = 0
    files_committed: int = 0
    commit: str | None = None

    def describe(self) -> str:
        where = f"{self.repo_id}@{self.branch}"
        if self.files_total == 0:
            return f"nothing committed to {where}, no tag made: run the same command again"
        done = f"{self.files_committed} of {self.files_total} files committed to {where}"
        if self.commit:
            done += f" (last commit {self.commit[:12]})"
        if self.files_committed < self.files_total:
            return f"{done}, no tag made: run the same command again to resume"
        return f"{done}, no tag made: run the same command again to verify and tag"


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
    manifest = _check_local(release, repo_id, version)
    api = HfApi(token=token)
    state = _PushState(repo_id, tag)
    with translated(f"push of {release} to {repo_id}", state.describe, repo_id=repo_id):
        exists = call(api.repo_exists, repo_id, repo_type="dataset")
        refs = call(api.list_repo_refs, repo_id, repo_type="dataset") if exists else None
        tags = _version_tags(refs)
        if tag in tags:
            raise PushRefused(f"{repo_id} already has the tag {tag} (at {tags[tag][:12]}): tags are never moved")
        if (known := releases.recorded_commit(repo_id, tag)) is not None:
            raise PushRefused(
                f"{repo_id}@{tag} was published at {known[:12]} (recorded in {releases.user_file()} or the "
                f"package's releases.json) but the Hub has no such tag now: a version is published once; "
                "publish a new version, or remove the entry if the repo was deleted on purpose"
            )
        newer = [t for t in tags if Version(t[1:]) >= Version(version)]
        if newer and not allow_older:
            raise PushRefused(
                f"{repo_id} already has {max(newer, key=lambda t: Version(t[1:]))}: {tag} is not newer "
                "(pass allow_older=True / --allow-older to publish it on a branch of its own)"
            )
        branches = {b.name: b.target_commit for b in refs.branches} if refs else {}
        state.branch = f"release/{tag}" if newer else "main"
        base = branches.get(state.branch) or branches.get("main")
        remote = _remote_files(api, repo_id, base) if base else {}
        plan = _plan(release, manifest, remote, repo_id, tag)
        plan.branch, plan.base = state.branch, base
        if dry_run:
            return PushResult(plan, commit=None, verification=None)
        if not exists:
            call(api.create_repo, repo_id, repo_type="dataset", private=private, exist_ok=True)
            base = branches["main"] = repo_commit(api, repo_id)
        if create_pr:
            return _push_pull_request(api, release, plan, token)
        if base is None:  # a Hub repo always has main; never commit without a parent to chain to
            raise RemoteError(f"{repo_id} has no branch {state.branch!r} nor main to commit on: {state.describe()}")
        if state.branch not in branches:
            call(api.create_branch, repo_id, branch=state.branch, revision=base, repo_type="dataset")
        state.files_total = len(plan.additions) + len(plan.deletions)
        head = _commit_all(api, release, plan, base, state, progress)
        state.files_committed, state.commit = state.files_total, head
        try:
            verification = verify_hub(f"{repo_id}@{head}", token=token, version=version)
        except RemoteError as error:  # say what state the push left, not only what the check met
            raise type(error)(f"{error}: {state.describe()}") from error
        if not verification.ok:
            shown = "; ".join(verification.problems[:3])
            more = f" (and {len(verification.problems) - 3} more)" if len(verification.problems) > 3 else ""
            raise PushVerificationError(
                f"the files at commit {head[:12]} of {repo_id} do not match the MANIFEST: {shown}{more}: "
                f"{state.files_total} files committed, no tag made: run the same command again to re-upload and tag"
            )
        call(api.create_tag, repo_id, tag=tag, revision=head, repo_type="dataset", tag_message=f"Release {version}")
    recorded = releases.record(repo_id, tag, head)
    return PushResult(plan, commit=head, verification=verification, releases_file=recorded)


def _check_local(release: Path, repo_id: str, version: str) -> dict:
    """The release's MANIFEST, once the folder matches it and names `repo_id` and `version` throughout."""
    if not release.is_dir():
        raise NotFoundError(f"{release}: no such release folder")
    manifest = read_manifest(release)
    if manifest["version"] != version:
        raise PushRefused(
            f"{release} was built as version {manifest['version']}, not {version}: "
            f"rebuild with `sarlang1m build ... --version {version}` so the card and MANIFEST say {version}"
        )
    built_for = manifest.get("repo_id", schema.DEFAULT_REPO_ID)
    if built_for != repo_id:
        raise PushRefused(
            f"{release} was built for {built_for}, not {repo_id}: its card and Croissant name {built_for}; "
            f"rebuild with `sarlang1m build ... --repo {repo_id}`"
        )
    _check_hub_limits(release, manifest)
    local = verify_local(release, repo_id=repo_id, version=version)
    if not local.ok:
        shown = "; ".join(local.problems[:3])
        more = f" (and {len(local.problems) - 3} more)" if len(local.problems) > 3 else ""
        raise PushRefused(f"{release} does not match its MANIFEST: {shown}{more}; rebuild it")
    return manifest


def _check_hub_limits(release: Path, manifest: dict) -> None:
    """Refuse a release the Hub would not hold well: too many files, or too many entries in a folder."""
    paths = [*manifest["files"], schema.MANIFEST_FILE, *_KEEP_REMOTE]
    if len(paths) >= HUB_MAX_REPO_FILES:
        raise PushRefused(
            f"{release}: {len(paths)} files; the Hub holds fewer than {HUB_MAX_REPO_FILES:,} per repository"
        )
    entries: Counter[str] = Counter()
    seen: set[str] = set()
    for path in paths:
        parts = PurePosixPath(path).parts
        for depth in range(len(parts)):
            entry = "/".join(parts[: depth + 1])
            if entry not in seen:
                seen.add(entry)
                entries["/".join(parts[:depth]) or "."] += 1
    folder, count = max(entries.items(), key=lambda item: item[1])
    if count >= HUB_MAX_FOLDER_ENTRIES:
        raise PushRefused(
            f"{release}: folder {folder} has {count} entries; the Hub asks for fewer than "
            f"{HUB_MAX_FOLDER_ENTRIES:,} per folder (split it into sub-folders)"
        )


def _commit_all(api: HfApi, release: Path, plan: PushPlan, base: str, state: _PushState, progress: bool) -> str:
    """Commit the plan on its branch, each commit chained to the one before (`parent_commit`): if anyone
    else commits to the branch meanwhile, the next commit is refused and nothing is tagged."""
    head = base
    batches = plan.commits
    files_bar = tqdm(total=state.files_total, desc="files", unit=" file", disable=not progress)
    bytes_bar = tqdm(total=plan.bytes_to_upload, desc="bytes", unit="B", unit_scale=True, disable=not progress)
    with files_bar, bytes_bar:
        for index, paths in enumerate(batches):
            deletions = [p for p in paths if p in plan.deletions]
            additions = [p for p in paths if p not in deletions]
            info = call(
                api.create_commit,
                plan.repo_id,
                _operations(release, additions, deletions),
                repo_type="dataset",
                revision=plan.branch,
                commit_message=f"Release {plan.tag} ({index + 1}/{len(batches)})",
                parent_commit=head,
            )
            head = info.oid
            state.files_committed += len(paths)
            state.commit = head
            files_bar.update(len(paths))
            bytes_bar.update(sum(plan.sizes.get(p, 0) for p in additions))
    return head


def _push_pull_request(api: HfApi, release: Path, plan: PushPlan, token: str | None) -> PushResult:
    info = call(
        api.create_commit,
        plan.repo_id,
        _operations(release, plan.additions, plan.deletions),
        repo_type="dataset",
        commit_message=f"Release {plan.tag}",
        create_pr=True,
        parent_commit=plan.base,
    )
    verification = verify_hub(f"{plan.repo_id}@{info.oid}", token=token)
    return PushResult(plan, commit=info.oid, verification=verification, pull_request=info.pr_url)


def verify(target: str | Path, *, download: bool = False, token: str | None = None) -> Verification:
    """Check a local release folder, or a Hub revision `ORG/NAME@REV`, against its MANIFEST.

    Anything that looks like a path (it exists, or starts with `.`, `/` or `~`, or does not have the
    shape ORG/NAME[@REV]) is read as a local folder, and one that does not exist is "no such release folder".
    """
    from ..resolve import looks_like_hub_repo

    text = str(target)
    if Path(text).expanduser().exists() or not looks_like_hub_repo(text):
        folder = Path(text).expanduser()
        if not folder.is_dir():
            raise NotFoundError(f"{text}: no such release folder")
        return verify_local(folder)
    return verify_hub(text, download=download, token=token)


def verify_hub(
    target: str, *, download: bool = False, token: str | None = None, version: str | None = None
) -> Verification:
    """Check the files of `ORG/NAME@REV` against the MANIFEST at that revision.

    A version tag is first resolved and checked against the commit it was published at (`releases`);
    then the files at that commit are checked. Without `download`, sizes and the sha256 the Hub
    recorded for LFS files are compared (small regular files are downloaded and hashed). With
    `download`, every file is downloaded and hashed: this also catches storage that serves other bytes
    than were uploaded. The card and Croissant must name this repo and the MANIFEST's version.
    """
    repo_id, _, revision = target.partition("@")
    api = HfApi(token=token)
    with translated(f"verify of {target}", repo_id=repo_id):
        commit = resolve_hub_revision(repo_id, revision or "main", token=token)
        manifest_path = call(
            hf_hub_download, repo_id, schema.MANIFEST_FILE, repo_type="dataset", revision=commit, token=token
        )
        manifest = parse_manifest(Path(manifest_path).read_bytes(), f"{target}: {schema.MANIFEST_FILE}")
        tag_version = revision[1:] if revision.startswith("v") and _is_version(revision[1:]) else None
        expected_version = version or tag_version
        if download:
            with tempfile.TemporaryDirectory(prefix="sarlang1m-verify-") as folder:
                call(snapshot_download, repo_id, repo_type="dataset", revision=commit, local_dir=folder, token=token)
                result = verify_local(folder, repo_id=repo_id, version=expected_version)
                result.target = target
                return result
        remote = _remote_files(api, repo_id, commit)
        downloaded: dict[str, Path] = {}

        def local_copy(path: str) -> Path:
            if path not in downloaded:
                downloaded[path] = Path(
                    call(hf_hub_download, repo_id, path, repo_type="dataset", revision=commit, token=token)
                )
            return downloaded[path]

        def entry(path: str) -> dict:
            file = remote[path]
            if file.lfs is not None:
                return {"bytes": file.size, "sha256": file.lfs.sha256}
            return {"bytes": file.size, "sha256": sha256_file(local_copy(path))}

        result = compare_files(target, manifest["files"], remote, entry, ignore_extra=_KEEP_REMOTE)

        def read(name: str) -> bytes | None:
            return local_copy(name).read_bytes() if name in remote and remote[name].lfs is None else None

        result.problems += check_claims(manifest, read, repo_id=repo_id, version=expected_version)
        return result


# ------------------------------------------------------------------------------------ planning


def _is_version(text: str) -> bool:
    return bool(_VERSION.match(text))


def _tag_for(version: str) -> str:
    if not _is_version(version):
        raise PushRefused(f"version must look like X.Y.Z (e.g. 1.0.0), got {version!r}")
    return f"v{version}"


def _version_tags(refs) -> dict[str, str]:
    tags: dict[str, str] = {}
    for ref in refs.tags if refs is not None else []:
        if ref.name.startswith("v"):
            try:
                Version(ref.name[1:])
            except InvalidVersion:
                continue
            tags[ref.name] = ref.target_commit
    return tags


def _remote_files(api: HfApi, repo_id: str, revision: str) -> dict[str, RepoFile]:
    tree = call(
        lambda: list(api.list_repo_tree(repo_id, repo_type="dataset", revision=revision, recursive=True, expand=True))
    )
    return {item.path: item for item in tree if isinstance(item, RepoFile)}


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
    plan.sizes = {path: wanted[path]["bytes"] for path in plan.additions}
    plan.commits = list(_batches(plan.additions, plan.deletions, plan.sizes))
    return plan


def _batches(additions: list[str], deletions: list[str], sizes: dict[str, int]) -> Iterator[list[str]]:
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
    return remote.blob_id == _git_blob_oid(local)


def _git_blob_oid(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _operations(release: Path, additions: list[str], deletions: list[str]) -> list:
    return [CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(release / p)) for p in additions] + [
        CommitOperationDelete(path_in_repo=p) for p in deletions
    ]
