"""Decode SAR pixels for training: `decode_sar` for one image, `SARDecode` for a `datasets` dataset.

`sarlang1m.sar` knows GeoTIFFs and numpy only; this module is its bridge to `datasets`: it reads the
release's columns (``sar_path``, ``sar_sha256``, ``sar_radiometry``, ``polarizations``, ``source``,
``image``), fetches the originals a batch names through `sarlang1m.originals` (concurrently, each once),
falls back to the 8-bit ``image`` where a row has no original GeoTIFF (SARDet-100K), and names the row's
``image_id`` in every error.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, get_args

import numpy as np
from PIL import Image

from .errors import SarlangError
from .originals import DEFAULT_FETCH_WORKERS, OriginalsReader
from .sar.geotiff import DEFAULT_MAX_PIXELS, SARDecodeError, SARInput, SARMetadata, infer_radiometry_of, read_geotiff
from .sar.normalize import (
    DEFAULT_PERCENTILE_METHOD,
    DEFAULT_PERCENTILES,
    NORMALIZATIONS,
    Normalization,
    PercentileMethod,
    check_percentile_method,
    check_percentiles,
    normalize_band,
)
from .sar.radiometry import check_radiometry, radiometry_fits
from .schema import Radiometry

#: Fields `SARDecode` adds to each example.
PIXELS_FIELD = "pixels"
"""float32 (bands, H, W): normalised pixels, in [0, 1] unless standardised."""
VALID_FIELD = "pixels_valid"
"""bool (bands, H, W): False where a pixel is nodata, non-finite or has no dB value (and is 0 in pixels)."""
RADIOMETRY_FIELD = "pixels_radiometry"
"""The radiometry actually used to decode: amplitude, intensity, db, complex or display."""
SOURCE_FIELD = "pixels_source"
"""``sar`` when the pixels come from the original GeoTIFF, ``image`` when from the 8-bit image (display)."""
#: The row columns that locate and check an original GeoTIFF.
PATH_COLUMN, SHA256_COLUMN, BYTES_COLUMN = "sar_path", "sar_sha256", "sar_bytes"
OUTPUT_FIELDS = (PIXELS_FIELD, VALID_FIELD, RADIOMETRY_FIELD, SOURCE_FIELD)
#: What `decode_sar` and `SARDecode` return pixels as (``out=``).
Output = Literal["numpy", "torch"]
OUTPUTS: tuple[Output, ...] = get_args(Output)

PIXELS_FROM_SAR = "sar"
PIXELS_FROM_IMAGE = "image"

#: What `SARDecode(bands=[name, ...])` does when a row does not list a named polarisation (single-pol
#: images whose polarisation was not recorded, the 8-bit fallback): ``first`` takes the image's first band,
#: ``zeros`` gives a band of zeros that is False in the valid mask, ``error`` raises.
MissingBandPolicy = Literal["first", "zeros", "error"]
MISSING_BAND_POLICIES: tuple[MissingBandPolicy, ...] = get_args(MissingBandPolicy)


@dataclass(frozen=True)
class DecodedSAR:
    """Normalised pixels of one image and how they were obtained."""

    pixels: np.ndarray
    valid: np.ndarray
    radiometry: str
    #: Indices, in the file, of the bands kept.
    bands: tuple[int, ...]
    metadata: SARMetadata


def _with_zero_bands(decoded: DecodedSAR, plan: Sequence[int | None]) -> DecodedSAR:
    """``decoded`` (the plan's present bands, in order) with a zero, invalid band wherever the plan has None."""
    height, width = decoded.pixels.shape[-2:]
    pixels = np.zeros((len(plan), height, width), dtype=np.float32)
    valid = np.zeros(pixels.shape, dtype=bool)
    present = [position for position, band in enumerate(plan) if band is not None]
    pixels[present], valid[present] = decoded.pixels[: len(present)], decoded.valid[: len(present)]
    kept = tuple(band for band in plan if band is not None)
    return DecodedSAR(pixels, valid, decoded.radiometry, kept, decoded.metadata)


def _check_normalization(normalize: str) -> Normalization:
    """The normalisation itself if it is one of `NORMALIZATIONS`, else a ValueError listing them."""
    for known in NORMALIZATIONS:
        if normalize == known:
            return known
    raise ValueError(f"unknown normalisation {normalize!r}; expected one of {NORMALIZATIONS}")


def resolve_normalization(normalize: str, db_range: Sequence[float] | None) -> Normalization:
    """The normalisation to run: passing ``db_range`` selects ``range`` unless another one is named."""
    method = _check_normalization(normalize)
    if db_range is not None:
        if method not in ("percentile", "range"):
            raise ValueError(f"db_range is a fixed-range normalisation; it conflicts with normalize={normalize!r}")
        bounds = [float(value) for value in db_range]
        if len(bounds) != 2 or not all(map(math.isfinite, bounds)) or not bounds[1] > bounds[0]:
            raise ValueError(f"db_range must be finite (low_db, high_db) with low < high, got {tuple(db_range)}")
        return "range"
    if method == "range":
        raise ValueError("normalize='range' needs db_range=(low_db, high_db)")
    return method


def _complex_from_iq(array: np.ndarray) -> np.ndarray:
    """Pairs of real bands (I, Q, I, Q, ...) as complex bands: complex int16 stored as two int16 bands."""
    if array.shape[0] % 2:
        raise SARDecodeError(f"radiometry 'complex' on real pixels needs I/Q band pairs, got {array.shape[0]} band(s)")
    single = array.dtype.itemsize <= 2
    pairs = np.empty((array.shape[0] // 2, *array.shape[1:]), dtype=np.complex64 if single else np.complex128)
    pairs.real, pairs.imag = array[0::2], array[1::2]  # I + jQ
    return pairs


class _BandOptions(TypedDict):
    """The `normalize_band` arguments shared by every band of one image."""

    method: Normalization
    percentiles: Sequence[float]
    db_range: Sequence[float] | None
    nodata: float | None
    percentile_method: PercentileMethod


def _band_statistics(statistics: Mapping[str, Any], bands: Sequence[int], available: int) -> list[tuple[float, float]]:
    """(mean_db, std_db) of each kept band from a release statistics entry {bands, mean_db, std_db}."""
    try:
        means, stds = list(statistics["mean_db"]), list(statistics["std_db"])
    except (KeyError, TypeError) as error:
        raise ValueError(f"statistics need 'mean_db' and 'std_db' lists, got {statistics!r}") from error
    if len(means) != available or len(stds) != available:
        raise ValueError(f"statistics cover {len(means)} band(s) but the image has {available}")
    return [(float(means[b]), float(stds[b])) for b in bands]


def decode_sar_detailed(
    data: SARInput,
    *,
    radiometry: Radiometry | None = None,
    bands: Sequence[int] | None = None,
    normalize: Normalization = "percentile",
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    db_range: Sequence[float] | None = None,
    statistics: Mapping[str, Any] | None = None,
    nodata: float | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    percentile_method: PercentileMethod = DEFAULT_PERCENTILE_METHOD,
) -> DecodedSAR:
    """`decode_sar` returning pixels, mask, radiometry used, kept bands and the file's header."""
    method = resolve_normalization(normalize, db_range)
    check_percentiles(percentiles)
    check_percentile_method(percentile_method)
    if method == "standardize" and statistics is None:
        raise ValueError("normalize='standardize' needs statistics={'mean_db': [...], 'std_db': [...]}")
    array, metadata = read_geotiff(data, max_pixels=max_pixels)
    if radiometry is not None:
        used = check_radiometry(radiometry)
    elif metadata.declared_radiometry and radiometry_fits(metadata.declared_radiometry, array.dtype, array.shape[0]):
        used = metadata.declared_radiometry  # what the file says about itself comes before inference
    else:
        used = metadata.radiometry or infer_radiometry_of(array)
    if used == "complex" and array.dtype.kind != "c":
        array = _complex_from_iq(array)
    elif array.dtype.kind == "c" and used in ("db", "display"):
        raise SARDecodeError(f"{used!r} does not describe complex pixels; use 'complex'")
    kept = tuple(range(array.shape[0])) if bands is None else tuple(int(b) for b in bands)
    if not kept or any(not 0 <= b < array.shape[0] for b in kept):
        raise SARDecodeError(f"bands {list(kept)} do not exist: the image has {array.shape[0]} band(s)")
    band_stats = None
    if method == "standardize" and statistics is not None:  # standardize without statistics was refused above
        band_stats = _band_statistics(statistics, kept, array.shape[0])
    options = _BandOptions(
        method=method,
        percentiles=percentiles,
        db_range=db_range,
        nodata=metadata.nodata if nodata is None else nodata,
        percentile_method=percentile_method,
    )
    if len(kept) == 1:  # the band's own output, viewed as (1, H, W): no copy
        mean_db, std_db = band_stats[0] if band_stats else (None, None)
        band = array[kept[0]]
        # A float32 band decoded here, alone in its file, becomes its own output: no second buffer.
        in_place = array.shape[0] == 1 and band.dtype == np.float32 and not isinstance(data, np.ndarray)
        out = band if in_place and band.flags.c_contiguous else None
        band_pixels, band_valid = normalize_band(band, used, mean_db=mean_db, std_db=std_db, out=out, **options)
        return DecodedSAR(band_pixels[np.newaxis], band_valid[np.newaxis], used, kept, metadata)
    pixels = np.empty((len(kept), *array.shape[1:]), dtype=np.float32)
    valid = np.empty(pixels.shape, dtype=bool)
    for position, band in enumerate(kept):
        mean_db, std_db = band_stats[position] if band_stats else (None, None)
        band_out, valid_out = pixels[position], valid[position]
        normalize_band(array[band], used, mean_db=mean_db, std_db=std_db, out=band_out, valid_out=valid_out, **options)
    return DecodedSAR(pixels, valid, used, kept, metadata)


def decode_sar(
    data: SARInput,
    *,
    radiometry: Radiometry | None = None,
    bands: Sequence[int] | None = None,
    normalize: Normalization = "percentile",
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    db_range: Sequence[float] | None = None,
    statistics: Mapping[str, Any] | None = None,
    nodata: float | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    out: Output = "numpy",
    with_mask: bool = False,
    percentile_method: PercentileMethod = DEFAULT_PERCENTILE_METHOD,
) -> Any:
    """SAR pixels (GeoTIFF bytes, a path or an array) as float32 ``(bands, H, W)``, normalised per band.

    - ``radiometry``: amplitude, intensity, db, complex or display; None takes what the file declares
      (GDAL_METADATA item RADIOMETRY, or ``radiometry=`` in its ImageDescription), else infers it (see
      `sarlang1m.sar.radiometry.infer_radiometry`). ``complex`` on real pixels reads band pairs as I/Q.
    - ``normalize``: ``percentile`` (default: dB clipped to the ``percentiles`` of the band's valid
      pixels, scaled to [0, 1]); ``range`` with ``db_range=(lo, hi)`` (passing db_range selects it);
      ``standardize`` with ``statistics={"mean_db": [...], "std_db": [...]}`` per band of the file (the
      release's MANIFEST ``sar_statistics[source]``); ``none`` (dB values). Display pixels are x / 255.
    - Nodata (``nodata``, else the file's GDAL_NODATA), non-finite pixels and, when logged, zero or
      negative ones are 0 and excluded from statistics; a constant band gives zeros.
    - ``max_pixels``: samples (bands x H x W) allowed, checked on the header before decoding.
    - ``out``: ``numpy`` or ``torch``; ``with_mask=True`` returns ``(pixels, valid_mask)``.
    - ``percentile_method``: ``approximate`` (default: each stretch limit is certified to lie between
      the exact percentiles p -/+ 0.1) or ``exact`` (np.percentile's values); see docs/sar-decoding.md.

    Unreadable input raises `SARDecodeError`.
    """
    _check_out(out)
    decoded = decode_sar_detailed(
        data,
        radiometry=radiometry,
        bands=bands,
        normalize=normalize,
        percentiles=percentiles,
        db_range=db_range,
        statistics=statistics,
        nodata=nodata,
        max_pixels=max_pixels,
        percentile_method=percentile_method,
    )
    pixels, valid = _as_output(decoded, out)
    return (pixels, valid) if with_mask else pixels


def _check_out(out: str) -> Output:
    """``out`` itself if it is one of `OUTPUTS`, else a ValueError."""
    for known in OUTPUTS:
        if out == known:
            return known
    raise ValueError(f"out must be 'numpy' or 'torch', got {out!r}")


def _check_missing(missing: str) -> MissingBandPolicy:
    """``missing`` itself if it is one of `MISSING_BAND_POLICIES`, else a ValueError listing them."""
    for known in MISSING_BAND_POLICIES:
        if missing == known:
            return known
    raise ValueError(f"unknown missing-band policy {missing!r}; expected one of {MISSING_BAND_POLICIES}")


def _as_output(decoded: DecodedSAR, out: Output) -> tuple[Any, Any]:
    """Pixels and mask as numpy arrays, or as torch tensors sharing their memory."""
    if out == "torch":
        import torch

        return torch.from_numpy(decoded.pixels), torch.from_numpy(decoded.valid)
    return decoded.pixels, decoded.valid


def _copy(value: Any) -> Any:
    """An independent copy of an array or tensor (so that augmenting one example leaves the others intact)."""
    if hasattr(value, "clone"):  # torch
        return value.clone()
    return value.copy() if hasattr(value, "copy") else value


# --------------------------------------------------------------------------------------------------
# The dataset transform


def image_to_display_array(image: Any, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The ``image`` column (PIL image, or {"bytes", "path"} when not decoded) as one grey band (1, H, W).

    Colour images become luminance ("L"): SAR has no colour, and SARDet-100K stores grey as RGB
    JPEGs; 16-bit grey images stay 16-bit.
    """
    if isinstance(image, Mapping):
        source = image.get("bytes") or image.get("path")
        if source is None:
            raise SARDecodeError("the image column holds neither bytes nor a path")
        image = Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    if not isinstance(image, Image.Image):
        raise SARDecodeError(f"unexpected image value of type {type(image).__name__}")
    width, height = image.size
    if max_pixels is not None and width * height > max_pixels:
        raise SARDecodeError(f"image of {width}x{height} pixels exceeds the limit of {max_pixels}")
    if image.mode not in ("L", "I;16", "I;16B", "I;16L"):
        image = image.convert("L")
    array = np.asarray(image)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("="))
    return array[np.newaxis]


class SARDecode:
    """Dataset transform adding normalised SAR pixels to each example (see `OUTPUT_FIELDS`).

    Works on batches (``Dataset.with_transform`` / ``set_transform``, ``IterableDataset.map(batched=True)``)
    and on single examples. Per row: the original GeoTIFF is read from ``root`` (a release folder or
    ``hf://datasets/ORG/NAME@REV``) at the row's ``sar_path``, its SHA-256 checked against ``sar_sha256``
    (``check_sha256``); a batch fetches its distinct originals once each, ``fetch_workers`` at a time.
    The radiometry is ``radiometry`` if given, else the row's ``sar_radiometry``, else inferred;
    ``bands`` may name polarisations (looked up in the row's ``polarizations``) or give indices. A named
    polarisation the row does not list (a single-pol image whose polarisation was not recorded, the 8-bit
    fallback) follows ``missing``: ``first`` (default) takes the image's first band, ``zeros`` a zero band
    marked invalid, ``error`` raises; so the same ``bands`` give the same band count on every row of every
    config. ``statistics`` is the release's ``sar_statistics`` mapping {source: {"bands", "mean_db", "std_db"}}
    used for ``normalize="standardize"``. A row without an original falls back to its 8-bit ``image`` as
    ``display`` (``pixels_source == "image"``) unless ``fallback_to_image=False``. The ``image`` column
    is dropped from the output unless ``keep_inputs``. Picklable, so DataLoader workers can run it (each
    makes its own thread pool). Errors are `SARDecodeError` naming the row's ``image_id``.
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
    ) -> None:
        if radiometry is not None:
            check_radiometry(radiometry)
        self.method = resolve_normalization(normalize, db_range)
        if self.method == "standardize" and not statistics:
            raise ValueError("normalize='standardize' needs statistics={source: {'mean_db': [...], 'std_db': [...]}}")
        self.out = _check_out(out)
        self.missing = _check_missing(missing)
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

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        if not self._is_batch(batch):
            single = self({key: [value] for key, value in batch.items()})
            return {key: values[0] for key, values in single.items()}
        rows = [dict(zip(batch, values, strict=True)) for values in zip(*batch.values(), strict=True)]
        originals = self._fetch(rows)  # started for the whole batch; each decoded as soon as it arrives
        decoded: list[dict[str, Any]] = []
        by_original: dict[str, dict[str, Any]] = {}
        previous: dict[str, Any] | None = None
        for row in rows:
            path = row.get(PATH_COLUMN)
            if path is not None and path in by_original:  # another question on the same original: decode once
                decoded.append({k: _copy(v) for k, v in by_original[path].items()})
                continue
            if path is None and previous is not None and self._same_image(row, previous):
                decoded.append({k: _copy(v) for k, v in decoded[-1].items()})
                continue
            data = None if path is None else self._result(originals[path], rows)
            decoded.append(self.decode_row(row, data))
            if path is not None:
                by_original[path] = decoded[-1]
            previous = row
        output = {key: values for key, values in batch.items() if key not in self.consumed_columns}
        for field in OUTPUT_FIELDS:
            output[field] = [row[field] for row in decoded]
        return output

    def _fetch(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Future[bytes]]:
        """Start fetching the originals a batch names, each once (concurrently), by ``sar_path``."""
        wanted = [(r[PATH_COLUMN], r.get(SHA256_COLUMN), r.get(BYTES_COLUMN)) for r in rows if r.get(PATH_COLUMN)]
        if not wanted:
            return {}
        if self.reader is None:
            raise SARDecodeError(
                "rows name their original GeoTIFF by sar_path: pass root=<release folder or "
                "hf://datasets/ORG/NAME@REV> to SARDecode (sarlang1m.load does this for you)"
            )
        return self.reader.fetch(wanted)

    @staticmethod
    def _result(future: Future[bytes], rows: Sequence[Mapping[str, Any]]) -> bytes:
        """A fetched original, or its failure naming the batch's image ids."""
        try:
            return future.result()
        except SarlangError as error:
            image_ids = sorted({str(r.get("image_id")) for r in rows if r.get(PATH_COLUMN)})
            shown = ", ".join(image_ids[:3]) + (" ..." if len(image_ids) > 3 else "")
            raise type(error)(f"{error} (batch of image_id {shown})") from error

    def _same_image(self, row: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
        """Same image id and the same image bytes (compared, not trusted): its pixels can be reused."""
        if row.get("image_id") is None or row.get("image_id") != other.get("image_id"):
            return False
        return other.get(PATH_COLUMN) is None and row.get(self.image_column) == other.get(self.image_column)

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
            original = self._result(self._fetch([row])[row[PATH_COLUMN]], [row])
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
        plan = self._band_indices(row, source)
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
        )
        if plan is not None and None in plan:
            decoded = _with_zero_bands(decoded, plan)
        pixels, valid = _as_output(decoded, self.out)
        return {PIXELS_FIELD: pixels, VALID_FIELD: valid, RADIOMETRY_FIELD: decoded.radiometry, SOURCE_FIELD: source}

    def _band_indices(self, row: Mapping[str, Any], source: str = PIXELS_FROM_SAR) -> list[int | None] | None:
        """Index in the file of each requested band (None: a zero band); None keeps every band.

        The 8-bit fallback is one grey band of no known polarisation, whatever the row lists: a name, or
        an index other than 0, is missing there.
        """
        if self.bands is None:
            return None
        fallback = source != PIXELS_FROM_SAR
        polarizations = [] if fallback else list(row.get("polarizations") or [])
        indices: list[int | None] = []
        for band in self.bands:
            if not isinstance(band, str) and not (fallback and int(band) != 0):
                indices.append(int(band))
            elif band in polarizations:
                indices.append(polarizations.index(band))
            elif self.missing == "error":
                where = "the 8-bit fallback image (one grey band)" if fallback else f"this image's {polarizations}"
                raise SARDecodeError(
                    f"band {band!r} not in {where}; SARDecode(missing='first' or 'zeros') decodes such rows too"
                )
            else:
                indices.append(0 if self.missing == "first" else None)
        return indices

    def _statistics_for(self, row: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if self.method != "standardize":
            return None
        source = row.get("source")
        if self.statistics is None or source not in self.statistics:
            raise SARDecodeError(f"no dB statistics for source {source!r} (have {sorted(self.statistics or {})})")
        return self.statistics[source]

    def apply(self, dataset: Any, *, batch_size: int = 16) -> Any:
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
            return dataset.map(self, batched=True, batch_size=batch_size, remove_columns=removed or None)
        return dataset.with_transform(self)
