"""The fast normaliser against the straightforward reference (log10, then np.percentile). Synthetic data.

``percentile_method="exact"`` must equal the reference within float32 rounding; ``"approximate"`` (the
default) must put each stretch limit between the reference's percentiles p - 0.1 and p + 0.1.
"""

from __future__ import annotations

import math
import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sarlang1m.sar import normalize, selection
from sarlang1m.sar import percentiles as percentile_module
from sarlang1m.sar.normalize import APPROXIMATE_TOLERANCE, normalize_band, order_statistics

#: Documented agreement with the reference, absolute, on the [0, 1] output (float32 rounding).
TOLERANCE = 1e-5
FACTORS = {"amplitude": 20.0, "intensity": 10.0}


def reference_db(band: np.ndarray, radiometry: str) -> np.ndarray:
    """dB the obvious way, in float64; NaN where a pixel has none."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if band.dtype.kind == "c":
            decibels = 10.0 * np.log10(np.abs(band.astype(np.complex128)) ** 2)
        elif radiometry == "db":
            decibels = band.astype(np.float64)
        else:
            decibels = FACTORS[radiometry] * np.log10(band.astype(np.float64))
    decibels[~np.isfinite(decibels)] = np.nan
    return decibels


def reference(band: np.ndarray, radiometry: str, percentiles=(2, 98), nodata=None) -> tuple[np.ndarray, np.ndarray]:
    """The usual way: dB of every pixel, np.percentile over the valid ones, clip and scale."""
    decibels = reference_db(band, radiometry)
    valid = np.isfinite(decibels)
    if nodata is not None:
        valid &= band != nodata
    out = np.zeros(band.shape)
    if valid.any():
        low, high = np.percentile(decibels[valid], percentiles)
        if high > low:
            out = np.clip((decibels - low) / (high - low), 0.0, 1.0)
    out[~valid] = 0.0
    return out, valid


RNG = np.random.default_rng(1234)
SIZE = (300, 280)  # 84,000 pixels: above the bracketing threshold set below, so the fast path runs
TEST_SAMPLE_SIZE = 8_192


@pytest.fixture(autouse=True)
def small_bracketing_sample(monkeypatch):
    """A smaller strided sample, so that the bracketing path (not only the small-array partition) runs
    on bands small enough for fast tests; `test_production_sample_size` covers the shipped setting."""
    monkeypatch.setattr(selection, "_SAMPLE_SIZE", TEST_SAMPLE_SIZE)
    assert SIZE[0] * SIZE[1] > 2 * TEST_SAMPLE_SIZE


def speckle(dtype, radiometry: str, size=SIZE) -> np.ndarray:
    """Synthetic gamma speckle in the pixel type and radiometry asked for."""
    intensity = RNG.gamma(1.0, 1.0, size) * np.exp(RNG.normal(0, 1.5, size))
    if np.dtype(dtype).kind == "c":
        phase = RNG.uniform(0, 2 * np.pi, size)
        return (np.sqrt(intensity) * np.exp(1j * phase) * 300).astype(dtype)
    values = 10 * np.log10(intensity) if radiometry == "db" else intensity * 400
    if np.dtype(dtype).kind in "ui":
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


CASES = [
    (np.uint8, "amplitude"),
    (np.uint16, "amplitude"),
    (np.uint16, "intensity"),
    (np.int16, "amplitude"),
    (np.int16, "db"),
    (np.float32, "amplitude"),
    (np.float32, "intensity"),
    (np.float32, "db"),
    (np.float64, "amplitude"),
    (np.float64, "db"),
    (np.complex64, "complex"),
    (np.complex128, "complex"),
]


@pytest.mark.parametrize(("dtype", "radiometry"), CASES)
@pytest.mark.parametrize("percentiles", [(2, 98), (0, 100), (10, 90), (49.5, 50.5)])
def test_matches_the_reference_for_every_pixel_type(dtype, radiometry, percentiles) -> None:
    band = speckle(dtype, radiometry)
    out, mask = normalize_band(band, radiometry, percentiles=percentiles, percentile_method="exact")
    expected, valid = reference(band, radiometry, percentiles)
    assert out.dtype == np.float32 and out.shape == band.shape
    np.testing.assert_array_equal(mask, valid)
    np.testing.assert_allclose(out, expected, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize(
    ("dtype", "radiometry"), [(np.float32, "amplitude"), (np.float64, "db"), (np.uint16, "amplitude")]
)
def test_invalid_pixels_are_zero_masked_and_excluded(dtype, radiometry) -> None:
    band = speckle(dtype, radiometry)
    nodata = 7 if np.dtype(dtype).kind == "u" else -9999.0
    band[:40, :] = nodata  # a nodata border
    band[100, 100:110] = 0
    if np.dtype(dtype).kind == "f":
        band[150, :5] = [np.nan, np.inf, -np.inf, -1.0, 0.0]
    out, mask = normalize_band(band, radiometry, nodata=nodata, percentile_method="exact")
    expected, valid = reference(band, radiometry, nodata=nodata)
    np.testing.assert_array_equal(mask, valid)
    assert not mask[:40].any()
    assert (out[~mask] == 0).all()
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, expected, atol=TOLERANCE, rtol=0)


def test_constant_and_empty_bands_give_zeros() -> None:
    for band in (np.full((50, 60), 3.5, np.float32), np.full((300, 300), 42, np.uint16)):
        out, mask = normalize_band(band, "amplitude")
        assert (out == 0).all() and mask.all()
    out, mask = normalize_band(np.full((10, 10), np.nan, np.float32), "db")
    assert (out == 0).all() and not mask.any()
    out, mask = normalize_band(np.zeros((10, 10), np.uint16), "amplitude")
    assert (out == 0).all() and not mask.any()


def test_input_pixels_are_never_modified() -> None:
    for dtype, radiometry in CASES:
        band = speckle(dtype, radiometry)
        copy = band.copy()
        normalize_band(band, radiometry)
        np.testing.assert_array_equal(band, copy)


def test_db_pixels_are_not_logged_again() -> None:
    band = speckle(np.float32, "db")
    out, _ = normalize_band(band, "db", method="range", db_range=(-20.0, 10.0))
    np.testing.assert_allclose(out, np.clip((band.astype(np.float64) + 20.0) / 30.0, 0, 1), atol=TOLERANCE)


def test_fixed_range_and_standardisation_follow_their_formulas() -> None:
    band = speckle(np.float32, "intensity")
    decibels = reference_db(band, "intensity")
    out, _ = normalize_band(band, "intensity", method="range", db_range=(-5.0, 35.0))
    np.testing.assert_allclose(out, np.clip((decibels + 5.0) / 40.0, 0, 1), atol=TOLERANCE)
    out, _ = normalize_band(band, "intensity", method="standardize", mean_db=22.0, std_db=4.0)
    np.testing.assert_allclose(out, (decibels - 22.0) / 4.0, atol=1e-4)
    out, _ = normalize_band(band, "intensity", method="none")
    np.testing.assert_allclose(out, decibels, atol=1e-4)


@pytest.mark.parametrize("origin_db", [-7000.0, -1000.0, -500.0, 500.0, 7000.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16])
def test_origins_beyond_any_float_range_follow_the_formulas(origin_db: float, dtype) -> None:
    """An origin of -7,000 dB is 10^350 away from 1 in amplitude: no float holds the folded constant.

    Found by hypothesis as an overflow warning; the same path raised OverflowError for such a db_range.
    """
    band = speckle(dtype, "amplitude")
    decibels = reference_db(band, "amplitude")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ranged, _ = normalize_band(band, "amplitude", method="range", db_range=(origin_db, origin_db + 7000.0))
        standardised, _ = normalize_band(band, "amplitude", method="standardize", mean_db=origin_db, std_db=10.0)
    valid = np.isfinite(decibels)
    expected = np.clip((decibels - origin_db) / 7000.0, 0, 1)
    np.testing.assert_allclose(ranged[valid], expected[valid], atol=TOLERANCE)
    np.testing.assert_allclose(standardised[valid], (decibels[valid] - origin_db) / 10.0, rtol=1e-6, atol=1e-4)
    assert not ranged[~valid].any() and not standardised[~valid].any()


def test_display_pixels_are_divided_by_full_scale() -> None:
    band = RNG.integers(0, 256, (20, 30)).astype(np.uint8)
    out, mask = normalize_band(band, "display")
    np.testing.assert_allclose(out, band / 255.0, atol=1e-7)
    assert mask.all()


def test_bad_arguments_are_refused() -> None:
    band = speckle(np.float32, "amplitude", size=(8, 8))
    with pytest.raises(ValueError, match="percentiles"):
        normalize_band(band, "amplitude", percentiles=(98, 2))
    with pytest.raises(ValueError, match="db_range"):
        normalize_band(band, "amplitude", method="range")
    with pytest.raises(ValueError, match="positive std_db"):
        normalize_band(band, "amplitude", method="standardize", mean_db=1.0, std_db=0.0)
    with pytest.raises(ValueError, match="unknown normalisation"):
        normalize_band(band, "amplitude", method="minmax")
    with pytest.raises(ValueError, match="needs complex pixels"):
        normalize_band(band, "complex")


def test_production_sample_size(monkeypatch) -> None:
    monkeypatch.undo()
    assert selection._SAMPLE_SIZE > TEST_SAMPLE_SIZE
    for dtype, radiometry in [(np.float32, "amplitude"), (np.uint16, "amplitude"), (np.complex64, "complex")]:
        band = speckle(dtype, radiometry, size=(512, 520))
        band.flat[::97] = 0
        out, mask = normalize_band(band, radiometry, percentile_method="exact")
        expected, valid = reference(band, radiometry)
        np.testing.assert_array_equal(mask, valid)
        np.testing.assert_allclose(out, expected, atol=TOLERANCE, rtol=0)


def test_a_sample_that_misses_falls_back_to_an_exact_partition(monkeypatch) -> None:
    """Adversarial layout: the strided sample sees only bright pixels, so its brackets are wrong."""
    values = RNG.gamma(1.0, 1.0, 512 * 512).astype(np.float32)
    step = values.size // selection._SAMPLE_SIZE | 1
    values[::step] += 1000.0
    calls = []
    original = selection._partition_valid
    monkeypatch.setattr(selection, "_partition_valid", lambda *a: calls.append(1) or original(*a))
    out, _ = normalize_band(values.reshape(512, 512), "amplitude", percentile_method="exact")
    expected, _ = reference(values.reshape(512, 512), "amplitude")
    assert calls, "the fallback was not exercised"
    np.testing.assert_allclose(out, expected, atol=TOLERANCE)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.float32, np.float64])
def test_order_statistics_equal_a_full_sort_even_with_ties(dtype) -> None:
    if np.dtype(dtype).kind == "f":
        values = np.round(RNG.normal(0, 3, 200_000), 1).astype(dtype)  # many ties
    else:
        info = np.iinfo(dtype)
        values = RNG.integers(max(info.min, -20), min(info.max, 20), 200_000, endpoint=True).astype(dtype)
    ranks = [0, 1, 3_999, 4_000, 100_000, 195_999, 196_000, 199_999]
    np.testing.assert_array_equal(order_statistics(values, ranks), np.sort(values)[ranks])


def test_order_statistics_skip_invalid_values() -> None:
    values = RNG.gamma(1.0, 1.0, 100_000).astype(np.float32)
    values[::7] = np.nan
    values[1::11] = 0.0
    values[2::13] = -5.0
    values[3::17] = np.inf
    band = normalize.linear_band(values, "amplitude")
    valid = normalize.validity(band, None)
    clean = np.sort(values[np.isfinite(values) & (values > 0)])
    ranks = [0, 10, 1000, clean.size // 2, clean.size - 1]
    assert valid.count == clean.size
    np.testing.assert_array_equal(order_statistics(band.values, ranks, valid), clean[ranks])


finite_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=32)
any_floats = st.one_of(finite_floats, st.just(np.nan), st.just(np.inf), st.just(-np.inf), st.just(0.0))


@settings(max_examples=60, deadline=None)
@given(
    band=hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40), elements=any_floats),
    radiometry=st.sampled_from(["amplitude", "intensity", "db"]),
    low=st.floats(0, 49),
    width=st.floats(1, 51),
)
def test_properties_range_shape_finite_and_agreement(band, radiometry, low, width) -> None:
    percentiles = (low, min(low + width, 100.0))
    out, mask = normalize_band(band, radiometry, percentiles=percentiles, percentile_method="exact")
    expected, valid = reference(band, radiometry, percentiles)
    assert out.shape == band.shape and out.dtype == np.float32
    assert np.isfinite(out).all()
    assert ((out >= 0) & (out <= 1)).all()
    np.testing.assert_array_equal(mask, valid)
    assert (out[~mask] == 0).all()
    np.testing.assert_allclose(out, expected, atol=1e-4)


@settings(max_examples=60, deadline=None)
@given(
    band=hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 30), st.integers(1, 30)),
        elements=st.floats(2.0**-20, 2.0**20, width=32),
    ),
    radiometry=st.sampled_from(["amplitude", "intensity", "db"]),
)
def test_output_is_monotone_in_the_input(band, radiometry) -> None:
    out, _ = normalize_band(band, radiometry)
    order = np.argsort(band, axis=None, kind="stable")
    assert (np.diff(out.ravel()[order]) >= -1e-6).all()


@settings(max_examples=40, deadline=None)
@given(values=hnp.arrays(np.uint16, st.integers(1, 500)), percentile=st.floats(0, 100))
def test_integer_bands_agree_with_numpy_percentile(values, percentile) -> None:
    band = values.reshape(1, -1)
    out, mask = normalize_band(band, "amplitude", percentiles=(0, max(percentile, 1e-3)), percentile_method="exact")
    expected, valid = reference(band, "amplitude", (0, max(percentile, 1e-3)))
    np.testing.assert_array_equal(mask, valid)
    np.testing.assert_allclose(out, expected, atol=TOLERANCE)
    assert not math.isnan(float(out.sum()))


# ------------------------------------------------------------------------------------------------
# percentile_method="approximate" (the default): each limit certified within the tolerance


def tolerance_window_db(band: np.ndarray, radiometry: str, percentile: float, nodata=None) -> tuple[float, float]:
    """The reference's percentiles p - tolerance and p + tolerance (clamped to 0-100), in dB."""
    decibels = reference_db(band, radiometry)
    valid = np.isfinite(decibels)
    if nodata is not None:
        valid &= band != nodata
    below = max(0.0, percentile - APPROXIMATE_TOLERANCE)
    above = min(100.0, percentile + APPROXIMATE_TOLERANCE)
    low, high = np.percentile(decibels[valid], [below, above])
    return float(low), float(high)


