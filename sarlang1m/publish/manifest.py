"""MANIFEST.json: what a release holds (every file's sha256, bytes and rows), and checking a copy against it.

`push` refuses a release whose files do not match, `verify` checks a local folder or a Hub revision,
and two builds of the same input give the same MANIFEST, so a release can be rebuilt and compared.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from .. import schema
from ..errors import NotFoundError, ReleaseError, printable
from ..release_paths import check_original_path, path_problem

#: Version of the release's format, checked before anything reads a release: 2 stores each row's texts
#: column-wise (`schema.text_records`); 3 stores text ids local to their image (`schema.text_id` composes
#: the global one); 4 drops the derived ``qa.answer_type`` and the image ``sha256`` from the rows. A release
#: of an older format is refused (rebuild it).
MANIFEST_FORMAT = 4
_CHUNK = 8 * 2**20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_CARD_REPO = re.compile(r'load_dataset\(\s*"([^"]+)"')
_CARD_REVISION = re.compile(r'revision="([^"]+)"')


def is_version(text: str) -> bool:
    """X.Y.Z, the form of a release version (and of the tag vX.Y.Z)."""
    return bool(_VERSION.match(text))


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
    """The MANIFEST of a release folder, its shape checked (see `parse_manifest`); a symlink is refused."""
    path = Path(release) / schema.MANIFEST_FILE
    if path.is_symlink():
        raise ReleaseError(f"{path}: is a symlink; a release holds regular files only (nothing outside it is read)")
    if not path.is_file():
        raise NotFoundError(f"{path}: no MANIFEST (not a complete release folder)")
    return parse_manifest(path.read_bytes(), str(path))


def parse_manifest(data: bytes, where: str) -> dict:
    """A MANIFEST from its bytes, with its shape checked: a malformed one is a `ReleaseError` naming the field.

    Everything that reads a MANIFEST relies on this shape (`files` mapping safe relative paths to sha256
    and bytes, `version` X.Y.Z, `synthetic` a boolean), so it is checked before anything is used.
    """
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReleaseError(f"{where}: not valid JSON ({error}); rebuild the release") from error
    problem = _shape_problem(manifest)
    if problem:
        raise ReleaseError(f"{where}: {problem}; rebuild the release")
    return manifest


def file_entries(release: Path) -> dict[str, dict]:
    """sha256, bytes (and rows) of every file of a release folder but its MANIFEST, by relative path."""
    return {name: file_entry(release / name) for name in release_files(release) if name != schema.MANIFEST_FILE}


def _shape_problem(manifest: object) -> str | None:
    if not isinstance(manifest, dict):
        return f"must be a JSON object, got {type(manifest).__name__}"
    if manifest.get("manifest_format") != MANIFEST_FORMAT:
        return f"unsupported manifest_format {manifest.get('manifest_format')!r} (this package reads {MANIFEST_FORMAT})"
    version = manifest.get("version")
    if not isinstance(version, str) or not is_version(version):
        return f'field "version" must be a version X.Y.Z, got {version!r}'
    if not isinstance(manifest.get("synthetic"), bool):
        return f'field "synthetic" must be true or false, got {manifest.get("synthetic")!r}'
    repo_id = manifest.get("repo_id", schema.DEFAULT_REPO_ID)
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id):
        return f'field "repo_id" must be ORG/NAME, got {repo_id!r}'
    for name in ("configs", "sar_statistics"):
        if name in manifest and not isinstance(manifest[name], dict):
            return f'field "{name}" must be an object, got {type(manifest[name]).__name__}'
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return f'field "files" must be an object mapping paths to entries, got {_kind(files)}'
    for name, entry in files.items():
        if not _is_safe_path(name):
            return f"files[{name!r}]: not a relative path inside the release"
        if not isinstance(entry, dict):
            return f"files[{name!r}]: must be an object with sha256 and bytes, got {_kind(entry)}"
        if not isinstance(entry.get("sha256"), str) or not _SHA256.match(entry["sha256"]):
            return f"files[{name!r}].sha256: must be 64 hex digits, got {entry.get('sha256')!r}"
        for key in ("bytes", "rows"):
            value = entry.get(key)
            if (key == "bytes" or key in entry) and (type(value) is not int or value < 0):
                return f"files[{name!r}].{key}: must be a whole number >= 0, got {value!r}"
    return None


def _kind(value: object) -> str:
    return f"a {type(value).__name__} ({value!r:.40})" if value is not None else "nothing"


def _is_safe_path(name: object) -> bool:
    return (
        isinstance(name, str) and path_problem(name) is None and name == name.strip() and ".git" not in name.split("/")
    )


def release_files(release: Path) -> list[str]:
    """The POSIX paths of the regular files under `release`, without following anything.

    A symlink or anything else that is not a regular file or folder (a FIFO, a socket, a device) is
    refused, naming it: a release is only what lies in its folder, so nothing outside it is ever read.
    """
    found = []
    for folder, folders, files in os.walk(release, followlinks=False):
        for name in sorted(folders + files):
            path = Path(folder) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise ReleaseError(
                    f"{path}: is a symlink (to {os.readlink(path)}); a release holds regular files only: "
                    "replace it with the file itself"
                )
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise ReleaseError(f"{path}: is not a regular file; a release holds regular files only: remove it")
            if stat.S_ISREG(mode):
                found.append(path.relative_to(release).as_posix())
    return sorted(found)


def check_claims(
    manifest: dict, read: Callable[[str], bytes | None], *, repo_id: str | None = None, version: str | None = None
) -> list[str]:
    """Where the card, Croissant and build report disagree with the MANIFEST (or with `repo_id`/`version`).

    `read(name)` gives a release file's bytes (None if absent). The card's load lines and the Croissant
    must name the repo and version the release is published under, and all must agree on `synthetic`,
    so that a hand-edited MANIFEST cannot publish a release as something it is not.
    """
    problems = []
    claimed_repo, claimed_version = manifest.get("repo_id", schema.DEFAULT_REPO_ID), manifest["version"]
    synthetic = manifest["synthetic"]
    if repo_id is not None and claimed_repo != repo_id:
        problems.append(f"{schema.MANIFEST_FILE}: built for {claimed_repo}, not {repo_id}")
    if version is not None and claimed_version != version:
        problems.append(f"{schema.MANIFEST_FILE}: version is {claimed_version}, not {version}")
    card = read(schema.CARD_FILE)
    if card is not None:
        text = card.decode("utf-8", errors="replace")
        match = _FRONT_MATTER.match(text)
        try:
            data = yaml.safe_load(match.group(1)) if match else None
        except yaml.YAMLError:
            data = None
        tags = data.get("tags") or [] if isinstance(data, dict) else []
        if ("synthetic" in tags) != synthetic:
            problems.append(f"{schema.CARD_FILE}: synthetic is {'synthetic' in tags}, MANIFEST says {synthetic}")
        repos, revisions = set(_CARD_REPO.findall(text)), set(_CARD_REVISION.findall(text))
        if repos != {claimed_repo}:
            problems.append(f"{schema.CARD_FILE}: its load lines name {sorted(repos)}, MANIFEST says {claimed_repo}")
        if revisions != {f"v{claimed_version}"}:
            problems.append(
                f"{schema.CARD_FILE}: its load lines name {sorted(revisions)}, MANIFEST says v{claimed_version}"
            )
    croissant = _json_or_none(read(schema.CROISSANT_FILE))
    if isinstance(croissant, dict):
        if croissant.get("version") != claimed_version:
            problems.append(
                f"{schema.CROISSANT_FILE}: version is {croissant.get('version')!r}, MANIFEST says {claimed_version}"
            )
        if not str(croissant.get("url", "")).endswith(f"/datasets/{claimed_repo}"):
            problems.append(f"{schema.CROISSANT_FILE}: url is {croissant.get('url')!r}, MANIFEST says {claimed_repo}")
        if ("synthetic" in (croissant.get("keywords") or [])) != synthetic:
            problems.append(f"{schema.CROISSANT_FILE}: synthetic keyword disagrees with the MANIFEST ({synthetic})")
    report = _json_or_none(read(schema.REPORT_FILE))
    if isinstance(report, dict) and "synthetic" in report and report["synthetic"] != synthetic:
        problems.append(f"{schema.REPORT_FILE}: synthetic is {report['synthetic']}, MANIFEST says {synthetic}")
    return problems


def _json_or_none(data: bytes | None) -> object:
    try:
        return None if data is None else json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}


def write_manifest(release: Path, manifest: dict, files: dict[str, dict] | None = None) -> None:
    """Write MANIFEST.json last: its presence marks a complete release (`files`: `file_entries`, if known)."""
    manifest = {"manifest_format": MANIFEST_FORMAT, **manifest}
    manifest["files"] = file_entries(release) if files is None else files
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
        """What was checked and found, every path escaped: file names come from someone else's release."""
        if self.ok:
            return f"{printable(self.target)}: OK, the {self.checked} files the MANIFEST lists match it"
        shown = "\n".join(f"  - {printable(p)}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        return f"{printable(self.target)}: {len(self.problems)} problem(s)\n{shown}{more}"


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


def verify_local(release: str | Path, *, repo_id: str | None = None, version: str | None = None) -> Verification:
    """Check a local release folder file by file against its MANIFEST, its counts and the originals its rows
    name against what the files hold (`claims`), and the card, Croissant and build report against what the
    MANIFEST says (`check_claims`). A symlink anywhere is refused."""
    release = Path(release)
    present = release_files(release)
    manifest = read_manifest(release)
    result = compare_files(
        str(release),
        manifest["files"],
        present,
        lambda name: _local_entry(release / name, manifest["files"][name]),
        ignore_extra=[n for n in present if n.startswith(".")],
    )
    if result.ok:  # the shards are read only once they are known to be the published ones
        from .claims import contents_problems  # it reads MANIFESTs too: imported here, not at the top

        result.problems += contents_problems(manifest, lambda name: pq.ParquetFile(release / name))
    present_set = set(present)

    def read(name: str) -> bytes | None:
        return (release / name).read_bytes() if name in present_set else None

    result.problems += check_claims(manifest, read, repo_id=repo_id, version=version)
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
        try:
            check_original_path(path)
        except ReleaseError as error:
            problems.append(f"{shard}: {error}")
            continue
        if path not in files:
            problems.append(f"{path}: named by {shard} but not in the MANIFEST")
        elif (files[path].get("sha256"), files[path].get("bytes")) != (sha256, size):
            problems.append(f"{path}: {shard} says sha256 {sha256} and {size} bytes, the file has others")
    orphans = sorted(name for name in files if name.startswith(f"{schema.ORIGINALS_DIR}/") and name not in referenced)
    problems += [f"{name}: an original no row names" for name in orphans]
    return problems


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
    entry: dict[str, int | str] = {"bytes": path.stat().st_size}  # rows: an int, or why the footer is unreadable
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
