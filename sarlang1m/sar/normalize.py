"""Per-band normalisation of SAR pixels in dB: percentile stretch, fixed dB range or standardisation.

The usual way (log10 every pixel, then np.percentile) spends most of its time in a sort-like selection
over every pixel. Here the percentiles are located on the *linear* values: the dB map is monotone, so
order statistics commute with it. Two ways, chosen by ``percentile_method``:

- ``approximate`` (default): a histogram of the top 16 bits of a strided sample's float32 pattern
  proposes a threshold, and one exact count of the band's pixels at or below it certifies that it lies
  between the exact percentiles p - 0.1 and p + 0.1 (`APPROXIMATE_TOLERANCE`). A threshold that is not
  certified is corrected from the count (a secant step), and after a few tries the exact way runs: only
  the time depends on the data, never the guarantee. About two passes over the band in all.
- ``exact``: np.percentile's 'linear' rule itself. 8-bit integers are counted (``np.bincount``); other
  types are bracketed from the same sample, one pass counts the pixels below each bracket and collects
  the few inside, and a bracket that misses falls back to a full partition. The interpolation between
  neighbouring order statistics is done in dB, as the reference does.

Then a log2 pass, with the dB factor and the scaling folded into constants, and a clip write the output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from ..schema import Radiometry
from .radiometry import DB_FACTOR, PixelScalar, check_radiometry, display_scale, nodata_in_type

#: Normalisations: ``percentile`` (per-band stretch to [0, 1]), ``range`` (fixed dB range to [0, 1]),
#: ``standardize`` ((dB - mean) / std, unbounded), ``none`` (dB values themselves).
Normalization = Literal["percentile", "range", "standardize", "none"]
NORMALIZATIONS: tuple[Normalization, ...] = get_args(Normalization)
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

#: Pixels in the strided sample used to bracket each order statistic.
_SAMPLE_SIZE = 65_536
#: Consecutive pixels the sample takes at a time from positive float32 bands (64 bytes: a cache line).
_SAMPLE_RUN = 16
#: Half-width of a bracket in standard deviations of the sample rank (plus a few samples for ties):
#: a 4.5-sigma bracket misses about once in 10^5 brackets (Gaussian approximation of the sample rank),
#: which then costs one full partition.
_BRACKET_SIGMAS = 4.5
_BRACKET_SLACK = 4
_FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Powers of ten a float holds as normal numbers, with a margin: 10^±37 in float32, 10^±307 in float64.
_FLOAT32_DECADES, _FLOAT64_DECADES = 37, 307


@dataclass(frozen=True)
class BandScale:
    """``out = (dB(value) - origin_db) * slope``, clipped to [0, 1] when ``clip``.

    Subtracting the origin before scaling (as a ratio inside the log for logged radiometries) keeps
    float32 exact to ~1e-7 of the output even when the dB range is narrow and far from 0; the form
    ``dB * slope + offset`` would cancel two large float32 numbers.
    """

    origin_db: float
    slope: float
    clip: bool


@dataclass(frozen=True)
class LinearBand:
    """A band as flat values that are monotone in dB: ``dB = factor * log10(value)``, or the value
    itself when ``factor`` is None (dB and display pixels)."""

    values: np.ndarray
    factor: float | None

    def db(self, value: float | PixelScalar) -> float:
        return float(value) if self.factor is None else self.factor * math.log10(value)


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


class SortedSample:
    """Order statistics of a strided sample of a band's valid values, sorting only the bins asked for.

    A histogram (``np.bincount``) of the top 16 bits of each sampled value's float32 pattern, made
    order-preserving, finds the bin that holds a rank; only the sampled values of that bin are sorted
    (a bin is ~0.8% wide in value, so it holds few). Sorting the whole sample would cost about as much
    as the passes over the band that it saves. The step is odd, so that the sample does not fall on the
    same columns of every row of a power-of-two-wide image.
    """

    def __init__(self, values: np.ndarray, valid: Validity) -> None:
        step = max(1, values.size // _SAMPLE_SIZE) | 1
        sample = values[::step]
        positive = valid.low is not None and bool(valid.low >= 0)
        if valid.mask is None and positive and values.dtype == np.float32 and values.flags.c_contiguous:
            # Positive native float32: runs of 16 pixels (one cache line) every 17 x 16, so that a
            # sixteenth of the band is read; the keys are the high halves of their patterns.
            run, stride = _SAMPLE_RUN, _SAMPLE_RUN * step
            sample = values[: values.size // stride * stride].reshape(-1, stride)[:, :run].reshape(-1)
            high_half = 1 if np.little_endian else 0
            keys = sample.view(np.uint16)[high_half::2].copy()
        else:
            if valid.mask is not None:
                sample = sample[valid.is_valid(sample)]
            keys = _order_keys(sample, positive=positive)
            if keys.size:
                keys -= keys.min()
        self.values = sample
        self.size = int(sample.size)
        self._keys = keys
        self._ends = np.cumsum(np.bincount(keys)) if self.size else np.zeros(1, dtype=np.int64)
        self._sorted_bins: dict[int, np.ndarray] = {}

    def __getitem__(self, rank: int) -> PixelScalar:
        """The sampled value of this rank (0 = smallest), as ``np.sort(sample)[rank]``."""
        if not 0 <= rank < self.size:
            raise IndexError(f"rank {rank} outside a sample of {self.size}")
        index = int(np.searchsorted(self._ends, rank, side="right"))
        members = self._sorted_bins.get(index)
        if members is None:
            members = self._sorted_bins[index] = np.sort(self.values[self._keys == index])
        return members[rank - (int(self._ends[index - 1]) if index else 0)]

    def count_at_most(self, threshold: PixelScalar) -> int:
        return int(np.count_nonzero(self.values <= threshold))

    def count_below(self, threshold: PixelScalar) -> int:
        return int(np.count_nonzero(self.values < threshold))


def _order_keys(values: np.ndarray, *, positive: bool = False) -> np.ndarray:
    """The top 16 bits of the values' float32 patterns, flipped so that integer order is value order.

    Positive floats keep their pattern with the sign bit set, negative ones are inverted (the usual
    radix-sort mapping); ``positive=True`` (no value below 0) skips the mapping. The float32 rounding of
    wider types is monotone, so bins stay ranges of values.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        bits = values.astype(np.float32).view(np.uint32)
    if positive:
        return bits >> np.uint32(16)
    flip = (bits >> np.uint32(31)) * np.uint32(0x7FFFFFFF) + np.uint32(0x80000000)
    return (bits ^ flip) >> np.uint32(16)


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


