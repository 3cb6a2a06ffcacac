"""The commit each published version tag must point to: what `push` records and every reader checks.

A Hub tag is a name, and a name can be moved or deleted and re-created on other content. So `push`
records the commit sha of every version it tags, and `load`, `verify`, `export` and `evaluate` resolve
the tag and refuse when it no longer points there (like pinned checksums in TorchGeo, or PyPI's
immutable uploads). Two files are read, and must agree:

- the package's own `sarlang1m/releases.json`: the releases this package version vouches for
  (maintainers add an entry after publishing a version of the official repo);
- the user's file, written by `push`: `$SARLANG1M_RELEASES_FILE`, else
  `$XDG_CONFIG_HOME/sarlang1m/releases.json` (`~/.config/sarlang1m/releases.json`).

Both have the shape ``{"format": 1, "releases": {"ORG/NAME": {"v1.0.0": "<40-hex commit sha>"}}}``.
A tag recorded in neither is read as the Hub resolves it; an explicit commit sha is always allowed.
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
FORMAT = 1
_SHA = re.compile(r"^[0-9a-f]{40}$")


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


def recorded_commit(repo_id: str, tag: str) -> str | None:
    """The commit `repo_id@tag` was published at, from the package's file and the user's; None if neither
    records it. The two disagreeing is refused: one of them is wrong, and nothing says which."""
    found = {str(path): sha for path in (PACKAGE_FILE, user_file()) if (sha := _read(path).get(repo_id, {}).get(tag))}
    if len(set(found.values())) > 1:
        where = ", ".join(f"{path} says {sha[:12]}" for path, sha in found.items())
        raise VerificationError(f"{repo_id}@{tag}: the release files disagree ({where}); remove the wrong entry")
    return next(iter(found.values()), None)


def record(repo_id: str, tag: str, commit: str) -> Path:
    """Add `repo_id@tag -> commit` to the user's file (atomically) and return its path."""
    if not is_commit_sha(commit):
        raise ValueError(f"not a full commit sha: {commit!r}")
    path = user_file()
    releases = _read(path)
    known = releases.setdefault(repo_id, {}).get(tag)
    if known is not None and known != commit:
        raise VerificationError(
            f"{path}: {repo_id}@{tag} is recorded at {known[:12]}, not {commit[:12]}; a tag is published once"
        )
    releases[repo_id][tag] = commit
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial:
        text = json.dumps({"format": FORMAT, "releases": releases}, indent=2, sort_keys=True) + "\n"
        partial.write_text(text, encoding="utf-8")
    return path


def _read(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReleaseError(f"{path}: not a readable releases file ({error}); fix or remove it") from error
    releases = data.get("releases") if isinstance(data, dict) else None
    if not isinstance(releases, dict) or data.get("format") != FORMAT:
        raise ReleaseError(f"{path}: expected {{'format': {FORMAT}, 'releases': {{...}}}}; fix or remove it")
    for repo_id, tags in releases.items():
        if not isinstance(tags, dict) or not all(isinstance(s, str) and is_commit_sha(s) for s in tags.values()):
            raise ReleaseError(f"{path}: releases[{repo_id!r}] must map tags to 40-hex commit shas")
    return releases
