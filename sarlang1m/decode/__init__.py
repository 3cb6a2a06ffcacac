"""Decode SAR pixels for training: `decode_sar` for one image, `SARDecode` for a `datasets` dataset.

`sarlang1m.sar` knows GeoTIFFs and numpy only (`sarlang1m.sar.pixels` turns one image into normalised
bands); this module is its bridge to `datasets`: it reads the release's columns (``sar_path``,
``sar_sha256``, ``sar_radiometry``, ``polarizations``, ``source``, ``image``), fetches and decodes the
originals a batch names on worker threads (each once, results in row order), falls back to the 8-bit
``image`` where a row has no original GeoTIFF (SARDet-100K), and names the row's ``image_id`` in every
error.

Parts: `outputs` (the fields added, numpy or torch), `transform` (`SARDecode`, its worker threads),
`rows` (the per-row rules: shared decodes, band plans, the fallback). This module holds `decode_sar`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..sar.geotiff import DEFAULT_MAX_PIXELS, SARDecodeError, SARInput
from ..sar.normalize import DEFAULT_PERCENTILE_METHOD, DEFAULT_PERCENTILES, Normalization, PercentileMethod
from ..sar.pixels import DecodedSAR, decode_sar_detailed, resolve_normalization
from ..schema import Radiometry
from .outputs import (
    OUTPUT_FIELDS,
    OUTPUTS,
    PIXELS_FIELD,
    RADIOMETRY_FIELD,
    SOURCE_FIELD,
    VALID_FIELD,
    Output,
    as_output,
    check_out,
)
from .rows import (
    BYTES_COLUMN,
    MISSING_BAND_POLICIES,
    PATH_COLUMN,
    PIXELS_FROM_IMAGE,
    PIXELS_FROM_SAR,
    SHA256_COLUMN,
    MissingBandPolicy,
    image_to_display_array,
)
from .transform import STREAMING_BATCH_ROWS, SARDecode, default_decode_threads

__all__ = [
    "BYTES_COLUMN",
    "MISSING_BAND_POLICIES",
    "OUTPUTS",
    "OUTPUT_FIELDS",
    "PATH_COLUMN",
    "PIXELS_FIELD",
    "PIXELS_FROM_IMAGE",
    "PIXELS_FROM_SAR",
    "RADIOMETRY_FIELD",
    "SHA256_COLUMN",
    "SOURCE_FIELD",
    "STREAMING_BATCH_ROWS",
    "VALID_FIELD",
    "DecodedSAR",
    "MissingBandPolicy",
    "Output",
    "SARDecode",
    "SARDecodeError",
    "decode_sar",
    "decode_sar_detailed",
    "default_decode_threads",
    "image_to_display_array",
    "resolve_normalization",
]


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
    - ``max_pixels``: samples (bands x H x W) allowed, checked on the header before decoding; beyond
      2**22 samples no codec may expand its stored bytes more than 256 times (a decompression bomb).
      None trusts the file: neither limit applies.
    - ``out``: ``numpy`` or ``torch``; ``with_mask=True`` returns ``(pixels, valid_mask)``.
    - ``percentile_method``: ``approximate`` (default: each stretch limit is certified to lie between
      the exact percentiles p -/+ 0.1) or ``exact`` (np.percentile's values); see docs/sar-decoding.md.

    Unreadable input raises `SARDecodeError`.
    """
    check_out(out)
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
    pixels, valid = as_output(decoded, out)
    return (pixels, valid) if with_mask else pixels