def assert_within_tolerance(band, radiometry, percentiles, nodata=None) -> tuple[float, float] | None:
    linear = normalize.linear_band(band, radiometry)
    valid = normalize.validity(linear, nodata)
    bounds = normalize.percentile_bounds_db(linear, percentiles, valid, "approximate")
    if valid.count == 0:
        assert bounds is None
        return None
    for percentile, bound in zip(percentiles, bounds, strict=True):
        low, high = tolerance_window_db(band, radiometry, percentile, nodata)
        # float32 rounding of |z| (complex64) and float64 rounding of the dB: ~5e-7 dB
        slack = 1e-5 + 1e-9 * max(abs(low), abs(high))
        assert low - slack <= bound <= high + slack, (percentile, low, bound, high)
    return bounds


def synthetic_band(family: str, dtype, radiometry: str, size: tuple[int, int], rng: np.random.Generator):
    """Synthetic pixels of a distribution family, in a pixel type and radiometry."""
    shape = size
    if family == "speckle":
        values = rng.gamma(1.0, 1.0, shape) * np.exp(rng.normal(0, 1.5, shape))
    elif family == "uniform":
        values = rng.uniform(0.5, 2.0, shape)
    elif family == "bimodal":  # two far-apart populations: a low-density gap between them
        values = np.where(rng.random(shape) < 0.5, rng.gamma(4.0, 0.01, shape), rng.gamma(4.0, 100.0, shape))
    elif family == "heavy ties":  # few distinct values: whole tolerance windows hold one value
        values = rng.choice([0.5, 1.0, 2.0, 3.0, 50.0], size=shape, p=[0.01, 0.3, 0.4, 0.28, 0.01])
    elif family == "constant":
        values = np.full(shape, 7.0)
    else:  # "heavy tail": a few huge values
        values = rng.pareto(0.7, shape) + 1e-3
    if radiometry == "db":
        values = 10 * np.log10(values) - 5.0  # negative and positive dB values
    if np.dtype(dtype).kind == "c":
        return (np.sqrt(values) * np.exp(1j * rng.uniform(0, 2 * np.pi, shape)) * 30).astype(dtype)
    if np.dtype(dtype).kind in "ui":
        info = np.iinfo(dtype)
        scale = 1.0 if family in ("heavy ties", "constant") or radiometry == "db" else 40.0
        return np.clip(np.rint(values * scale), info.min, info.max).astype(dtype)
    return values.astype(dtype)


