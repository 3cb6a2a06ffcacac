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

The steps live in sibling modules, in the order a push takes them: `push_checks` (refusals before
anything changes), `push_plan` (what differs, cut into commits), this module (commit, verify, tag) and
`verify` (checking a folder or a Hub revision against its MANIFEST).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from tqdm.auto import tqdm

from ..errors import RemoteError, VerificationError
from . import releases
from .manifest import Verification
from .push_checks import PushRefused, check_local, check_tags, hub_repo_id, release_version, tag_for, version_tags
from .push_plan import COMMIT_MAX_FILES, PushPlan, make_plan, remote_files
from .remote import HubUnavailableError, call, create_tag, repo_commit, translated
from .verify import verify, verify_hub

__all__ = [
    "COMMIT_MAX_FILES",
    "PushPlan",
    "PushRefused",
    "PushResult",
    "PushVerificationError",
    "push_release",
    "verify",
    "verify_hub",
]


class PushVerificationError(VerificationError):
    """The files committed do not match the MANIFEST: no tag was made."""


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
    """Upload a local release folder to `repo_id` and tag it `v{version}` (see the module docstring).

    A dry run plans and stops; when the Hub cannot be reached it plans against an empty repository and
    says so (`PushPlan.unchecked`), so that the local checks and the plan can be tried offline.
    """
    release, repo_id, version = Path(release), hub_repo_id(repo_id), release_version(version)
    tag = tag_for(version)
    manifest = check_local(release, repo_id, version)
    api = HfApi(token=token)
    state = _PushState(repo_id, tag)
    if dry_run:
        return PushResult(_dry_run_plan(api, release, manifest, state, allow_older), commit=None, verification=None)
    with translated(f"push of {release} to {repo_id}", state.describe, repo_id=repo_id):
        branches, plan = _plan(api, release, manifest, state, allow_older)
        base = plan.base
        if not plan.repo_exists:
            call(api.create_repo, repo_id, repo_type="dataset", private=private, exist_ok=True)
            base = branches["main"] = repo_commit(api, repo_id)
        if create_pr:
            return _push_pull_request(api, release, plan, token)
        head = _commit_on_branch(api, release, plan, base, branches, state, progress)
        verification = _verify_pushed(head, state, version, token)
        create_tag(api, repo_id, tag, head, f"Release {version}")
    recorded = releases.record(repo_id, tag, head)
    return PushResult(plan, commit=head, verification=verification, releases_file=recorded)


def _plan(
    api: HfApi, release: Path, manifest: dict, state: _PushState, allow_older: bool
) -> tuple[dict[str, str], PushPlan]:
    """The repo's branches, and the plan against the branch the push goes to, once its tags allow the version."""
    repo_id, tag = state.repo_id, state.tag
    exists = call(api.repo_exists, repo_id, repo_type="dataset")
    refs = call(api.list_repo_refs, repo_id, repo_type="dataset") if exists else None
    newer = check_tags(repo_id, tag, tag[1:], version_tags(refs), allow_older=allow_older)
    branches = {b.name: b.target_commit for b in refs.branches} if refs else {}
    state.branch = f"release/{tag}" if newer else "main"
    base = branches.get(state.branch) or branches.get("main")
    remote = remote_files(api, repo_id, base) if base else {}
    plan = make_plan(release, manifest, remote, repo_id, tag)
    plan.branch, plan.base, plan.repo_exists = state.branch, base, exists
    return branches, plan


def _dry_run_plan(api: HfApi, release: Path, manifest: dict, state: _PushState, allow_older: bool) -> PushPlan:
    """The plan; when the Hub cannot be reached, the plan against an empty repository, saying why."""
    try:
        with translated(f"dry run of the push of {release} to {state.repo_id}", repo_id=state.repo_id):
            return _plan(api, release, manifest, state, allow_older)[1]
    except HubUnavailableError as error:
        plan = make_plan(release, manifest, {}, state.repo_id, state.tag)
        plan.repo_exists, plan.unchecked = False, str(error).split(" failed: ", 1)[-1]
        return plan


def _commit_on_branch(
    api: HfApi,
    release: Path,
    plan: PushPlan,
    base: str | None,
    branches: dict[str, str],
    state: _PushState,
    progress: bool,
) -> str:
    """Commit the plan on its branch (created at `base` if new); returns the last commit."""
    if base is None:  # a Hub repo always has main; never commit without a parent to chain to
        raise RemoteError(f"{plan.repo_id} has no branch {state.branch!r} nor main to commit on: {state.describe()}")
    if state.branch not in branches:
        call(api.create_branch, plan.repo_id, branch=state.branch, revision=base, repo_type="dataset")
    state.files_total = len(plan.additions) + len(plan.deletions)
    head = _commit_all(api, release, plan, base, state, progress)
    state.files_committed, state.commit = state.files_total, head
    return head


def _verify_pushed(head: str, state: _PushState, version: str, token: str | None) -> Verification:
    """The files at `head` against the MANIFEST; a mismatch (or a failed check) names the state left."""
    repo_id = state.repo_id
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
    return verification


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


def _operations(release: Path, additions: list[str], deletions: list[str]) -> list:
    return [CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(release / p)) for p in additions] + [
        CommitOperationDelete(path_in_repo=p) for p in deletions
    ]
