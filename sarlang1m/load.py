"""`sarlang1m.load`: a release (Hub repo at a pinned revision, or a local folder) ready for training.

Plain `datasets.load_dataset` reads every release; this adds what a SAR user wants on top: a pinned
revision by default (results are reproducible), SAR pixels decoded on the fly into normalised arrays
or tensors, and the release's own per-source statistics for standardisation.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import datasets

from . import schema
from .errors import InputError, NotFoundError, ReleaseError, SarlangError, VerificationError
from .publish import releases
from .publish.manifest import parse_manifest, sha256_file

#: What `load(decode=...)` does with the pixels: the original GeoTIFF (``sar``), the 8-bit image as PIL
#: (``image``), or None (bytes left as stored).
DecodeMode = Literal["sar", "image"]
DECODE_MODES: tuple[DecodeMode | None, ...] = (*get_args(DecodeMode), None)
_HUB_REPO = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<revision>[^@\s]+))?$")
#: Folders of the authors' raw release (any one of them, with no MANIFEST.json, means "not built yet").
_RAW_RELEASE_FOLDERS = ("Text", "SARimages", "SARimages_original", "SARimages_preprocessed")


def resolve_release(source: str | Path | None = None, revision: str | None = None) -> tuple[str, str | None]:
    """(path or repo id, revision) of a release: a local folder, `ORG/NAME`, or `ORG/NAME@REV`.

    A local folder has no revision; a Hub repo is read at `revision`, else at the `@REV` it names, else at
    the release this package pins (`schema.RELEASE_REVISION`), so that results are reproducible by default.
    An existing folder wins over a Hub reading of the same text.
    """
    source = schema.DEFAULT_REPO_ID if source is None else source
    if Path(source).is_dir():
        if revision is not None:
            raise InputError(f"{source} is a local folder: it has no revision (got revision={revision!r})")
        _refuse_raw_release(Path(source))
        return str(Path(source)), None
    match = _HUB_REPO.match(str(source)) if not isinstance(source, Path) else None
    if match is None:
        raise NotFoundError(f"{source}: no such release folder, and not a Hub repo id ORG/NAME[@REV]")
    if match["revision"] and revision and match["revision"] != revision:
        raise InputError(f"{source} names revision {match['revision']!r} but revision={revision!r} was given")
    return match["repo"], resolve_hub_revision(match["repo"], revision or match["revision"] or schema.RELEASE_REVISION)


def requested_revision(source: str | Path | None = None, revision: str | None = None) -> str | None:
    """The revision a user named for a release (or the pinned one), before it is resolved to a commit;
    None for a local folder. What reports show beside the commit `resolve_release` read."""
    source = schema.DEFAULT_REPO_ID if source is None else source
    if Path(source).is_dir():
        return None
    match = _HUB_REPO.match(str(source))
    return revision or (match["revision"] if match else None) or schema.RELEASE_REVISION


def looks_like_hub_repo(text: str) -> bool:
    """Whether `text` has the shape ORG/NAME[@REV] (and not of a path such as `./x` or `/x`)."""
    return _HUB_REPO.match(text) is not None


@functools.lru_cache(maxsize=64)
def resolve_hub_revision(repo_id: str, revision: str, token: str | None = None) -> str:
    """The commit to read `repo_id@revision` at: a commit sha as given; a tag or branch resolved on the
    Hub, and a version tag refused when it does not point to the commit it was published at
    (`sarlang1m.publish.releases`). Offline, a recorded tag reads at its recorded commit and anything else as named.
    Resolved once per process."""
    if releases.is_commit_sha(revision):
        return revision
    from huggingface_hub import HfApi, constants

    from .publish.remote import repo_commit, translated

    expected = releases.recorded_commit(repo_id, revision)
    if constants.HF_HUB_OFFLINE:
        return expected or revision
    with translated(f"resolving {repo_id}@{revision}", repo_id=repo_id):
        actual = repo_commit(HfApi(token=token), repo_id, revision)
    if expected is not None and actual != expected:
        raise releases.TagMovedError(
            f"{repo_id}@{revision} points to commit {actual[:12]}, but it was published at {expected[:12]} "
            f"({releases.user_file()} or the package's releases.json): refusing to read it; pass "
            f"revision={expected!r} to read what was published"
        )
    return actual


def _refuse_raw_release(folder: Path) -> None:
    """A folder in the authors' raw layout (Text/, SARimages/, ...) given where a built release belongs."""
    if (folder / schema.MANIFEST_FILE).is_file():
        return
    from .raw.layout import _find_dir

    found = [name for name in _RAW_RELEASE_FOLDERS if _find_dir(folder, name) is not None]
    if found:
        raise ReleaseError(
            f"{folder} is a raw release in the authors' layout ({', '.join(f + '/' for f in found)}), not a built "
            f"release: build one with `sarlang1m build {folder} --out RELEASE` and pass RELEASE"
        )


