"""Exact order statistics of a band's valid values without sorting the band.

`SortedSample` (a strided sample whose order statistics come from a 16-bit histogram) serves both ways
of taking percentiles: it proposes the thresholds that ``approximate`` certifies, and it brackets the
ranks that `order_statistics` selects exactly. Apart from `sarlang1m.sar.percentiles` because exact
selection is its own algorithm, with its own fallback (a full partition when a bracket misses).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .bands import Validity
from .radiometry import PixelScalar

#: Pixels in the strided sample used to bracket each order statistic.
_SAMPLE_SIZE = 65_536
#: Consecutive pixels the sample takes at a time from positive float32 bands (64 bytes: a cache line).
_SAMPLE_RUN = 16
#: Half-width of a bracket in standard deviations of the sample rank (plus a few samples for ties):
#: a 4.5-sigma bracket misses about once in 10^5 brackets (Gaussian approximation of the sample rank),
#: which then costs one full partition.
_BRACKET_SIGMAS = 4.5
_BRACKET_SLACK = 4


def sampled_exactly(size: int) -> bool:
    """Whether a band of ``size`` pixels is small enough that exact selection is cheaper than sampling."""
    return size <= 2 * _SAMPLE_SIZE


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
    if sampled_exactly(values.size):
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
