"""What a push refuses before it changes anything: a bad version, a local folder that does not match its
MANIFEST or names another repo, a release the Hub would not hold, or a tag that exists or is not newer.

Every refusal is a `PushRefused` that says what to do instead; none of them has touched the Hub, so
they are all checked here, before the first commit. A version is published once: its tag is never
moved, and a tag recorded in `releases` but gone from the Hub is refused too. The version and repo id
a release is built for are checked by the same functions (`release_version`, `hub_repo_id`), which
`build` calls first of all, so that a bad one is refused before hours of building, not by `push`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path, PurePosixPath

from huggingface_hub.utils import HFValidationError, validate_repo_id
from packaging.version import InvalidVersion, Version

from .. import schema
from ..errors import InputError, NotFoundError
from ..messages import option_hint
from . import releases
from .manifest import is_version, read_manifest, verify_local
from .push_plan import KEEP_REMOTE

#: The Hub's limit on files in the whole repository (https://huggingface.co/docs/hub/repositories-recommendations);
#: its limit on entries per folder is `schema.MAX_FOLDER_ENTRIES`.
HUB_MAX_REPO_FILES = 100_000


class PushRefused(InputError):
    """The push would damage or mislabel a release; nothing was changed."""


def release_version(version: str) -> str:
    """`version` as a release names it, X.Y.Z; the tag's spelling vX.Y.Z is accepted and the v dropped."""
    text = version.strip() if isinstance(version, str) else version
    if isinstance(text, str) and text[:1] in ("v", "V") and is_version(text[1:]):
        text = text[1:]
    if not isinstance(text, str) or not is_version(text):
        raise InputError(f"version must be X.Y.Z (e.g. {schema.RELEASE_VERSION}), got {version!r}")
    return text


def hub_repo_id(repo_id: str) -> str:
    """`repo_id` if it is a valid Hub dataset repo id of the form ORG/NAME (huggingface_hub's rules)."""
    problem = None
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        problem = str(error).split(": '")[0].rstrip(".")  # huggingface_hub's reason, without the id again
    if problem is None and (not isinstance(repo_id, str) or repo_id.count("/") != 1):
        problem = "it needs an organisation or user name too"
    if problem is not None:
        example = schema.DEFAULT_REPO_ID
        raise InputError(f"repo must be a Hub repo id ORG/NAME (e.g. {example}), got {repo_id!r}: {problem}")
    return repo_id


def tag_for(version: str) -> str:
    return f"v{release_version(version)}"


def version_tags(refs) -> dict[str, str]:
    tags: dict[str, str] = {}
    for ref in refs.tags if refs is not None else []:
        if ref.name.startswith("v"):
            try:
                Version(ref.name[1:])
            except InvalidVersion:
                continue
            tags[ref.name] = ref.target_commit
    return tags


def check_tags(repo_id: str, tag: str, version: str, tags: dict[str, str], *, allow_older: bool) -> list[str]:
    """Refuse a tag the Hub has, or had (`releases`), or one older than the newest without `allow_older`;
    returns the version tags not older than `version` (then the push goes to a branch of its own)."""
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
            f"(pass {option_hint('allow_older')} to publish it on a branch of its own)"
        )
    return newer


def check_local(release: Path, repo_id: str, version: str) -> dict:
    """The release's MANIFEST, once the folder matches it and names `repo_id` and `version` throughout."""
    if release.exists() and not release.is_dir():
        raise InputError(f"{release} is a file, not a release folder: give the folder `sarlang1m build` wrote")
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
    check_hub_limits(release, manifest)
    local = verify_local(release, repo_id=repo_id, version=version)
    if not local.ok:
        shown = "; ".join(local.problems[:3])
        more = f" (and {len(local.problems) - 3} more)" if len(local.problems) > 3 else ""
        raise PushRefused(f"{release} does not match its MANIFEST: {shown}{more}; rebuild it")
    return manifest


def check_hub_limits(release: Path, manifest: dict) -> None:
    """Refuse a release the Hub would not hold well: too many files, or too many entries in a folder."""
    paths = [*manifest["files"], schema.MANIFEST_FILE, *KEEP_REMOTE]
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
    if count >= schema.MAX_FOLDER_ENTRIES:
        raise PushRefused(
            f"{release}: folder {folder} has {count} entries; the Hub asks for fewer than "
            f"{schema.MAX_FOLDER_ENTRIES:,} per folder (split it into sub-folders)"
        )