def check_config(
    config: str, source: str | Path | None = None, revision: str | None = None, *, split: str | None = None
) -> schema.ConfigSpec:
    """The spec of `config`, refused with the configs (and splits) THIS release has when it has no such one.

    The release's configs come from its MANIFEST; when that cannot be read, the package's own list decides.
    """
    configs = _release_configs(source, revision)
    if configs is not None and config not in configs:
        raise InputError(f"unknown config {config!r}; this release has {list(configs)}")
    splits = list((configs or {}).get(config, {}).get("splits") or schema.SPLITS)
    if split is not None and split not in splits:
        raise InputError(f"unknown split {split!r} of config {config!r}; this release has {splits}")
    return schema.config_spec(config)


def _release_configs(source: str | Path | None, revision: str | None) -> dict[str, Any] | None:
    try:
        configs = read_release_manifest(source, revision).get("configs")
    except (OSError, ValueError):
        return None
    return dict(configs) if isinstance(configs, Mapping) and configs else None


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
        damaged = _damaged_shards(Path(path), config, split) if revision is None else []
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


def read_release_manifest(source: str | Path | None = None, revision: str | None = None) -> dict:
    """The MANIFEST.json of a release (local folder or Hub repo at a revision)."""
    path, revision = resolve_release(source, revision)
    if revision is None:
        manifest_path = Path(path) / schema.MANIFEST_FILE
    else:
        from huggingface_hub import hf_hub_download

        from .publish.remote import call, translated

        with translated(f"reading the MANIFEST of {path}@{revision}", repo_id=path):
            manifest_path = Path(
                call(hf_hub_download, path, schema.MANIFEST_FILE, repo_type="dataset", revision=revision)
            )
    return parse_manifest(manifest_path.read_bytes(), str(manifest_path))


def is_synthetic_release(source: str | Path | None = None, revision: str | None = None) -> bool:
    """Whether a release's MANIFEST says it was built from synthetic data (what it derives must say so too)."""
    try:
        return bool(read_release_manifest(source, revision).get("synthetic", False))
    except (OSError, ValueError):
        return False


def load(
    config: str = "vqa",
    *,
    split: str | None = None,
    streaming: bool = False,
    decode: DecodeMode | None = "image",
    source: str | Path | None = None,
    revision: str | None = None,
    pairs: bool = False,
    sar_options: Mapping[str, Any] | None = None,
    verify_download: bool = True,
    **load_kwargs: Any,
) -> datasets.Dataset | datasets.DatasetDict | datasets.IterableDataset | datasets.IterableDatasetDict:
    """Load a config of a release, optionally decoding SAR pixels and flattening to one example per text.

    Args:
        config: a config name (`vqa`, `captions`, `sarvqa1`, `sarvqa2`, `vqa-vhr`, ...).
        split: `train` or `test`; None gives every split.
        streaming: stream the Parquet shards instead of downloading and caching them.
        decode: `"image"` (the 8-bit image as a PIL image, as plain datasets does), `"sar"` (the original
            GeoTIFF, read by its `sar_path` from the release, decoded and normalised into `pixels`, see
            `SARDecode`; rows without one fall back to the 8-bit image as `display`), or None (bytes
            left as stored).
        source: a Hub repo id (default: the published release) or a local release folder.
        revision: Hub revision; defaults to the release this package pins (`schema.RELEASE_REVISION`).
        pairs: one example per question or caption (see `sarlang1m.views.pairs`).
        sar_options: keyword arguments of `SARDecode` (normalize, bands, percentiles, db_range, out,
            fetch_workers, check_sha256, ...).
            With `normalize="standardize"`, the release's own per-source statistics are used.
        verify_download: non-streaming from the Hub, check the downloaded files against the MANIFEST
            (sha256), once per cache (see `check_downloaded_files`).
        load_kwargs: passed to `datasets.load_dataset` (e.g. `columns`, `filters`, `num_proc`).

    A Hub release is read at the commit its revision resolves to, and a version tag that no longer points
    to the commit it was published at is refused (`sarlang1m.publish.releases`).
    """
    if decode not in DECODE_MODES:
        raise ValueError(f"decode must be one of {DECODE_MODES}, got {decode!r}")
    if sar_options and decode != "sar":
        raise ValueError("sar_options only apply with decode='sar'")
    path, revision = resolve_release(source, revision)
    check_config(config, path, revision, split=split)
    if revision is None and not streaming and "cache_dir" not in load_kwargs:
        load_kwargs["cache_dir"] = _local_cache_dir(Path(path))
    from .publish.remote import translated

    with (
        translated(f"loading {config} of {path}@{revision}", repo_id=path),
        damaged_shards_named(path, revision, config, split),
    ):
        dataset = datasets.load_dataset(
            path, config, split=split, streaming=streaming, revision=revision, **load_kwargs
        )
        if revision is not None and not streaming and verify_download:
            check_downloaded_files(path, revision)
    if decode != "image":  # before anything iterates: images stay bytes (SAR decoding reads them only as fallback)
        dataset = _each(dataset, lambda d: d.cast_column("image", datasets.Image(decode=False)))
    sar = None
    if decode == "sar":
        options = _sar_options(sar_options, path, revision, streaming=streaming)
        sar = lambda d: with_sar_decoding(d, **options)  # noqa: E731
    # Map-style: decode on the image rows, so a pair view decodes an image once for all its questions.
    # Streaming: decode after flattening; SARDecode decodes an image once per batch of its questions.
    if sar is not None and not streaming:
        dataset = _each(dataset, sar)
    if pairs:
        from .views import pairs as to_pairs

        dataset = _each(dataset, lambda d: to_pairs(d, config=config))
    if sar is not None and streaming:
        dataset = _each(dataset, sar)
    return dataset


