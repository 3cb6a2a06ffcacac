"""Verifying a release where it lies: a local folder, or a Hub revision, against its MANIFEST.

On the Hub, the revision is the one named (``ORG/NAME@REV``), else the release this package pins, as
every other command reads; a version tag is first resolved and checked against the commit it was
published at (`releases`). Then the files at that commit are checked, by the sizes and sha256 the Hub
recorded (small regular files are downloaded and hashed), and what the rows and the MANIFEST's counts
claim is recounted from the shards read by range (`claims`: footers and a few columns, no image and no
original downloaded); or, with `download`, every file is downloaded and the copy checked as a folder.
A push verifies its final commit this way before it tags it. The result names the revision and commit.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.hf_api import RepoFile

from .. import schema
from ..errors import NotFoundError
from ..resolve import resolve_hub_revision
from .claims import contents_problems, hub_shards
from .manifest import Verification, check_claims, compare_files, is_version, parse_manifest, sha256_file, verify_local
from .push_plan import KEEP_REMOTE, remote_files
from .remote import call, translated


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
    """Check the files of `ORG/NAME@REV` (no ``@REV``: the pinned release) against the MANIFEST there.

    A version tag is first resolved and checked against the commit it was published at (`releases`);
    then the files at that commit are checked. Without `download`, sizes and the sha256 the Hub
    recorded for LFS files are compared (small regular files are downloaded and hashed), and the rows'
    originals and the MANIFEST's counts are recounted from the shards read by range. With `download`,
    every file is downloaded and hashed: this also catches storage that serves other bytes than were
    uploaded. The card and Croissant must name this repo and the MANIFEST's version.
    """
    repo_id, _, named = target.partition("@")
    revision = named or schema.RELEASE_REVISION
    with translated(f"verify of {repo_id}@{revision}", repo_id=repo_id):
        commit = resolve_hub_revision(repo_id, revision, token=token)
        checked = repo_id + (f"@{revision}" if revision == commit else f"@{revision} (commit {commit})")
        manifest_path = call(
            hf_hub_download, repo_id, schema.MANIFEST_FILE, repo_type="dataset", revision=commit, token=token
        )
        manifest = parse_manifest(Path(manifest_path).read_bytes(), f"{checked}: {schema.MANIFEST_FILE}")
        tag_version = revision[1:] if revision.startswith("v") and is_version(revision[1:]) else None
        expected_version = version or tag_version
        if download:
            return _verify_download(checked, repo_id, commit, token, expected_version)
        files = _HubFiles(repo_id, commit, token)
        result = compare_files(checked, manifest["files"], files.remote, files.entry, ignore_extra=KEEP_REMOTE)
        if result.ok:  # the shards are read only once they are known to be the published ones
            result.problems += contents_problems(manifest, hub_shards(repo_id, commit, token))
        result.problems += check_claims(manifest, files.read, repo_id=repo_id, version=expected_version)
        return result


def _verify_download(
    target: str, repo_id: str, commit: str, token: str | None, expected_version: str | None
) -> Verification:
    """Download every file of the commit and check the copy as a local folder."""
    with tempfile.TemporaryDirectory(prefix="sarlang1m-verify-") as folder:
        call(snapshot_download, repo_id, repo_type="dataset", revision=commit, local_dir=folder, token=token)
        result = verify_local(folder, repo_id=repo_id, version=expected_version)
        result.target = target
        return result


class _HubFiles:
    """The files of one Hub commit as `compare_files` and `check_claims` read them; small files are
    downloaded (once each) to be hashed or read, LFS files are described by what the Hub recorded."""

    def __init__(self, repo_id: str, commit: str, token: str | None):
        self.repo_id, self.commit, self.token = repo_id, commit, token
        self.remote: dict[str, RepoFile] = remote_files(HfApi(token=token), repo_id, commit)
        self.downloaded: dict[str, Path] = {}

    def local_copy(self, path: str) -> Path:
        if path not in self.downloaded:
            self.downloaded[path] = Path(
                call(hf_hub_download, self.repo_id, path, repo_type="dataset", revision=self.commit, token=self.token)
            )
        return self.downloaded[path]

    def entry(self, path: str) -> dict:
        file = self.remote[path]
        if file.lfs is not None:
            return {"bytes": file.size, "sha256": file.lfs.sha256}
        return {"bytes": file.size, "sha256": sha256_file(self.local_copy(path))}

    def read(self, name: str) -> bytes | None:
        return self.local_copy(name).read_bytes() if name in self.remote and self.remote[name].lfs is None else None
