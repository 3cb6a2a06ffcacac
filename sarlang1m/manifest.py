"""MANIFEST.json: what a release holds (every file's sha256, bytes and rows), and checking a copy against it.

`push` refuses a release whose files do not match, `verify` checks a local folder or a Hub revision,
and two builds of the same input give the same MANIFEST, so a release can be rebuilt and compared.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from . import schema
from .errors import NotFoundError, ReleaseError

MANIFEST_FORMAT = 1
_CHUNK = 8 * 2**20


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(path: Path) -> dict:
    """sha256 and size of a file, and its row count if it is Parquet."""
    entry: dict = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    if path.suffix == ".parquet":
        entry["rows"] = pq.ParquetFile(path).metadata.num_rows
    return entry


def read_manifest(release: str | Path) -> dict:
    path = Path(release) / schema.MANIFEST_FILE
    if not path.is_file():
        raise NotFoundError(f"{path}: no MANIFEST (not a complete release folder)")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("manifest_format") != MANIFEST_FORMAT:
        raise ReleaseError(f"{path}: unsupported manifest_format {manifest.get('manifest_format')!r}")
    return manifest


def write_manifest(release: Path, manifest: dict) -> None:
    """Write MANIFEST.json last: its presence marks a complete release."""
    manifest = {"manifest_format": MANIFEST_FORMAT, **manifest}
    files = sorted(p for p in release.rglob("*") if p.is_file() and p.name != schema.MANIFEST_FILE)
    manifest["files"] = {p.relative_to(release).as_posix(): file_entry(p) for p in files}
    text = json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    (release / schema.MANIFEST_FILE).write_text(text, encoding="utf-8")


@dataclass
class Verification:
    """The outcome of checking files against a MANIFEST: empty `problems` means identical."""

    target: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return f"{self.target}: OK, {self.checked} files match the MANIFEST"
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        return f"{self.target}: {len(self.problems)} problem(s)\n{shown}{more}"


def compare_files(
    target: str,
    expected: dict[str, dict],
    present: Iterable[str],
    entry_of: Callable[[str], dict],
    *,
    ignore_extra: Iterable[str] = (),
) -> Verification:
    """Check every expected file (sha256, bytes, rows) and flag files that should not be there."""
    result = Verification(target)
    present = set(present)
    for name in sorted(expected):
        want = expected[name]
        if name not in present:
            result.problems.append(f"{name}: missing")
            continue
        got = entry_of(name)
        result.checked += 1
        for key in ("bytes", "sha256", "rows"):
            if key in want and key in got and want[key] != got[key]:
                result.problems.append(f"{name}: {key} is {got[key]}, MANIFEST says {want[key]}")
    extra = sorted(present - set(expected) - {schema.MANIFEST_FILE} - set(ignore_extra))
    result.problems += [f"{name}: not in the MANIFEST" for name in extra]
    return result


def verify_local(release: str | Path) -> Verification:
    """Check a local release folder file by file against its MANIFEST."""
    release = Path(release)
    manifest = read_manifest(release)
    present = [p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()]
    return compare_files(
        str(release),
        manifest["files"],
        present,
        lambda name: _local_entry(release / name, manifest["files"][name]),
        ignore_extra=[n for n in present if n.startswith(".")],
    )


def _local_entry(path: Path, want: dict) -> dict:
    entry = {"bytes": path.stat().st_size}
    if entry["bytes"] != want.get("bytes"):
        return entry  # no need to hash a file of the wrong size
    entry["sha256"] = sha256_file(path)
    if path.suffix == ".parquet" and entry["sha256"] == want.get("sha256"):
        return entry
    if path.suffix == ".parquet":
        try:
            entry["rows"] = pq.ParquetFile(path).metadata.num_rows
        except Exception as error:  # a damaged footer is a finding, not a crash
            entry["rows"] = f"unreadable ({error})"
    return entry
