"""One image's bytes (or array) to normalised float32 bands: `decode_sar_detailed`.

numpy and tifffile only, like the rest of `sarlang1m.sar`: it decides the radiometry (what the caller
says, else what the file declares, else inference from the pixels), keeps the requested bands and runs
`normalize_band` on each, writing into one output buffer. `sarlang1m.decode` wraps it for users
(``decode_sar``, torch output) and for `datasets` (``SARDecode``); it lives here so that the
GeoTIFF-to-pixels step reads apart from the dataset plumbing, and runs in any thread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from ..schema import Radiometry
from .geotiff import (
    DEFAULT_MAX_PIXELS,
    ExpectedImage,
    SARDecodeError,
    SARInput,
    SARMetadata,
    infer_radiometry_of,
    read_geotiff,
)
from .normalize import NORMALIZATIONS, Normalization, normalize_band
from .percentiles import (
    DEFAULT_PERCENTILE_METHOD,
    DEFAULT_PERCENTILES,
    PercentileMethod,
    check_percentile_method,
    check_percentiles,
)
from .radiometry import check_radiometry, radiometry_fits


@dataclass(frozen=True)
class DecodedSAR:
    """Normalised pixels of one image and how they were obtained."""

    pixels: np.ndarray
    valid: np.ndarray
    radiometry: str
    #: Indices, in the file, of the bands kept.
    bands: tuple[int, ...]
    metadata: SARMetadata


def with_zero_bands(decoded: DecodedSAR, plan: Sequence[int | None]) -> DecodedSAR:
    """``decoded`` (the plan's present bands, in order) with a zero, invalid band wherever the plan has None."""
    height, width = decoded.pixels.shape[-2:]
    pixels = np.zeros((len(plan), height, width), dtype=np.float32)
    valid = np.zeros(pixels.shape, dtype=bool)
    present = [position for position, band in enumerate(plan) if band is not None]
    pixels[present], valid[present] = decoded.pixels[: len(present)], decoded.valid[: len(present)]
    kept = tuple(band for band in plan if band is not None)
    return DecodedSAR(pixels, valid, decoded.radiometry, kept, decoded.metadata)


def check_normalization(normalize: str) -> Normalization:
    """The normalisation itself if it is one of `NORMALIZATIONS`, else a ValueError listing them."""
    for known in NORMALIZATIONS:
        if normalize == known:
            return known
    raise ValueError(f"unknown normalisation {normalize!r}; expected one of {NORMALIZATIONS}")


def resolve_normalization(normalize: str, db_range: Sequence[float] | None) -> Normalization:
    """The normalisation to run: passing ``db_range`` selects ``range`` unless another one is named."""
    method = check_normalization(normalize)
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


def _radiometry_used(
    array: np.ndarray, metadata: SARMetadata, radiometry: Radiometry | None
) -> tuple[np.ndarray, Radiometry]:
    """The radiometry to decode with (the caller's, else the file's own if it fits, else inferred), and
    the pixels it applies to (I/Q band pairs become complex bands)."""
    used: Radiometry
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
    return array, used


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
    expected: ExpectedImage | None = None,
) -> DecodedSAR:
    """`sarlang1m.decode.decode_sar` returning pixels, mask, radiometry used, kept bands and the file's header.

    ``expected``: what the row naming the file says about it, checked on the header before decoding.
    """
    method = resolve_normalization(normalize, db_range)
    check_percentiles(percentiles)
    check_percentile_method(percentile_method)
    if method == "standardize" and statistics is None:
        raise ValueError("normalize='standardize' needs statistics={'mean_db': [...], 'std_db': [...]}")
    array, metadata = read_geotiff(data, max_pixels=max_pixels, expected=expected)
    array, used = _radiometry_used(array, metadata, radiometry)
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
    # A float32 band decoded here, alone in its file, becomes its own output: no second buffer.
    own_buffer = array.shape[0] == 1 and not isinstance(data, np.ndarray)
    pixels, valid = _normalize_bands(array, used, kept, band_stats, options, own_buffer=own_buffer)
    return DecodedSAR(pixels, valid, used, kept, metadata)


def _normalize_bands(
    array: np.ndarray,
    radiometry: Radiometry,
    kept: tuple[int, ...],
    band_stats: list[tuple[float, float]] | None,
    options: _BandOptions,
    *,
    own_buffer: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The kept bands normalised into one (bands, H, W) float32 array and its mask.

    One band is its own output, viewed as (1, H, W); ``own_buffer`` (the array was decoded for this call
    and holds that band alone) lets a contiguous float32 band be overwritten by its output.
    """
    if len(kept) == 1:
        mean_db, std_db = band_stats[0] if band_stats else (None, None)
        band = array[kept[0]]
        in_place = own_buffer and band.dtype == np.float32 and band.flags.c_contiguous
        band_pixels, band_valid = normalize_band(
            band, radiometry, mean_db=mean_db, std_db=std_db, out=band if in_place else None, **options
        )
        return band_pixels[np.newaxis], band_valid[np.newaxis]
    pixels = np.empty((len(kept), *array.shape[1:]), dtype=np.float32)
    valid = np.empty(pixels.shape, dtype=bool)
    for position, band_index in enumerate(kept):
        mean_db, std_db = band_stats[position] if band_stats else (None, None)
        normalize_band(
            array[band_index],
            radiometry,
            mean_db=mean_db,
            std_db=std_db,
            out=pixels[position],
            valid_out=valid[position],
            **options,
        )
    return pixels, valid