def with_sar_decoding(
    dataset: datasets.Dataset | datasets.IterableDataset, **sar_options: Any
) -> datasets.Dataset | datasets.IterableDataset:
    """Decode SAR on the fly: a lazy transform for map-style datasets, a batched map for streaming ones."""
    from .decode import SARDecode

    return SARDecode(**sar_options).apply(dataset)


def _sar_options(
    options: Mapping[str, Any] | None, path: str, revision: str | None, *, streaming: bool
) -> dict[str, Any]:
    """`SARDecode` options for a release: where its originals are, and its statistics when standardising.

    Map-style reads from the Hub keep the originals in huggingface_hub's cache (a second epoch reads
    disk); streaming reads fetch each original with one GET at the pinned revision.
    """
    from .originals import hub_root

    options = dict(options or {})
    if "root" not in options:
        options["root"] = path if revision is None else hub_root(path, revision)
        options.setdefault("cache", revision is not None and not streaming)
    if options.get("normalize") == "standardize" and "statistics" not in options:
        options["statistics"] = read_release_manifest(path, revision).get("sar_statistics", {})
    return options


def _each(dataset, function):
    """Apply to a dataset, or to every split of a dataset dict (a plain dict once splits are pair views)."""
    if isinstance(dataset, dict):
        results = {split: function(d) for split, d in dataset.items()}
        if all(isinstance(d, datasets.Dataset) for d in results.values()):
            return datasets.DatasetDict(results)
        if all(isinstance(d, datasets.IterableDataset) for d in results.values()):
            return datasets.IterableDatasetDict(results)
        return results
    return function(dataset)


def _local_cache_dir(release: Path) -> str:
    """A datasets cache keyed by the release's MANIFEST.

    `datasets` keys the cache of a local folder by its configs, not by file contents, so a release
    rebuilt in place would otherwise be served from the cache of the old one.
    """
    manifest = release / schema.MANIFEST_FILE
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest()[:16] if manifest.is_file() else "no-manifest"
    return str(Path(datasets.config.HF_DATASETS_CACHE) / "sarlang1m-local" / digest)


# --------------------------------------------------------------------------------------------
# Reading a release's Parquet files one by one, so that a damaged file is named


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


def release_name(path: str, revision: str | None) -> str:
    """How a release is named in messages and reports: the folder, or ORG/NAME@REV."""
    return path if revision is None else f"{path}@{revision}"


def check_downloaded_files(repo_id: str, commit: str) -> int:
    """Hash the files of `repo_id@commit` in the huggingface_hub cache against the MANIFEST; returns how many
    were hashed now.

    A tag or commit pins the tree, but not the bytes a storage server hands out: this catches a cached
    file that differs from what was published. Each cached file (blob) is hashed once: a marker beside
    the cache's blobs records that it matched, so later loads only look the markers up.
    """
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    from .publish.remote import call

    def cached(name: str) -> Path | None:
        found = try_to_load_from_cache(repo_id, name, revision=commit, repo_type="dataset")
        return Path(found) if isinstance(found, str) else None

    manifest_copy = call(hf_hub_download, repo_id, schema.MANIFEST_FILE, repo_type="dataset", revision=commit)
    blob = Path(os.path.realpath(manifest_copy))
    data = blob.read_bytes()
    if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() != blob.name:
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
            raise VerificationError(
                f"{repo_id}@{commit[:12]}: downloaded {name} has sha256 {got[:12]}..., the MANIFEST says "
                f"{want['sha256'][:12]}...: the Hub served other bytes than were published; delete the cached "
                "copy (`hf cache delete`) and load again, and report it if it persists"
            )
        marker.parent.mkdir(exist_ok=True)
        marker.touch()
    return hashed
