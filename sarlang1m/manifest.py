"""MANIFEST.json: what a release holds (every file's sha256, bytes and rows), and checking a copy against it.

`push` refuses a release whose files do not match, `verify` checks a local folder or a Hub revision,
and two builds of the same input give the same MANIFEST, so a release can be rebuilt and compared.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
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


def release_files(release: Path) -> dict[str, dict]:
    """sha256, bytes (and rows) of every file of a release folder but its MANIFEST, by relative path."""
    files = sorted(p for p in release.rglob("*") if p.is_file() and p.name != schema.MANIFEST_FILE)
    return {p.relative_to(release).as_posix(): file_entry(p) for p in files}


def write_manifest(release: Path, manifest: dict, files: dict[str, dict] | None = None) -> None:
    """Write MANIFEST.json last: its presence marks a complete release (`files`: `release_files`, if known)."""
    manifest = {"manifest_format": MANIFEST_FORMAT, **manifest}
    manifest["files"] = release_files(release) if files is None else files
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
    """Check a local release folder file by file against its MANIFEST, then its rows against its originals."""
    release = Path(release)
    manifest = read_manifest(release)
    present = [p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()]
    result = compare_files(
        str(release),
        manifest["files"],
        present,
        lambda name: _local_entry(release / name, manifest["files"][name]),
        ignore_extra=[n for n in present if n.startswith(".")],
    )
    if result.ok:  # the cross-check reads the shards, so only once they are known to be the published ones
        result.problems += originals_problems(manifest["files"], iter_original_references(release, manifest["files"]))
    return result


def iter_original_references(release: Path, files: dict[str, dict]) -> Iterator[tuple[str, str, int, str]]:
    """(sar_path, sar_sha256, sar_bytes, shard) of every row with an original, read column by column."""
    for name in sorted(files):
        if not name.endswith(".parquet"):
            continue
        parquet = pq.ParquetFile(release / name)
        if "sar_path" not in parquet.schema_arrow.names:
            continue
        for batch in parquet.iter_batches(columns=["sar_path", "sar_sha256", "sar_bytes"], batch_size=65_536):
            for path, sha256, size in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                if path is not None:
                    yield path, sha256, size, name


def originals_problems(files: dict[str, dict], references: Iterable[tuple[str, str, int, str]]) -> list[str]:
    """Rows and original files that disagree: a row naming a missing or different file, or an orphan file.

    Every file under ``originals/`` must be named by at least one row, with the sha256 and size the
    MANIFEST lists; a row's ``sar_path`` must be a plain relative path inside ``originals/``.
    """
    problems: list[str] = []
    referenced: set[str] = set()
    for path, sha256, size, shard in references:
        if path in referenced:
            continue
        referenced.add(path)
        if not _is_original_path(path):
            problems.append(f"{shard}: sar_path {path!r} is not a path under {schema.ORIGINALS_DIR}/")
        elif path not in files:
            problems.append(f"{path}: named by {shard} but not in the MANIFEST")
        elif (files[path].get("sha256"), files[path].get("bytes")) != (sha256, size):
            problems.append(f"{path}: {shard} says sha256 {sha256} and {size} bytes, the file has others")
    orphans = sorted(name for name in files if name.startswith(f"{schema.ORIGINALS_DIR}/") and name not in referenced)
    problems += [f"{name}: an original no row names" for name in orphans]
    return problems


def _is_original_path(path: str) -> bool:
    parts = path.split("/")
    return parts[0] == schema.ORIGINALS_DIR and len(parts) >= 3 and all(p not in ("", ".", "..") for p in parts)


def original_sizes(release: Path) -> dict[str, dict]:
    """{path: {"bytes": size}} of the original GeoTIFFs in a release folder, without hashing them."""
    folder = release / schema.ORIGINALS_DIR
    return {p.relative_to(release).as_posix(): {"bytes": p.stat().st_size} for p in folder.rglob("*") if p.is_file()}


def originals_summary(files: dict[str, dict]) -> dict:
    """Files and bytes of the originals per source, as published in the MANIFEST and the card."""
    sources: dict[str, dict[str, int]] = {}
    for name, entry in sorted(files.items()):
        if name.startswith(f"{schema.ORIGINALS_DIR}/"):
            totals = sources.setdefault(name.split("/")[1], {"files": 0, "bytes": 0})
            totals["files"] += 1
            totals["bytes"] += entry["bytes"]
    return {
        "files": sum(s["files"] for s in sources.values()),
        "bytes": sum(s["bytes"] for s in sources.values()),
        "sources": sources,
    }


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
