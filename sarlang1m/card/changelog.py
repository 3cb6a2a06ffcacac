"""The dataset's changelog (`assets/CHANGELOG.md`): the card shows the entries up to the release's version,
and the Croissant metadata takes the release's date from it (nothing depends on the clock).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

CHANGELOG = Path(__file__).parent / "assets" / "CHANGELOG.md"


@dataclass(frozen=True)
class ChangelogEntry:
    version: str
    date: str
    changes: str


_CHANGELOG_HEADING = re.compile(r"^## +(?P<version>\S+)(?: +[-\u2014] +(?P<date>\S.*?))? *$", re.MULTILINE)


def read_changelog(path: str | Path = CHANGELOG) -> list[ChangelogEntry]:
    """Entries of the dataset's changelog, newest first: `## <version> - <YYYY-MM-DD or unreleased>`."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    headings = list(_CHANGELOG_HEADING.finditer(text))
    entries = []
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        version = heading["version"]
        try:
            Version(version)
        except InvalidVersion as error:
            line = text.count("\n", 0, heading.start()) + 1
            raise ValueError(f"{path.name}:{line}: {version!r} is not a version number ({error})") from error
        entries.append(ChangelogEntry(version, heading["date"] or "unreleased", text[heading.end() : end].strip()))
    return sorted(entries, key=lambda e: Version(e.version), reverse=True)


def changelog_until(version: str, entries: Sequence[ChangelogEntry]) -> list[ChangelogEntry]:
    """The entries up to and including `version` (later, unreleased entries are not part of this release)."""
    return [e for e in entries if Version(e.version) <= Version(version)]


def release_date(version: str, entries: Sequence[ChangelogEntry] | None = None) -> str | None:
    """The changelog's date of `version` (YYYY-MM-DD), None if it has no entry or is unreleased."""
    for entry in read_changelog() if entries is None else entries:
        if Version(entry.version) == Version(version) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry.date):
            return entry.date
    return None