BAND_TYPES = [
    (np.float32, "amplitude"),
    (np.float32, "intensity"),
    (np.float32, "db"),
    (np.float64, "amplitude"),
    (np.uint16, "amplitude"),
    (np.uint8, "amplitude"),
    (np.int16, "amplitude"),
    (np.int16, "db"),
    (np.int32, "intensity"),
    (np.complex64, "complex"),
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    band_type=st.sampled_from(BAND_TYPES),
    family=st.sampled_from(["speckle", "uniform", "bimodal", "heavy ties", "constant", "heavy tail"]),
    side=st.integers(40, 90),
    seed=st.integers(0, 2**32 - 1),
    nan_share=st.sampled_from([0.0, 0.0, 0.02, 0.3]),
    zero_share=st.sampled_from([0.0, 0.0, 0.05, 0.5]),
    negative_share=st.sampled_from([0.0, 0.0, 0.05]),
    nodata_share=st.sampled_from([0.0, 0.0, 0.1, 0.97]),
    low=st.floats(0, 60),
    width=st.floats(0.5, 60),
)
def test_approximate_limits_lie_between_the_exact_percentiles_around_them(
    band_type, family, side, seed, nan_share, zero_share, negative_share, nodata_share, low, width
) -> None:
    """Property, over varied synthetic distributions, invalid pixels and pixel types: each approximate
    stretch limit lies between the exact percentiles p - 0.1 and p + 0.1 (np.percentile of the dB)."""
    dtype, radiometry = band_type
    rng = np.random.default_rng(seed)
    band = synthetic_band(family, dtype, radiometry, (side, side + 3), rng)
    flat = band.reshape(-1)
    kind = np.dtype(dtype).kind
    if kind == "f" and nan_share:
        flat[rng.random(flat.size) < nan_share] = np.nan
    if kind != "c" and zero_share:
        flat[rng.random(flat.size) < zero_share] = 0
    if kind in "fi" and negative_share:
        flat[rng.random(flat.size) < negative_share] = -3
    nodata = None
    if kind != "c" and nodata_share:
        nodata = 9
        flat[rng.random(flat.size) < nodata_share] = nodata
    percentiles = (low, min(low + width, 100.0))
    # A small sample so that bands of a few thousand pixels take the approximate path.
    with mock.patch.object(selection, "_SAMPLE_SIZE", 256):
        assert band.size > 2 * selection._SAMPLE_SIZE
        assert_within_tolerance(band, radiometry, percentiles, nodata)
        out, mask = normalize_band(band, radiometry, percentiles=percentiles, nodata=nodata)
    _, valid = reference(band, radiometry, percentiles, nodata)
    np.testing.assert_array_equal(mask, valid)
    assert np.isfinite(out).all() and ((out >= 0) & (out <= 1)).all()
    assert (out[~mask] == 0).all()


