"""`SARDecode`: the dataset transform that decodes the originals a batch names, on worker threads.

A batch's distinct originals are fetched (`sarlang1m.originals.OriginalsReader`) and decoded once each,
at most ``decode_threads`` at a time; the outputs come back in row order, identical to decoding row by
row. What to do per row (shared decodes, band plans, the 8-bit fallback) is decided in `.rows`; the
pixels themselves come from `sarlang1m.sar.pixels`.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import SarlangError
from ..originals import DEFAULT_FETCH_WORKERS, OriginalsReader
from ..sar.geotiff import DEFAULT_MAX_PIXELS, SARDecodeError, SARInput
from ..sar.normalize import (
    DEFAULT_PERCENTILE_METHOD,
    DEFAULT_PERCENTILES,
    Normalization,
    PercentileMethod,
    check_percentile_method,
    check_percentiles,
)
from ..sar.pixels import decode_sar_detailed, resolve_normalization, with_zero_bands
from ..sar.radiometry import check_radiometry
from ..schema import Radiometry
from .outputs import (
    OUTPUT_FIELDS,
    PIXELS_FIELD,
    RADIOMETRY_FIELD,
    SOURCE_FIELD,
    VALID_FIELD,
    Output,
    as_output,
    check_out,
    copy_output,
)
from .rows import (
    BYTES_COLUMN,
    DISPLAY_STANDARDIZED_WARNING,
    PATH_COLUMN,
    PIXELS_FROM_IMAGE,
    PIXELS_FROM_SAR,
    SHA256_COLUMN,
    MissingBandPolicy,
    band_plan,
    check_missing,
    expected_original,
    image_to_display_array,
    shared_decodes,
    standardized_per_image,
)

#: Rows decoded per batch when streaming: small, because decoded pixels are large (16 SpaceNet6 rows as
#: float32 are about 200 MB).
STREAMING_BATCH_ROWS = 16


def _no_root() -> SARDecodeError:
    return SARDecodeError(
        "rows name their original GeoTIFF by sar_path: pass root=<release folder or "
        "hf://datasets/ORG/NAME@REV> to SARDecode (sarlang1m.load does this for you)"
    )


def default_decode_threads() -> int:
    """Images decoded at once per process: one per core it may use, or one in a torch DataLoader worker
    (the DataLoader already runs a process per core; each worker still decodes off its main thread)."""
    loader = sys.modules.get("torch.utils.data")
    if loader is not None and loader.get_worker_info() is not None:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform
        return os.cpu_count() or 1


class SARDecode:
    """Dataset transform adding normalised SAR pixels to each example (see `OUTPUT_FIELDS`).

    Works on batches (``Dataset.with_transform`` / ``set_transform``, ``IterableDataset.map(batched=True)``)
    and on single examples. Per row: the original GeoTIFF is read from ``root`` (a release folder or
    ``hf://datasets/ORG/NAME@REV``) at the row's ``sar_path``, its SHA-256 checked against ``sar_sha256``
    (``check_sha256``). A batch fetches and decodes its distinct originals once each, on ``fetch_workers``
    threads, at most ``decode_threads`` decoding at a time (default: one per usable core, one in a
    DataLoader worker); the outputs come back in row order, identical to decoding row by row.
    The radiometry is ``radiometry`` if given, else the row's ``sar_radiometry``, else inferred;
    ``bands`` may name polarisations (looked up in the row's ``polarizations``) or give indices. A named
    polarisation the row does not list (a single-pol image whose polarisation was not recorded, the 8-bit
    fallback) follows ``missing``: ``first`` (default) takes the image's first band, ``zeros`` a zero band
    marked invalid, ``error`` raises; so the same ``bands`` give the same band count on every row of every
    config. ``statistics`` is the release's ``sar_statistics`` mapping {source: {"bands", "mean_db", "std_db"}}
    used for ``normalize="standardize"``. A row without an original falls back to its 8-bit ``image`` as
    ``display`` (``pixels_source == "image"``) unless ``fallback_to_image=False``; under ``standardize``,
    display pixels (they have no dB statistics) are standardised per image, with a warning the first time.
    The ``image`` column is dropped from the output unless ``keep_inputs``. Picklable, so DataLoader
    workers can run it (each makes its own threads). Errors are `SARDecodeError` naming the row's
    ``image_id`` (a failed fetch keeps its type and names the rows that use the file), raised in row order
    from whichever thread.
    """

    def __init__(
        self,
        *,
        radiometry: Radiometry | None = None,
        bands: Sequence[int | str] | None = None,
        missing: MissingBandPolicy = "first",
        normalize: Normalization = "percentile",
        percentiles: Sequence[float] = DEFAULT_PERCENTILES,
        db_range: Sequence[float] | None = None,
        statistics: Mapping[str, Mapping[str, Any]] | None = None,
        nodata: float | None = None,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
        out: Output = "numpy",
        fallback_to_image: bool = True,
        keep_inputs: bool = False,
        image_column: str = "image",
        percentile_method: PercentileMethod = DEFAULT_PERCENTILE_METHOD,
        root: str | os.PathLike[str] | None = None,
        fetch_workers: int = DEFAULT_FETCH_WORKERS,
        check_sha256: bool = True,
        cache: bool = False,
        token: str | bool | None = None,
        decode_threads: int | None = None,
    ) -> None:
        if radiometry is not None:
            check_radiometry(radiometry)
        self.method = resolve_normalization(normalize, db_range)
        if self.method == "standardize" and not statistics:
            raise ValueError("normalize='standardize' needs statistics={source: {'mean_db': [...], 'std_db': [...]}}")
        self.out = check_out(out)
        self.missing = check_missing(missing)
        if isinstance(bands, (str, int)):
            raise ValueError(f"bands must be a list, e.g. bands=[{bands!r}]")
        if bands is not None and not bands:
            raise ValueError("bands=[] keeps no band; pass None for all of them")
        self.radiometry = radiometry
        self.bands = None if bands is None else tuple(bands)
        self.percentiles = check_percentiles(percentiles)
        self.percentile_method = check_percentile_method(percentile_method)
        self.db_range = None if db_range is None else (float(db_range[0]), float(db_range[1]))
        self.statistics = None if statistics is None else {k: dict(v) for k, v in statistics.items()}
        self.nodata = nodata
        self.max_pixels = max_pixels
        self.fallback_to_image = fallback_to_image
        self.keep_inputs = keep_inputs
        self.image_column = image_column
        if decode_threads is not None and decode_threads < 1:
            raise ValueError(f"decode_threads must be at least 1, got {decode_threads}")
        self.decode_threads = decode_threads
        self._slots: threading.Semaphore | None = None
        self._warned_display = False
        self.reader = (
            None
            if root is None
            else OriginalsReader(root, workers=fetch_workers, check_sha256=check_sha256, cache=cache, token=token)
        )

    @property
    def consumed_columns(self) -> tuple[str, ...]:
        """Input columns replaced by the pixels (removed from the output unless ``keep_inputs``)."""
        return () if self.keep_inputs else (self.image_column,)

    def __repr__(self) -> str:
        return (
            f"SARDecode(radiometry={self.radiometry!r}, bands={self.bands!r}, missing={self.missing!r}, "
            f"normalize={self.method!r}, "
            f"percentiles={self.percentiles!r}, db_range={self.db_range!r}, out={self.out!r}, reader={self.reader!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_slots"] = None  # each process (DataLoader worker) makes its own
        return state

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        if not self._is_batch(batch):
            single = self({key: [value] for key, value in batch.items()})
            return {key: values[0] for key, values in single.items()}
        rows = [dict(zip(batch, values, strict=True)) for values in zip(*batch.values(), strict=True)]
        owners = shared_decodes(rows, self.image_column)
        jobs = self._start(rows, owners)
        decoded: list[dict[str, Any]] = []
        try:
            for index, owner in enumerate(owners):
                if owner == index:
                    decoded.append(jobs[index]())
                else:  # another question on the same image: a copy, so augmenting one leaves the other intact
                    decoded.append({key: copy_output(value) for key, value in decoded[owner].items()})
        finally:
            for job in jobs.values():  # after a failure, what has not started yet never will
                cancel = getattr(job, "cancel", None)
                if cancel is not None:
                    cancel()
        output = {key: values for key, values in batch.items() if key not in self.consumed_columns}
        for field in OUTPUT_FIELDS:
            output[field] = [row[field] for row in decoded]
        return output

    def _start(self, rows: Sequence[Mapping[str, Any]], owners: list[int]) -> dict[int, Callable[[], dict[str, Any]]]:
        """A job per decoded row (its index): started on the reader's threads when there are several,
        else run on the calling thread when asked for. Each job fetches, checks and decodes one image."""
        users: dict[int, list[str]] = {}
        for row, owner in zip(rows, owners, strict=True):
            users.setdefault(owner, []).append(str(row.get("image_id")))
        if self.reader is None and any(rows[index].get(PATH_COLUMN) for index in users):
            raise _no_root()
        reader = self.reader
        if reader is None or len(users) <= 1 or reader.workers == 1:
            return {i: functools.partial(self._fetch_and_decode, rows[i], ids) for i, ids in users.items()}
        return {i: reader.submit(self._fetch_and_decode, rows[i], ids).result for i, ids in users.items()}

    def _fetch_and_decode(self, row: Mapping[str, Any], image_ids: Sequence[str]) -> dict[str, Any]:
        """One row's output, its original (if any) fetched and checked first; decodes take a slot, so
        that at most ``decode_threads`` run at once however many fetches are in flight."""
        original = None if row.get(PATH_COLUMN) is None else self._read(row, image_ids)
        with self._decode_slots():
            return self.decode_row(row, original)

    def _read(self, row: Mapping[str, Any], image_ids: Sequence[str]) -> bytes:
        """A row's original, its failure naming the rows that use it."""
        if self.reader is None:
            raise _no_root()
        try:
            return self.reader.read(row[PATH_COLUMN], row.get(SHA256_COLUMN), row.get(BYTES_COLUMN))
        except SarlangError as error:
            unique = sorted(set(image_ids))
            shown = ", ".join(unique[:3]) + (" ..." if len(unique) > 3 else "")
            raise type(error)(f"{error} (image_id {shown})") from error

    def _decode_slots(self) -> threading.Semaphore:
        if self._slots is None:  # made on first use, in the process (DataLoader worker) that decodes
            threads = self.decode_threads or default_decode_threads()
            self._slots = threading.BoundedSemaphore(threads)
        return self._slots

    def _is_batch(self, batch: Mapping[str, Any]) -> bool:
        for key in ("image_id", PATH_COLUMN, "sar_radiometry", "source", self.image_column):
            if key in batch:
                return isinstance(batch[key], list)
        raise SARDecodeError(f"no {PATH_COLUMN!r} or {self.image_column!r} column to decode (columns: {sorted(batch)})")

    def decode_row(self, row: Mapping[str, Any], original: bytes | None = None) -> dict[str, Any]:
        """The output fields for one example, errors naming its ``image_id``.

        `original` is the row's GeoTIFF when the caller fetched it already; else it is fetched here.
        """
        if original is None and row.get(PATH_COLUMN) is not None:
            original = self._read(row, [str(row.get("image_id"))])
        image_id = row.get("image_id", "<no image_id>")
        try:
            return self._decode_row(row, original)
        except (SARDecodeError, ValueError, OSError) as error:
            raise SARDecodeError(f"image_id {image_id!r}: {error}") from error

    def _decode_row(self, row: Mapping[str, Any], original: bytes | None) -> dict[str, Any]:
        data: SARInput
        if original is not None:
            data, source, radiometry = original, PIXELS_FROM_SAR, self.radiometry or row.get("sar_radiometry")
        elif self.fallback_to_image and row.get(self.image_column) is not None:
            data = image_to_display_array(row[self.image_column], max_pixels=self.max_pixels)
            source, radiometry = PIXELS_FROM_IMAGE, "display"
        else:
            fallback = "and no image to fall back to" if self.fallback_to_image else "(fallback_to_image is off)"
            raise SARDecodeError(f"no original GeoTIFF ({PATH_COLUMN} is null) {fallback}")
        plan = band_plan(self.bands, self.missing, row, source)
        bands = None if plan is None else [band for band in plan if band is not None] or [0]
        # Display pixels (8-bit, no calibrated values) have no dB statistics: they are x / 255 whatever the method.
        calibrated = source == PIXELS_FROM_SAR and radiometry != "display"
        statistics = self._statistics_for(row) if calibrated else None
        method = self.method if (calibrated or self.method != "standardize") else "percentile"
        decoded = decode_sar_detailed(
            data,
            radiometry=radiometry,
            bands=bands,
            normalize=method,
            percentiles=self.percentiles,
            db_range=self.db_range,
            statistics=statistics,
            nodata=self.nodata,
            max_pixels=self.max_pixels,
            percentile_method=self.percentile_method,
            expected=expected_original(row) if source == PIXELS_FROM_SAR else None,
        )
        if self.method == "standardize" and decoded.radiometry == "display":
            decoded = standardized_per_image(decoded)
            self._warn_display_standardized(row)
        if plan is not None and None in plan:
            decoded = with_zero_bands(decoded, plan)
        pixels, valid = as_output(decoded, self.out)
        return {PIXELS_FIELD: pixels, VALID_FIELD: valid, RADIOMETRY_FIELD: decoded.radiometry, SOURCE_FIELD: source}

    def _warn_display_standardized(self, row: Mapping[str, Any]) -> None:
        """Say once what rows without dB statistics got under ``standardize`` (not once per batch)."""
        if not self._warned_display:
            self._warned_display = True
            where = {"image_id": repr(row.get("image_id")), "source": f"source {row.get('source')!r}"}
            warnings.warn(DISPLAY_STANDARDIZED_WARNING.format(**where), UserWarning, stacklevel=2)

    def _statistics_for(self, row: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if self.method != "standardize":
            return None
        source = row.get("source")
        if self.statistics is None or source not in self.statistics:
            raise SARDecodeError(f"no dB statistics for source {source!r} (have {sorted(self.statistics or {})})")
        return self.statistics[source]

    def apply(self, dataset: Any, *, batch_size: int = STREAMING_BATCH_ROWS) -> Any:
        """``dataset`` with this transform attached: lazily for a `Dataset`, as a batched map when streaming.

        The ``image`` column is cast to ``Image(decode=False)`` first, so rows with an original skip PIL.
        ``batch_size`` rows are decoded at a time when streaming (small: decoded pixels are large).
        """
        import datasets

        feature = (getattr(dataset, "features", None) or {}).get(self.image_column)
        if isinstance(feature, datasets.Image) and feature.decode:
            dataset = dataset.cast_column(self.image_column, datasets.Image(decode=False))
        if isinstance(dataset, datasets.IterableDataset):
            present = dataset.column_names
            removed = [c for c in self.consumed_columns if present is None or c in present]
            if self.reader is not None and self.reader.reads_remote and self.reader.workers > 1:
                # Hub requests wait a round trip or two: start each original's read a batch early
                dataset = dataset.map(_ReadAhead(self.reader), batched=True, batch_size=2 * batch_size)
            return dataset.map(self, batched=True, batch_size=batch_size, remove_columns=removed or None)
        return dataset.with_transform(self)


class _ReadAhead:
    """A batched map placed before `SARDecode`'s when streaming from the Hub: it returns its batch as is,
    having started the reads of the batch's originals on the decoder's reader. Its batches are twice the
    decoder's, so every other decode batch finds its originals fetched while the one before it decoded
    (`datasets` gives a map no view of the batches after its own)."""

    def __init__(self, reader: OriginalsReader) -> None:
        self.reader = reader  # the decoder's: pickled with the dataset, they stay one object in each worker

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        paths = batch.get(PATH_COLUMN)
        if paths:
            nothing = [None] * len(paths)
            wanted = zip(paths, batch.get(SHA256_COLUMN, nothing), batch.get(BYTES_COLUMN, nothing), strict=True)
            self.reader.read_ahead([entry for entry in wanted if entry[0] is not None])
        return batch
