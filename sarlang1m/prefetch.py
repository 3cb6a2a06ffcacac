"""`prefetch`: one config of a Hub release made usable offline, its shards and originals checked.

What `sarlang1m.load(config, decode="sar")` reads from the Hub is fetched once, at the commit the
revision resolves to: the config's Parquet shards, loaded into `datasets`' cache and hashed against the
MANIFEST (as a non-streaming `load` does), then the originals its rows name, into huggingface_hub's cache
(where map-style decoding finds them with ``HF_HUB_OFFLINE=1``) or into a folder (a root for
`SARDecode`). Sizes are compared with what the Hub lists before anything is downloaded, and every file
written is read back with the bound of its row and hashed: a file that differs from its row is removed,
never left behind, and named in the one error that ends the run.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import schema
from .errors import InputError, VerificationError, printable
from .originals import DEFAULT_FETCH_WORKERS, OriginalsReader, hub_root
from .release_paths import check_original_path, read_regular_file

#: Bad files named in the error of a prefetch that found some (the rest are counted).
_SHOWN_PROBLEMS = 5
#: The columns that name a row's original, and its source.
_COLUMNS = ["sar_path", "sar_sha256", "sar_bytes", "source"]


@dataclass
class PrefetchResult:
    """What `prefetch` made available offline: originals and their bytes, where they are, and the shards."""

    files: int
    bytes: int
    root: str
    shards: int = 0


@dataclass(frozen=True)
class _Original:
    path: str
    sha256: str | None
    size: int | None


def prefetch(
    config: str = "vqa",
    *,
    split: str | None = None,
    source: str | Path | None = None,
    revision: str | None = None,
    sources: Iterable[str] | None = None,
    local_dir: str | Path | None = None,
    workers: int = DEFAULT_FETCH_WORKERS,
    token: str | bool | None = None,
    progress: bool = True,
) -> PrefetchResult:
    """Fetch one config (and split, and sources) of a Hub release for offline use (see the module docstring).

    A local release needs no prefetching (its shards and originals are files already): it is only counted,
    and `local_dir` is refused for it. Raises `VerificationError` naming each original that does not match
    its row (none of them is kept).
    """
    from .load import load
    from .release_files import release_data_files
    from .resolve import check_config, resolve_release

    path, commit = resolve_release(source, revision)
    check_config(config, path, commit, split=split)
    wanted = _check_sources(sources)
    if commit is None:
        if local_dir is not None:
            raise InputError(
                f"{printable(path)} is a local release: its originals are files already, so there is nothing to "
                "fetch into --local-dir; leave it out (or copy the release folder)"
            )
        streamed = load(config, split=split, source=path, decode=None, streaming=True, columns=_COLUMNS)
        originals = _originals(streamed, wanted)
        return PrefetchResult(len(originals), sum(o.size or 0 for o in originals), path)
    loaded = load(config, split=split, source=path, revision=commit, decode=None, verify_download=True)
    shards = sum(len(release_data_files(config, s, path, commit)) for s in _split_names(loaded, split))
    originals = _originals(loaded, wanted)
    reader = OriginalsReader(hub_root(path, commit), workers=workers, cache=True, token=token)
    _check_listed_sizes(path, commit, originals, token)
    problems = _fetch(reader, originals, local_dir, workers=workers, progress=progress)
    if problems:
        shown = "; ".join(problems[:_SHOWN_PROBLEMS])
        more = f" (and {len(problems) - _SHOWN_PROBLEMS} more)" if len(problems) > _SHOWN_PROBLEMS else ""
        raise VerificationError(
            f"{len(problems)} of {len(originals)} originals of {path}@{commit[:12]} do not match their rows, and "
            f"were not kept: {shown}{more}; run `sarlang1m verify {path}@{commit}`"
        )
    where = str(local_dir) if local_dir is not None else "the huggingface_hub cache"
    return PrefetchResult(len(originals), sum(o.size or 0 for o in originals), where, shards)


def _check_sources(sources: Iterable[str] | None) -> set[str] | None:
    wanted = None if sources is None else set(sources)
    unknown = sorted((wanted or set()) - set(schema.SOURCES))
    if unknown:
        raise InputError(f"unknown source(s) {unknown}; expected some of {sorted(schema.SOURCES)}")
    return wanted


def _splits(loaded) -> list:
    return list(loaded.values()) if isinstance(loaded, dict) else [loaded]


def _split_names(loaded, split: str | None) -> list[str]:
    return list(loaded) if isinstance(loaded, dict) else [split or str(loaded.split)]


def _originals(loaded, wanted: set[str] | None) -> list[_Original]:
    """The originals the loaded rows name (each once), read from their ``sar_*`` and ``source`` columns."""
    found: dict[str, _Original] = {}
    for dataset in _splits(loaded):
        for row in dataset.select_columns(_COLUMNS):
            if row["sar_path"] is not None and (wanted is None or row["source"] in wanted):
                path = check_original_path(row["sar_path"])
                found.setdefault(path, _Original(path, row["sar_sha256"], row["sar_bytes"]))
    return list(found.values())


def _check_listed_sizes(repo_id: str, commit: str, originals: list[_Original], token: str | bool | None) -> None:
    """Refuse, before downloading anything, originals the Hub does not list or lists with another size."""
    from huggingface_hub import HfApi

    from .publish.remote import call, translated

    api = HfApi(token=token)
    listed: dict[str, int] = {}
    with translated(f"listing the originals of {repo_id}@{commit[:12]}", repo_id=repo_id):
        for folder in sorted({"/".join(o.path.split("/")[:2]) for o in originals}):
            listed.update(call(_listed_sizes, api, repo_id, folder, commit))
    problems = [
        f"{printable(o.path)} ({_listed_problem(listed.get(o.path), o.size)})"
        for o in originals
        if o.path not in listed or (o.size is not None and listed[o.path] != o.size)
    ]
    if problems:
        raise VerificationError(
            f"{len(problems)} original(s) of {repo_id}@{commit[:12]} differ from their rows on the Hub, nothing was "
            f"downloaded: {'; '.join(problems[:_SHOWN_PROBLEMS])}; run `sarlang1m verify {repo_id}@{commit}`"
        )


def _listed_sizes(api, repo_id: str, folder: str, commit: str) -> dict[str, int]:
    tree = api.list_repo_tree(repo_id, folder, repo_type="dataset", revision=commit, recursive=True)
    return {entry.path: entry.size for entry in tree if getattr(entry, "size", None) is not None}


def _listed_problem(listed: int | None, size: int | None) -> str:
    return "not on the Hub" if listed is None else f"{listed} bytes, the row says {size}"


def _fetch(
    reader: OriginalsReader, originals: list[_Original], local_dir: str | Path | None, *, workers: int, progress: bool
) -> list[str]:
    """Download and check every original; the problems, one per bad file (which is removed)."""
    from tqdm.auto import tqdm

    problems: list[str] = []
    total = sum(o.size or 0 for o in originals)
    # the bar is closed (its line ended) before any error is printed
    with (
        tqdm(total=total, unit="B", unit_scale=True, disable=not progress, desc=f"{len(originals)} originals") as bar,
        ThreadPoolExecutor(workers) as pool,
    ):
        futures = [(o, pool.submit(_fetch_one, reader, o, local_dir)) for o in originals]
        for original, future in futures:
            problem = future.result()
            if problem is not None:
                problems.append(problem)
            bar.update(original.size or 0)
    return problems


def _fetch_one(reader: OriginalsReader, original: _Original, local_dir: str | Path | None) -> str | None:
    """Download one original and check it against its row; a bad copy is removed and described."""
    written = Path(reader.download(original.path, local_dir))
    try:
        data = read_regular_file(written, limit=original.size).data
    except VerificationError:
        reason: str | None = f"longer than the row's {original.size} bytes"
    else:
        reason = _mismatch(data, original)
    if reason is None:
        return None
    _remove(written)
    return f"{printable(original.path)} ({reason})"


def _mismatch(data: bytes, original: _Original) -> str | None:
    if original.size is not None and len(data) != original.size:
        return f"{len(data)} bytes, the row says {original.size}"
    if original.sha256 is not None and hashlib.sha256(data).hexdigest() != original.sha256:
        return "sha256 differs from the row's sar_sha256"
    return None


def _remove(written: Path) -> None:
    """Remove a bad download: the file (and, in huggingface_hub's cache, the blob it links to)."""
    blob = Path(os.path.realpath(written))
    for path in {written, blob}:
        path.unlink(missing_ok=True)