def order_statistics(
    values: np.ndarray, ranks: Sequence[int], valid: Validity | None = None, sample: SortedSample | None = None
) -> np.ndarray:
    """``np.sort(values[valid.mask])[ranks]`` for 1-D values, without sorting them.

    8-bit integers are counted, exact whatever the ties. Otherwise each run of neighbouring ranks is
    bracketed by values of a strided sample (`SortedSample`), wide enough to hold it almost surely; one
    pass counts the values below each bracket and collects those inside, which are few. A bracket that
    does not hold its ranks (the check is exact) falls back to ``np.partition``: only the time depends on
    the data, never the result.
    """
    ranks = [int(r) for r in ranks]
    valid = valid or Validity(None, None, None, values.size)
    if values.dtype.kind in "ui" and values.dtype.itemsize == 1:
        return _order_statistics_by_counting(values, ranks, valid)
    if values.size <= 2 * _SAMPLE_SIZE:
        return _partition_valid(values, ranks, valid)
    sample = sample or SortedSample(values, valid)
    if sample.size < _SAMPLE_SIZE // 4:
        return _partition_valid(values, ranks, valid)
    brackets = [_sample_bracket(sample, group, valid.count) for group in _adjacent_groups(ranks)]
    belows, selected = _select_brackets(values, [(lower, upper) for _, lower, upper in brackets], valid)
    found: dict[int, PixelScalar] = {}
    for (group, lower, upper), below in zip(brackets, belows, strict=True):
        inside = selected
        if lower is not None:
            inside = inside[inside >= lower]
        if upper is not None:
            inside = inside[inside <= upper]
        if below <= group[0] and group[-1] < below + inside.size:
            offsets = [r - below for r in group]
            picked = np.partition(inside, offsets)[offsets]
        else:
            picked = _partition_valid(values, group, valid)
        found.update(zip(group, picked, strict=True))
    return np.array([found[r] for r in ranks], dtype=values.dtype)


