"""The commit each published version tag must point to: what `push` records and every reader checks.

A Hub tag is a name, and a name can be moved or deleted and re-created on other content. So `push`
records the commit sha of every version it tags, and `load`, `verify`, `export` and `evaluate` resolve
the tag and refuse when it no longer points there (like pinned checksums in TorchGeo, or PyPI's
immutable uploads). Two files are read, and must agree:

- the package's own `sarlang1m/releases.json`: the releases this package version vouches for
  (maintainers add an entry after publishing a version of the official repo);
- the user's file, written by `push`: `$SARLANG1M_RELEASES_FILE`, else
  `$XDG_CONFIG_HOME/sarlang1m/releases.json` (`~/.config/sarlang1m/releases.json`).

A record belongs to the Hub endpoint it was published to (``HF_ENDPOINT``, by default
https://huggingface.co) and the repo: the same ORG/NAME on a staging Hub, a mirror or a test server is
another repository, whose tags this record says nothing about. Both files have the shape
``{"format": 2, "releases": {"https://huggingface.co": {"ORG/NAME": {"v1.0.0": "<40-hex commit sha>"}}}}``.
A file of the first format, ``{"format": 1, "releases": {"ORG/NAME": {...}}}``, is read as the records of
https://huggingface.co (the endpoint it was written for) and rewritten in the new form when `push` adds
to it. A tag recorded in neither is read as the Hub resolves it; an explicit commit sha is always allowed.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..atomic import atomic_path
from ..errors import ReleaseError, VerificationError

PACKAGE_FILE = Path(__file__).with_name("releases.json")
ENVIRONMENT_VARIABLE = "SARLANG1M_RELEASES_FILE"
FORMAT = 2
#: The first format, keyed by repo alone: its records are those of `DEFAULT_ENDPOINT`.
FORMAT_BY_REPO = 1
DEFAULT_ENDPOINT = "https://huggingface.co"
_SHA = re.compile(r"^[0-9a-f]{40}$")
#: {endpoint: {repo_id: {tag: commit}}}
Records = dict[str, dict[str, dict[str, str]]]


class TagMovedError(VerificationError):
    """A version tag does not point to the commit it was published at."""


def user_file() -> Path:
    """Where `push` records what it published (see the module docstring)."""
    if os.environ.get(ENVIRONMENT_VARIABLE):
        return Path(os.environ[ENVIRONMENT_VARIABLE])
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "sarlang1m" / "releases.json"


def is_commit_sha(revision: str) -> bool:
    return bool(_SHA.match(revision))


def current_endpoint() -> str:
    """The Hub endpoint this process talks to (``HF_ENDPOINT``), as records are keyed: no trailing slash."""
    from huggingface_hub import constants

    return (constants.ENDPOINT or DEFAULT_ENDPOINT).rstrip("/")


def recorded_commit(repo_id: str, tag: str, endpoint: str | None = None) -> str | None:
    """The commit `repo_id@tag` was published at on `endpoint` (default: the current one), from the package's
    file and the user's; None if neither records it. The two disagreeing is refused: one of them is wrong,
    and nothing says which."""
    hub = (endpoint or current_endpoint()).rstrip("/")
    found = {
        str(path): sha
        for path in (PACKAGE_FILE, user_file())
        if (sha := _read(path).get(hub, {}).get(repo_id, {}).get(tag))
    }
    if len(set(found.values())) > 1:
        where = ", ".join(f"{path} says {sha[:12]}" for path, sha in found.items())
        raise VerificationError(
            f"{repo_id}@{tag} on {hub}: the release files disagree ({where}); remove the wrong entry"
        )
    return next(iter(found.values()), None)


def record(repo_id: str, tag: str, commit: str, endpoint: str | None = None) -> Path:
    """Add `repo_id@tag -> commit` on `endpoint` (default: the current one) to the user's file, atomically, in
    the current format (an older file is migrated), and return its path."""
    if not is_commit_sha(commit):
        raise ValueError(f"not a full commit sha: {commit!r}")
    hub = (endpoint or current_endpoint()).rstrip("/")
    path = user_file()
    records = _read(path)
    tags = records.setdefault(hub, {}).setdefault(repo_id, {})
    known = tags.get(tag)
    if known is not None and known != commit:
        raise VerificationError(
            f"{path}: {repo_id}@{tag} on {hub} is recorded at {known[:12]}, not {commit[:12]}; a tag is published once"
        )
    tags[tag] = commit
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial:
        text = json.dumps({"format": FORMAT, "releases": records}, indent=2, sort_keys=True) + "\n"
        partial.write_text(text, encoding="utf-8")
    return path


def _read(path: Path) -> Records:
    """The records of a releases file of either format, as {endpoint: {repo: {tag: commit}}}."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReleaseError(f"{path}: not a readable releases file ({error}); fix or remove it") from error
    releases = data.get("releases") if isinstance(data, dict) else None
    version = data.get("format") if isinstance(data, dict) else None
    if not isinstance(releases, dict) or version not in (FORMAT, FORMAT_BY_REPO):
        raise ReleaseError(
            f"{path}: expected {{'format': {FORMAT}, 'releases': {{ENDPOINT: {{ORG/NAME: {{TAG: COMMIT}}}}}}}}; "
            "fix or remove it"
        )
    records = {DEFAULT_ENDPOINT: releases} if version == FORMAT_BY_REPO else releases
    for endpoint, repos in records.items():
        if not isinstance(repos, dict):
            raise ReleaseError(f"{path}: releases[{endpoint!r}] must map repos to their tags")
        for repo_id, tags in repos.items():
            if not isinstance(tags, dict) or not all(isinstance(s, str) and is_commit_sha(s) for s in tags.values()):
                raise ReleaseError(f"{path}: releases[{endpoint!r}][{repo_id!r}] must map tags to 40-hex commit shas")
    return {endpoint.rstrip("/"): repos for endpoint, repos in records.items()}
