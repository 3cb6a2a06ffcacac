"""The two stretch limits of a band, in dB: certified (``approximate``, the default) or ``exact``.

- ``approximate``: a histogram of the top 16 bits of a strided sample's float32 pattern proposes a
  threshold, and one exact count of the band's pixels at or below it certifies that it lies between
  the exact percentiles p - 0.1 and p + 0.1 (`APPROXIMATE_TOLERANCE`). A threshold that is not
  certified is corrected from the count (a secant step), and after a few tries the exact way runs: only
  the time depends on the data, never the guarantee. About two passes over the band in all.
- ``exact``: np.percentile's 'linear' rule itself (`sarlang1m.sar.selection`), interpolated between
  neighbouring order statistics in dB, as the reference does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np

from . import selection
from .bands import LinearBand, Validity
from .radiometry import PixelScalar
from .selection import SortedSample, order_statistics

DEFAULT_PERCENTILES = (2.0, 98.0)
#: How the percentiles of the stretch are found: ``approximate`` (certified within
#: `APPROXIMATE_TOLERANCE`, the default) or ``exact`` (np.percentile's value).
PercentileMethod = Literal["approximate", "exact"]
PERCENTILE_METHODS: tuple[PercentileMethod, ...] = get_args(PercentileMethod)
DEFAULT_PERCENTILE_METHOD: PercentileMethod = "approximate"
#: The guarantee of ``approximate``, in percentile points: the stretch limit asked as percentile p is a
#: value between the exact percentiles p - 0.1 and p + 0.1 of the band's valid pixels (clamped to 0-100).
APPROXIMATE_TOLERANCE = 0.1
#: Counts tried per percentile before ``approximate`` falls back to exact selection.
_MAX_PROBES = 6


def check_percentiles(percentiles: Sequence[float]) -> tuple[float, float]:
    """The pair (low, high) if 0 <= low < high <= 100, else a ValueError."""
    low, high = (float(p) for p in percentiles)
    if not 0.0 <= low < high <= 100.0:
        raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100, got {tuple(percentiles)}")
    return low, high


def check_percentile_method(method: str) -> PercentileMethod:
    """The method itself if it is one of `PERCENTILE_METHODS`, else a ValueError listing them."""
    for known in PERCENTILE_METHODS:
        if method == known:
            return known
    raise ValueError(f"unknown percentile_method {method!r}; expected one of {PERCENTILE_METHODS}")


def _previous_value(value: PixelScalar) -> PixelScalar | None:
    """The largest value of the pixel type below ``value`` (None below the smallest integer)."""
    if value.dtype.kind == "f":
        return np.nextafter(value, -np.inf)  # a Python float is weak: the result keeps the pixel type
    if value == np.iinfo(value.dtype.name).min:
        return None
    return value.dtype.type(int(value) - 1)


def _count_at_most(values: np.ndarray, threshold: PixelScalar, valid: Validity, buffer: np.ndarray) -> int:
    """Valid pixels at or below ``threshold``: one comparison pass and a count."""
    np.less_equal(values, threshold, out=buffer)
    return int(np.count_nonzero(buffer)) - valid.invalid_at_most(threshold)


def certified_percentile(
    values: np.ndarray, valid: Validity, sample: SortedSample, percentile: float, buffer: np.ndarray
) -> PixelScalar | None:
    """A value between the exact percentiles ``percentile`` -/+ `APPROXIMATE_TOLERANCE` of the valid
    values, or None when `_MAX_PROBES` counts did not find one (the caller then selects exactly).

    With sorted valid values x, a threshold t having c = #(x <= t) satisfies x[c - 1] <= t < x[c]; so
    ``first < c <= last`` certifies x[first] <= t <= x[last], where x[first] and x[last] are the order
    statistics just inside the two tolerance percentiles. Thresholds are sampled values at the rank the
    sample predicts, corrected by the exact count of the previous try. When one value fills the whole
    window (ties: integers, quantised floats), the value just below it counts too few and the value
    itself too many: it is then the answer, exactly.
    """
    n = valid.count
    position, spread = percentile / 100.0 * (n - 1), APPROXIMATE_TOLERANCE / 100.0 * (n - 1)
    slack = 1e-9 * n  # float rounding of the positions may only narrow the window
    first = max(0, math.ceil(position - spread + slack))
    last = min(n - 1, math.floor(position + spread - slack))
    if last <= first or not sample.size:
        return None
    goal, size = (first + 1 + last) / 2.0, sample.size
    rank = round(goal * size / n) - 1
    low_rank, high_rank = -1, size  # sample ranks known to count too few / too many (exclusive)
    too_few: PixelScalar | None = None
    too_many: PixelScalar | None = None
    threshold: PixelScalar | None
    for _ in range(_MAX_PROBES):
        if low_rank + 1 < high_rank:
            rank = min(max(rank, low_rank + 1), high_rank - 1)
            threshold = sample[rank]
        elif too_many is not None:  # no sampled value left between: try the value just below
            threshold = _previous_value(too_many)
            if threshold is None or (too_few is not None and threshold <= too_few):
                return too_many
        else:
            return None
        count = _count_at_most(values, threshold, valid, buffer)
        if first < count <= last:
            return threshold
        if count <= first:
            too_few, low_rank = threshold, sample.count_at_most(threshold) - 1
        else:
            too_many, high_rank = threshold, sample.count_below(threshold)
        rank += round((goal - count) * size / n)  # the sample's density stands in for the band's
    return None


def percentile_bounds_db(
    band: LinearBand,
    percentiles: Sequence[float],
    valid: Validity | None = None,
    method: PercentileMethod = DEFAULT_PERCENTILE_METHOD,
) -> tuple[float, float] | None:
    """The two percentiles, in dB, of the valid pixels; None if there is none.

    ``exact``: np.percentile's 'linear' rule, located on the linear values (the dB map is monotone) and
    interpolated in dB as the reference does. ``approximate``: a value between the exact percentiles
    p -/+ `APPROXIMATE_TOLERANCE` (`certified_percentile`); bands small enough for exact selection
    (`selection.sampled_exactly`), and percentiles not certified within a few counts, are computed exactly.
    """
    valid = valid or Validity(None, None, None, band.values.size)
    if valid.count == 0:
        return None
    wanted = check_percentiles(percentiles)
    bounds: dict[float, float] = {}
    sample = None
    if check_percentile_method(method) == "approximate" and not selection.sampled_exactly(band.values.size):
        sample = SortedSample(band.values, valid)
        buffer = np.empty(band.values.shape, dtype=bool)
        for percentile in wanted:
            threshold = certified_percentile(band.values, valid, sample, percentile, buffer)
            if threshold is not None:
                bounds[percentile] = band.db(threshold)
    missing = [percentile for percentile in wanted if percentile not in bounds]
    if missing:
        bounds.update(_exact_percentiles_db(band, missing, valid, sample))
    return bounds[wanted[0]], bounds[wanted[1]]


def _exact_percentiles_db(
    band: LinearBand, percentiles: list[float], valid: Validity, sample: SortedSample | None
) -> dict[float, float]:
    """np.percentile's values, in dB: neighbouring order statistics, interpolated in dB."""
    count = valid.count
    positions = [q / 100.0 * (count - 1) for q in percentiles]
    neighbours = [(math.floor(p), min(math.floor(p) + 1, count - 1)) for p in positions]
    ranks = sorted({rank for pair in neighbours for rank in pair})
    stats = dict(zip(ranks, order_statistics(band.values, ranks, valid, sample).tolist(), strict=True))
    bounds = {}
    for percentile, position, (below, above) in zip(percentiles, positions, neighbours, strict=True):
        low_db, high_db = band.db(stats[below]), band.db(stats[above])
        bounds[percentile] = low_db + (position - below) * (high_db - low_db)
    return bounds