def _partition_valid(values: np.ndarray, ranks: list[int], valid: Validity) -> np.ndarray:
    """The slow, obviously right way: compact the valid values and partition them."""
    compact = values if valid.mask is None else values[valid.mask]
    return np.partition(compact, ranks)[ranks]


def _order_statistics_by_counting(values: np.ndarray, ranks: list[int], valid: Validity) -> np.ndarray:
    """Order statistics of 8-bit integers from a histogram; signed values are shifted order-preservingly."""
    codes = values.view(np.uint8)
    sign_flip = 128 if values.dtype.kind == "i" else 0
    if sign_flip:
        codes = codes ^ np.uint8(sign_flip)
    counts = np.bincount(codes, minlength=256)
    if valid.mask is not None:
        levels = (np.arange(256) - sign_flip).astype(values.dtype)
        counts[~valid.is_valid(levels)] = 0
    codes_at_ranks = np.searchsorted(np.cumsum(counts), np.asarray(ranks), side="right")
    return (codes_at_ranks.astype(np.int64) - sign_flip).astype(values.dtype)


def _adjacent_groups(ranks: list[int]) -> list[list[int]]:
    """Ranks split into runs of neighbours (one bracket serves r and r + 1)."""
    groups: list[list[int]] = []
    for rank in sorted(set(ranks)):
        if groups and rank - groups[-1][-1] <= 1:
            groups[-1].append(rank)
        else:
            groups.append([rank])
    return groups


def _sample_bracket(
    sample: SortedSample, group: list[int], size: int
) -> tuple[list[int], PixelScalar | None, PixelScalar | None]:
    """Sample values around where ranks ``group`` of ``size`` values should fall (None: unbounded)."""
    fraction = group[0] / (size - 1)
    last = sample.size - 1
    half_width = _BRACKET_SIGMAS * math.sqrt(sample.size * fraction * (1 - fraction)) + _BRACKET_SLACK
    first, stop = math.floor(fraction * last - half_width), math.ceil(fraction * last + half_width)
    return group, (sample[first] if first > 0 else None), (sample[stop] if stop < last else None)


def _select_brackets(
    values: np.ndarray, brackets: list[tuple[PixelScalar | None, PixelScalar | None]], valid: Validity
) -> tuple[list[int], np.ndarray]:
    """In one sweep: per bracket the valid values below it, and the valid values inside any bracket."""
    belows, inside = [], None
    for lower, upper in brackets:
        if lower is None:
            below, within = 0, (values <= upper if upper is not None else np.ones(values.shape, dtype=bool))
        else:
            within = values >= lower
            if valid.mask is None:
                below = values.size - int(np.count_nonzero(within))
            else:  # NaN is neither >= nor < anything: count below directly
                below = int(np.count_nonzero(values < lower)) - valid.invalid_below(lower)
            if upper is not None:
                within &= values <= upper
        belows.append(below)
        inside = within if inside is None else np.logical_or(inside, within, out=inside)
    selected = values[inside]
    if valid.mask is not None:
        selected = selected[valid.is_valid(selected)]
    return belows, selected


def percentile_bounds_db(
    band: LinearBand,
    percentiles: Sequence[float],
    valid: Validity | None = None,
    method: PercentileMethod = DEFAULT_PERCENTILE_METHOD,
) -> tuple[float, float] | None:
    """The two percentiles, in dB, of the valid pixels; None if there is none.

    ``exact``: np.percentile's 'linear' rule, located on the linear values (the dB map is monotone) and
    interpolated in dB as the reference does. ``approximate``: a value between the exact percentiles
    p -/+ `APPROXIMATE_TOLERANCE` (`certified_percentile`); bands of at most ``2 * _SAMPLE_SIZE`` pixels,
    and percentiles not certified within a few counts, are computed exactly.
    """
    valid = valid or Validity(None, None, None, band.values.size)
    if valid.count == 0:
        return None
    wanted = check_percentiles(percentiles)
    bounds: dict[float, float] = {}
    sample = None
    if check_percentile_method(method) == "approximate" and band.values.size > 2 * _SAMPLE_SIZE:
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


