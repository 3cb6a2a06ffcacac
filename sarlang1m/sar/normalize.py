"""Per-band normalisation of SAR pixels in dB: percentile stretch, fixed dB range or standardisation.

`normalize_band` is the one entry point; its steps live in sibling modules, each with one job:

- `sarlang1m.sar.bands`: the band as flat values monotone in dB, and which pixels are valid;
- `sarlang1m.sar.percentiles`: the stretch limits, certified (``approximate``, the default) or ``exact``,
  located on the *linear* values (the dB map is monotone, so order statistics commute with it);
- `sarlang1m.sar.selection`: exact order statistics without sorting the band;
- `sarlang1m.sar.scale`: the output pass (a log10 pass with the dB factor and the scaling folded into
  constants, and a clip).

The names of those modules that callers used from here are re-exported, so ``from
sarlang1m.sar.normalize import ...`` keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np

from ..schema import Radiometry
from .bands import LinearBand, Validity, linear_band, validity
from .percentiles import (
    APPROXIMATE_TOLERANCE,
    DEFAULT_PERCENTILE_METHOD,
    DEFAULT_PERCENTILES,
    PERCENTILE_METHODS,
    PercentileMethod,
    certified_percentile,
    check_percentile_method,
    check_percentiles,
    percentile_bounds_db,
)
from .radiometry import display_scale
from .scale import BandScale, apply_scale, scale_from_db
from .selection import SortedSample, order_statistics

__all__ = [
    "APPROXIMATE_TOLERANCE",
    "DEFAULT_PERCENTILES",
    "DEFAULT_PERCENTILE_METHOD",
    "NORMALIZATIONS",
    "PERCENTILE_METHODS",
    "BandScale",
    "LinearBand",
    "Normalization",
    "PercentileMethod",
    "SortedSample",
    "Validity",
    "apply_scale",
    "certified_percentile",
    "check_percentile_method",
    "check_percentiles",
    "linear_band",
    "normalize_band",
    "order_statistics",
    "percentile_bounds_db",
    "scale_from_db",
    "validity",
]

#: Normalisations: ``percentile`` (per-band stretch to [0, 1]), ``range`` (fixed dB range to [0, 1]),
#: ``standardize`` ((dB - mean) / std, unbounded), ``none`` (dB values themselves).
Normalization = Literal["percentile", "range", "standardize", "none"]
NORMALIZATIONS: tuple[Normalization, ...] = get_args(Normalization)


def normalize_band(
    band: np.ndarray,
    radiometry: Radiometry,
    *,
    method: Normalization = "percentile",
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    db_range: Sequence[float] | None = None,
    mean_db: float | None = None,
    std_db: float | None = None,
    nodata: float | None = None,
    out: np.ndarray | None = None,
    valid_out: np.ndarray | None = None,
    percentile_method: PercentileMethod = DEFAULT_PERCENTILE_METHOD,
) -> tuple[np.ndarray, np.ndarray]:
    """One band (H, W) of any SAR pixel type -> float32 (H, W) and its valid-pixel mask.

    ``display`` pixels are already stretched: they become value / 255 (65535 for 16-bit) whatever the
    method. Invalid pixels (non-finite, nodata, and for logged radiometries zero or negative) are 0 in
    the output, False in the mask and excluded from the percentiles. A constant band gives zeros, never
    NaN. ``out`` / ``valid_out``: contiguous float32 / bool (H, W) arrays to fill instead of new ones;
    ``out`` may be a float32 ``band`` itself, which is then overwritten (one buffer instead of two).
    ``percentile_method``: ``approximate`` (each stretch limit certified to lie between the exact
    percentiles p -/+ `APPROXIMATE_TOLERANCE`) or ``exact`` (np.percentile's values).
    """
    if method not in NORMALIZATIONS:
        raise ValueError(f"unknown normalisation {method!r}; expected one of {NORMALIZATIONS}")
    check_percentile_method(percentile_method)
    linear = linear_band(band, radiometry)
    valid = validity(linear, nodata)
    mask = valid.mask
    if radiometry == "display":
        scale = BandScale(0.0, 1.0 / display_scale(band.dtype), clip=True)
    elif method == "percentile":
        bounds = percentile_bounds_db(linear, percentiles, valid, percentile_method)
        scale = scale_from_db(*bounds) if bounds else BandScale(0.0, 0.0, clip=True)
    elif method == "range":
        if db_range is None or len(db_range) != 2:
            raise ValueError(f"normalisation 'range' needs db_range=(low_db, high_db), got {db_range!r}")
        scale = scale_from_db(float(db_range[0]), float(db_range[1]))
    elif method == "standardize":
        if mean_db is None or std_db is None or not std_db > 0:
            raise ValueError(
                f"normalisation 'standardize' needs mean_db and a positive std_db, got {mean_db}, {std_db}"
            )
        scale = BandScale(mean_db, 1.0 / std_db, clip=False)
    else:
        scale = BandScale(0.0, 1.0, clip=False)
    pixels = apply_scale(linear, scale, mask, None if out is None else out.reshape(-1))
    if valid_out is None:
        valid_out = np.ones(band.shape, dtype=bool) if mask is None else mask.reshape(band.shape)
    elif mask is None:
        valid_out.fill(True)
    else:
        valid_out[...] = mask.reshape(band.shape)
    return pixels.reshape(band.shape), valid_out