def no_exact_fallback(monkeypatch) -> None:
    def refuse(*args):
        raise AssertionError("the approximate path fell back to exact selection")

    monkeypatch.setattr(percentile_module, "_exact_percentiles_db", refuse)


@pytest.mark.parametrize(
    ("dtype", "radiometry"),
    [
        (np.float32, "amplitude"),
        (np.float32, "db"),
        (np.uint16, "amplitude"),
        (np.uint8, "amplitude"),
        (np.complex64, "complex"),
    ],
)
def test_speckle_is_certified_in_a_few_counts_at_production_settings(monkeypatch, dtype, radiometry) -> None:
    """A 512 x 520 speckle band: both limits certified with no exact fallback, in at most 3 counts each."""
    monkeypatch.undo()
    no_exact_fallback(monkeypatch)
    counts = []
    original = percentile_module._count_at_most
    monkeypatch.setattr(percentile_module, "_count_at_most", lambda *a: counts.append(1) or original(*a))
    band = speckle(dtype, radiometry, size=(512, 520))
    for percentiles in [(2, 98), (10, 90), (0, 100), (49.5, 50.5)]:
        counts.clear()
        assert_within_tolerance(band, radiometry, percentiles)
        assert len(counts) <= 6, (percentiles, len(counts))


def test_a_value_filling_the_window_is_returned_exactly(monkeypatch) -> None:
    """Ties: 6% of the pixels equal 5, so the 2nd percentile, and every value certified near it, is 5."""
    monkeypatch.undo()
    no_exact_fallback(monkeypatch)
    band = RNG.integers(6, 4000, (600, 600)).astype(np.uint16)
    band.flat[RNG.random(band.size) < 0.06] = 5
    low_db, _ = assert_within_tolerance(band, "amplitude", (2, 98))
    assert low_db == 20 * math.log10(5)