def scale_from_db(low_db: float, high_db: float) -> BandScale:
    """Map [low_db, high_db] linearly onto [0, 1]; an empty range maps everything to 0.

    So does a range too narrow for a finite slope (a few 1e-324 dB: the percentiles of a band of zeros
    and one subnormal value), where an infinite slope times a zero offset would be NaN.
    """
    span = high_db - low_db
    slope = 1.0 / span if span > 0 else 0.0
    if not (math.isfinite(low_db) and 0.0 < slope < math.inf):
        return BandScale(0.0, 0.0, clip=True)
    return BandScale(low_db, slope, clip=True)


def apply_scale(
    band: LinearBand, scale: BandScale, mask: np.ndarray | None, out: np.ndarray | None = None
) -> np.ndarray:
    """dB conversion and affine map in a few float32 passes; clip; invalid pixels -> 0.

    Logged radiometries: ``log2(value / origin) * factor * log10(2) * slope``, the division folded into
    one multiplication by a constant; invalid pixels are set to 1 before the log because log2 of zero,
    negative or NaN values leaves numpy's vectorised path. dB and display pixels: ``(value - origin) *
    slope``, with the float32 rounding of the origin corrected afterwards. ``out``: a flat float32
    array to write into (saves a copy when bands are assembled).
    """
    values = band.values
    wide = values.dtype.itemsize > 4 or values.dtype in (np.int32, np.uint32)
    # A dB range narrower than ~1e-37 has a slope float32 cannot hold (inf x 0 would make NaN).
    wide = wide or abs(scale.slope) * DB_FACTOR["amplitude"] > _FLOAT32_MAX
    work = np.float64 if wide else np.float32
    ratio: np.floating | None = None
    direct, factor = False, 0.0
    if band.factor is not None:
        factor = band.factor
        exponent = -scale.origin_db / factor  # ratio = 10^exponent = 1 / (the value at the origin)
        if abs(exponent) < _FLOAT32_DECADES and work == np.float32:
            ratio = np.float32(10.0**exponent)
        elif abs(exponent) < _FLOAT64_DECADES:  # an origin beyond the float32 range: work in float64
            work, ratio = np.float64, np.float64(10.0**exponent)
        else:  # beyond float64 too (a db_range of -7,000 dB): dB first, then the affine map
            work, direct = np.float64, True
    result = out if out is not None and work == np.float32 else np.empty(values.shape, dtype=work)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        if direct:
            result[...] = values
            if mask is not None:
                np.copyto(result, 1.0, where=~mask)
            np.log2(result, out=result)
            result *= factor * math.log10(2.0)
            result -= scale.origin_db
            result *= scale.slope
            needs_clip = scale.clip
        elif ratio is None and scale.origin_db == 0:  # display, or dB values as they are: one pass
            np.multiply(values, work(scale.slope), out=result, dtype=work)
            unsigned = values.dtype.kind == "u"
            in_range = unsigned and scale.slope * np.iinfo(values.dtype).max <= 1  # display over its full scale
            needs_clip = scale.clip and not in_range
        elif ratio is None:
            origin = work(scale.origin_db)
            np.subtract(values, origin, out=result, dtype=work)
            result *= work(scale.slope)
            correction = (float(origin) - scale.origin_db) * scale.slope
            if correction:
                result += work(correction)
            needs_clip = scale.clip
        else:
            np.multiply(values, ratio, out=result, dtype=work)
            if mask is not None:
                np.copyto(result, 1.0, where=~mask)
            np.log2(result, out=result)
            result *= work(scale.slope * factor * math.log10(2.0))
            needs_clip = scale.clip
        if needs_clip:
            np.clip(result, 0.0, 1.0, out=result)
    if mask is not None:
        np.copyto(result, 0.0, where=~mask)
    if out is not None and result is not out:
        out[...] = result
        return out
    return result.astype(np.float32, copy=False)


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
