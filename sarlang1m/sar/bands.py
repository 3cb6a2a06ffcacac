"""A band as flat values that are monotone in dB, and which of its pixels have a dB value.

Every normalisation starts here: percentiles are located on these linear values (the dB map is
monotone, so order statistics commute with it) and the output pass reads them once. Kept apart from
the selection and the output so that each of those reads as its own step of `normalize_band`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..schema import Radiometry
from .radiometry import DB_FACTOR, PixelScalar, check_radiometry, nodata_in_type


@dataclass(frozen=True)
class LinearBand:
    """A band as flat values that are monotone in dB: ``dB = factor * log10(value)``, or the value
    itself when ``factor`` is None (dB and display pixels)."""

    values: np.ndarray
    factor: float | None

    def db(self, value: float | PixelScalar) -> float:
        return float(value) if self.factor is None else self.factor * math.log10(value)


def linear_band(band: np.ndarray, radiometry: Radiometry) -> LinearBand:
    """The band as flat contiguous real values monotone in dB (complex pixels: |z|, as 20 log10 |z|).

    |z| rather than |z|^2 because ``np.abs`` is one fast pass and cannot overflow; the band is copied
    only when it is not contiguous (a band of an interleaved file).
    """
    check_radiometry(radiometry)
    if band.dtype.kind == "c":
        if radiometry in ("db", "display"):
            raise ValueError(f"complex pixels cannot have radiometry {radiometry!r}")
        return LinearBand(np.abs(band).ravel(), DB_FACTOR["amplitude"])
    if radiometry == "complex":
        raise ValueError("radiometry 'complex' needs complex pixels")
    return LinearBand(np.ascontiguousarray(band).ravel(), DB_FACTOR.get(radiometry))


@dataclass(frozen=True)
class Validity:
    """Which pixels have a dB value: ``low < value < +inf`` and ``value != nodata`` (NaN never).

    Invalid pixels are excluded from the percentiles without compacting the valid ones: those at or
    below ``low`` sort before every valid value and are subtracted from the counts, and the few values
    collected around an order statistic are filtered with `is_valid`.
    """

    #: In the pixel type: 0 for logged radiometries, -inf for floats in dB, None for integers in dB.
    low: PixelScalar | None
    nodata: PixelScalar | None
    #: None when every pixel is valid.
    mask: np.ndarray | None
    count: int
    #: Invalid pixels at or below ``low`` (zero or negative amplitudes, -inf).
    below_low: int = 0
    nodata_count: int = 0

    def is_valid(self, values: np.ndarray) -> np.ndarray:
        checks = [np.isfinite(values)] if values.dtype.kind == "f" else []
        if self.low is not None:
            checks.append(values > self.low)
        if self.nodata is not None:
            checks.append(values != self.nodata)
        if not checks:
            return np.ones(values.shape, dtype=bool)
        valid = checks[0]
        for check in checks[1:]:
            valid &= check
        return valid

    def invalid_below(self, threshold: PixelScalar) -> int:
        """Invalid pixels smaller than a valid ``threshold`` (NaN is never smaller than anything)."""
        if self.nodata is None or (self.low is not None and self.nodata <= self.low):
            return self.below_low  # nodata at or below ``low`` is already counted there
        return self.below_low + (self.nodata_count if self.nodata < threshold else 0)

    def invalid_at_most(self, threshold: PixelScalar) -> int:
        """Invalid pixels at or below a ``threshold`` above ``low`` (NaN is never at or below anything)."""
        if self.nodata is None or (self.low is not None and self.nodata <= self.low):
            return self.below_low
        return self.below_low + (self.nodata_count if self.nodata <= threshold else 0)


def validity(band: LinearBand, nodata: float | None) -> Validity:
    """The valid pixels of a band (finite, positive if logged, not nodata).

    A min/max pass decides the common case (every pixel valid) without building a mask; NaN poisons
    both, so any NaN is caught there too. Comparisons use scalars of the pixel type: a Python float
    would make numpy convert every integer pixel to float64 first.
    """
    values = band.values
    floating = values.dtype.kind == "f"
    if band.factor is not None:
        low = values.dtype.type(0)
    else:
        low = values.dtype.type(-np.inf) if floating else None
    nodata_value = nodata_in_type(values.dtype, nodata)
    nodata_count = int(np.count_nonzero(values == nodata_value)) if nodata_value is not None else 0
    if not nodata_count and (low is None or values.min() > low) and (not floating or values.max() < np.inf):
        return Validity(low, None, None, values.size)
    valid = Validity(low, nodata_value if nodata_count else None, None, 0, nodata_count=nodata_count)
    mask = valid.is_valid(values)
    count = int(np.count_nonzero(mask))
    if low is None:
        below_low = 0
    elif not floating:  # integers: every invalid pixel is at or below ``low``, or nodata above it
        below_low = values.size - count - (nodata_count if valid.nodata is not None and valid.nodata > low else 0)
    else:
        below_low = int(np.count_nonzero(values <= low))
    return Validity(low, valid.nodata, mask, count, below_low=below_low, nodata_count=nodata_count)