def test_default_is_approximate_and_exact_is_kept(monkeypatch) -> None:
    """The default agrees with the reference to the tolerance, not to float32 rounding; ``exact`` does."""
    monkeypatch.undo()
    band = speckle(np.float32, "amplitude", size=(512, 520))
    expected, _ = reference(band, "amplitude")
    default, _ = normalize_band(band, "amplitude")
    exact, _ = normalize_band(band, "amplitude", percentile_method="exact")
    np.testing.assert_allclose(exact, expected, atol=TOLERANCE, rtol=0)
    assert np.abs(default - expected).max() > TOLERANCE  # a different, certified, stretch
    assert np.abs(default - expected).max() < 0.02  # 0.1 percentile points of speckle: ~0.1 dB of ~30 dB
    with pytest.raises(ValueError, match="percentile_method"):
        normalize_band(band, "amplitude", percentile_method="histogram")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint16, np.uint8])
def test_sorted_sample_ranks_equal_a_sorted_copy(dtype) -> None:
    """The binned sample gives the same order statistics as sorting it, negative values and ties included."""
    if np.dtype(dtype).kind == "f":
        values = RNG.normal(0, 30, 300_000).astype(dtype)
        values[::5] = np.round(values[::5])  # ties
        values[::11] = -0.0
    else:
        info = np.iinfo(dtype)
        values = RNG.integers(info.min, info.max, 300_000, endpoint=True).astype(dtype)
    sample = normalize.SortedSample(values, normalize.Validity(None, None, None, values.size))
    expected = np.sort(sample.values)
    for rank in [0, 1, 7, sample.size // 3, sample.size // 2, sample.size - 2, sample.size - 1]:
        assert sample[rank] == expected[rank]
    with pytest.raises(IndexError):
        sample[sample.size]
