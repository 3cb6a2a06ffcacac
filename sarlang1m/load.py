"""`sarlang1m.load`: a release (Hub repo at a pinned revision, or a local folder) ready for training.

Plain `datasets.load_dataset` reads every release; this adds what a SAR user wants on top: a pinned
revision by default (results are reproducible), SAR pixels decoded on the fly into normalised arrays
or tensors, and the release's own per-source statistics for standardisation. Which release and commit
to read is `resolve`'s job; naming a damaged or substituted file is `release_files`'.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeAlias, get_args

import datasets

from . import schema
from .release_files import check_downloaded_files, damaged_shards_named
from .resolve import check_config, read_release_manifest, resolve_release

#: What `load(decode=...)` does with the pixels: the original GeoTIFF (``sar``), the 8-bit image as PIL
#: (``image``), or None (bytes left as stored).
DecodeMode = Literal["sar", "image"]
DECODE_MODES: tuple[DecodeMode | None, ...] = (*get_args(DecodeMode), None)
#: What `load` returns: one split, or every split, map-style or streaming.
Loaded: TypeAlias = datasets.Dataset | datasets.DatasetDict | datasets.IterableDataset | datasets.IterableDatasetDict


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
) -> Loaded:
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
    _check_decode(decode, sar_options)
    path, revision = resolve_release(source, revision)
    check_config(config, path, revision, split=split)
    dataset = _load_parquet(
        path, revision, config, split=split, streaming=streaming, verify_download=verify_download, kwargs=load_kwargs
    )
    if decode != "image":  # before anything iterates: images stay bytes (SAR decoding reads them only as fallback)
        dataset = _each(dataset, lambda d: d.cast_column("image", datasets.Image(decode=False)))
    sar = _sar_decoder(sar_options, path, revision, streaming=streaming) if decode == "sar" else None
    return _decoded_views(dataset, config, sar=sar, pairs=pairs, streaming=streaming)


def _check_decode(decode: DecodeMode | None, sar_options: Mapping[str, Any] | None) -> None:
    """Refuse a decode mode `load` does not know, and SAR options without SAR decoding (a caller's bug)."""
    if decode not in DECODE_MODES:
        raise ValueError(f"decode must be one of {DECODE_MODES}, got {decode!r}")
    if sar_options and decode != "sar":
        raise ValueError("sar_options only apply with decode='sar'")


def _load_parquet(
    path: str,
    revision: str | None,
    config: str,
    *,
    split: str | None,
    streaming: bool,
    verify_download: bool,
    kwargs: dict[str, Any],
) -> Loaded:
    """`datasets.load_dataset` on a resolved release: a local release cached by its MANIFEST, Hub failures
    and damaged shards as one-line errors, and (non-streaming from the Hub) the downloads checked.
    `kwargs` (those of `load`) go to `datasets.load_dataset`."""
    if revision is None and not streaming and "cache_dir" not in kwargs:
        kwargs["cache_dir"] = _local_cache_dir(Path(path))
    from .publish.remote import translated

    with (
        translated(f"loading {config} of {path}@{revision}", repo_id=path),
        damaged_shards_named(path, revision, config, split),
    ):
        dataset = datasets.load_dataset(path, config, split=split, streaming=streaming, revision=revision, **kwargs)
        if revision is not None and not streaming and verify_download:
            check_downloaded_files(path, revision)
    return dataset


def _sar_decoder(
    sar_options: Mapping[str, Any] | None, path: str, revision: str | None, *, streaming: bool
) -> Callable[[Any], Any]:
    """What decodes SAR on one dataset (or split) of the release, with the release's own options."""
    options = _sar_options(sar_options, path, revision, streaming=streaming)
    return lambda d: with_sar_decoding(d, **options)


def _decoded_views(
    dataset: Loaded, config: str, *, sar: Callable[[Any], Any] | None, pairs: bool, streaming: bool
) -> Loaded:
    """SAR decoding and the pair view, in the order that decodes each image once."""
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
