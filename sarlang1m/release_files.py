"""A release's files, read so that the one at fault is named.

`datasets` and pyarrow report a damaged shard as an Arrow traceback, and a cached download that differs
from what was published not at all. Here the Parquet files of a config and split are listed and read one
at a time, a failure while loading is traced to the shard whose footer does not read, and downloaded
files are hashed against the MANIFEST: each problem is one `ReleaseError` or `VerificationError` line
naming the file and `sarlang1m verify`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import datasets

from . import schema
from .errors import InputError, ReleaseError, SarlangError, VerificationError
from .publish.manifest import parse_manifest, sha256_file
from .resolve import release_name, resolve_release


@contextlib.contextmanager
def damaged_shards_named(
    source: str | Path | None, revision: str | None, config: str, split: str | None
) -> Iterator[None]:
    """Reading a release inside this block: a damaged Parquet shard is one `ReleaseError` line naming the
    file (found by reading the footers of the split's shards, local releases only) and `sarlang1m verify`."""
    import pyarrow as pa

    try:
        yield
    except Exception as error:
        cause = error if isinstance(error, pa.ArrowException) else error.__cause__
        if not isinstance(cause, pa.ArrowException) or isinstance(error, ReleaseError):
            raise
        path, revision = resolve_release(source, revision)
        if revision is None:
            damaged = [str(shard) for shard in _damaged_shards(Path(path), config, split)]
        else:
            damaged = _damaged_hub_shards(path, revision, config, split)
        where = f"{damaged[0]}: damaged Parquet shard" if damaged else f"a Parquet shard of {config}/{split or '*'}"
        reason = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        target = path if revision is None else f"{path}@{revision}"
        raise ReleaseError(
            f"{where} cannot be read ({reason}); run `sarlang1m verify {target}` to check every file against "
            "the MANIFEST, then rebuild or download the release again"
        ) from error


def _damaged_shards(release: Path, config: str, split: str | None) -> list[Path]:
    """The split's shards whose Parquet footer does not read (a truncated or overwritten file)."""
    import pyarrow.parquet as pq

    try:
        spec = schema.config_spec(config)
    except InputError:
        return []
    damaged = []
    for path in sorted(release.glob(spec.split_glob(split or "*"))):
        try:
            pq.ParquetFile(path).metadata  # noqa: B018 (reads and checks the footer)
        except Exception:  # whatever pyarrow raises, the file is what is damaged
            damaged.append(path)
    return damaged


def _damaged_hub_shards(repo_id: str, commit: str, config: str, split: str | None) -> list[str]:
    """The split's shards at a Hub commit whose footer does not read: the copy in huggingface_hub's cache
    where there is one (that is what was read), else the file on the Hub, read by range."""
    import pyarrow.parquet as pq
    from huggingface_hub import try_to_load_from_cache

    from .publish.claims import hub_shards, matches_pattern, parquet_files
    from .resolve import read_release_manifest

    try:
        pattern = schema.config_spec(config).split_glob(split or "*")
        files = read_release_manifest(repo_id, commit)["files"]
    except (SarlangError, OSError, ValueError):
        return []
    open_on_hub = hub_shards(repo_id, commit)
    damaged = []
    for name in (n for n in parquet_files(files) if matches_pattern(n, pattern)):
        cached = try_to_load_from_cache(repo_id, name, revision=commit, repo_type="dataset")
        where = f"{name} (the copy in huggingface_hub's cache, {cached})" if isinstance(cached, str) else f"{name}"
        try:
            (pq.ParquetFile(cached) if isinstance(cached, str) else open_on_hub(name)).metadata  # noqa: B018
        except Exception:  # whatever pyarrow or the transport raises, this shard is the one that does not read
            damaged.append(where + ("" if isinstance(cached, str) else f" at {repo_id}@{commit[:12]}"))
    return damaged


def release_data_files(
    config: str, split: str, source: str | Path | None = None, revision: str | None = None
) -> list[str]:
    """The Parquet files of one config and split, as the release's card lists them (paths or hf:// URLs)."""
    path, revision = resolve_release(source, revision)
    name = release_name(path, revision)
    card = Path(path) / schema.CARD_FILE
    if revision is None and not (card.is_file() and "\nconfigs:" in card.read_text(encoding="utf-8", errors="replace")):
        raise ReleaseError(
            f"{path}: not a release folder (no {schema.CARD_FILE} listing its configs); "
            f"a raw release is turned into one with `sarlang1m build {path} --out RELEASE`"
        )
    try:
        builder = datasets.load_dataset_builder(path, config, revision=revision)
    except ValueError as error:  # an unknown config, or a card whose configs do not parse
        if "BuilderConfig" in str(error):
            configs = datasets.get_dataset_config_names(path, revision=revision)
            raise ReleaseError(
                f"{name}: no config {config!r} in this release (it has: {', '.join(configs)})"
            ) from error
        raise ReleaseError(f"{name}: {error}") from error
    files = builder.config.data_files or {}
    if split not in files:
        raise ReleaseError(f"{name}: no split {split!r} of config {config!r} (it has: {', '.join(files)})")
    return [str(file) for file in files[split]]


def unreadable_parquet_error(file: str, release: str, error: BaseException) -> ReleaseError:
    """A damaged Parquet file of a release, as one line naming the file and what to run next."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return ReleaseError(
        f"{file}: not readable as Parquet ({reason}); the release may be damaged: run `sarlang1m verify {release}`"
    )


def read_parquet_rows(
    file: str, columns: Sequence[str] | None = None, *, release: str, batch_size: int = 1024
) -> Iterator[dict[str, Any]]:
    """The rows of one Parquet file of a release (only `columns`, if given), as plain dicts.

    A file that pyarrow cannot read (a bad footer, a damaged page, a truncated download) raises
    `ReleaseError` naming the file and `sarlang1m verify RELEASE`, instead of pyarrow's traceback.
    """
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with fsspec.open(file, "rb") as handle:
            for batch in pq.ParquetFile(handle).iter_batches(columns=columns, batch_size=batch_size):
                yield from batch.to_pylist()
    except (pa.ArrowInvalid, OSError) as error:
        if isinstance(error, SarlangError):
            raise
        raise unreadable_parquet_error(file, release, error) from error


def _cached_copy_differs(repo_id: str, commit: str, name: str, blob: Path, got: str, want: str) -> str:
    """Why a cached file differs from the MANIFEST, told apart by a fresh download of it: a copy damaged on
    this disk after it was downloaded (the fresh one matches), or the Hub serving other bytes (it does not)."""
    from huggingface_hub import hf_hub_download

    from .publish.remote import call

    where = (
        f"{repo_id}@{commit[:12]}: the cached copy of {name} ({blob}) has sha256 {got[:12]}..., "
        f"the MANIFEST says {want[:12]}..."
    )
    with tempfile.TemporaryDirectory(prefix="sarlang1m-recheck-") as folder:
        try:
            fresh = call(hf_hub_download, repo_id, name, repo_type="dataset", revision=commit, cache_dir=folder)
        except (SarlangError, OSError) as error:  # the Hub cannot tell: say what is known
            return (
                f"{where}; a fresh download to tell why failed ({error}): delete the cached copy "
                "(`hf cache delete`) and load again"
            )
        if sha256_file(fresh) == want:
            return (
                f"{where}: it was damaged on this disk after it was downloaded (a fresh download matches); "
                "delete it (`hf cache delete`, or remove that file) and load again"
            )
    return (
        f"{where}, and so does a fresh download: the Hub serves other bytes than were published; "
        "report it to the repo's owners"
    )


def check_downloaded_files(repo_id: str, commit: str) -> int:
    """Hash the files of `repo_id@commit` in the huggingface_hub cache against the MANIFEST; returns how many
    were hashed now.

    A tag or commit pins the tree, but not the bytes a storage server hands out: this catches a cached
    file that differs from what was published. Each cached file (blob) is hashed once: a marker beside
    the cache's blobs records that it matched, so later loads only look the markers up.
    """
    from huggingface_hub import hf_hub_download, try_to_load_from_cache
    from huggingface_hub.utils.sha import git_hash

    from .publish.remote import call

    def cached(name: str) -> Path | None:
        found = try_to_load_from_cache(repo_id, name, revision=commit, repo_type="dataset")
        return Path(found) if isinstance(found, str) else None

    manifest_copy = call(hf_hub_download, repo_id, schema.MANIFEST_FILE, repo_type="dataset", revision=commit)
    blob = Path(os.path.realpath(manifest_copy))
    data = blob.read_bytes()
    if git_hash(data) != blob.name:
        raise VerificationError(
            f"{repo_id}@{commit[:12]}: the cached {schema.MANIFEST_FILE} ({blob}) is not the file the Hub lists; "
            "delete it from the cache and load again"
        )
    manifest = parse_manifest(data, f"{repo_id}@{commit[:12]}: {schema.MANIFEST_FILE}")
    hashed = 0
    for name, want in manifest["files"].items():
        copy = cached(name)
        if copy is None:
            continue
        blob = Path(os.path.realpath(copy))
        marker = blob.parent.parent / "sarlang1m-verified" / blob.name
        if marker.exists():
            continue
        got = sha256_file(blob)
        hashed += 1
        if got != want["sha256"]:
            raise VerificationError(_cached_copy_differs(repo_id, commit, name, blob, got, want["sha256"]))
        marker.parent.mkdir(exist_ok=True)
        marker.touch()
    return hashed
