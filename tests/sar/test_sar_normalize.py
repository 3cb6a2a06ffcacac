"""The fast normaliser against the straightforward reference (log10, then np.percentile). Synthetic data."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sarlang1m.sar import normalize
from sarlang1m.sar.normalize import normalize_band, order_statistics

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
    monkeypatch.setattr(normalize, "_SAMPLE_SIZE", TEST_SAMPLE_SIZE)
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
    out, mask = normalize_band(band, radiometry, percentiles=percentiles)
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
    out, mask = normalize_band(band, radiometry, nodata=nodata)
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
    assert normalize._SAMPLE_SIZE > TEST_SAMPLE_SIZE
    for dtype, radiometry in [(np.float32, "amplitude"), (np.uint16, "amplitude"), (np.complex64, "complex")]:
        band = speckle(dtype, radiometry, size=(512, 520))
        band.flat[::97] = 0
        out, mask = normalize_band(band, radiometry)
        expected, valid = reference(band, radiometry)
        np.testing.assert_array_equal(mask, valid)
        np.testing.assert_allclose(out, expected, atol=TOLERANCE, rtol=0)


def test_a_sample_that_misses_falls_back_to_an_exact_partition(monkeypatch) -> None:
    """Adversarial layout: the strided sample sees only bright pixels, so its brackets are wrong."""
    values = RNG.gamma(1.0, 1.0, 512 * 512).astype(np.float32)
    step = values.size // normalize._SAMPLE_SIZE
    values[::step] += 1000.0
    calls = []
    original = normalize._partition_valid
    monkeypatch.setattr(normalize, "_partition_valid", lambda *a: calls.append(1) or original(*a))
    out, _ = normalize_band(values.reshape(512, 512), "amplitude")
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
    out, mask = normalize_band(band, radiometry, percentiles=percentiles)
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
    out, mask = normalize_band(band, "amplitude", percentiles=(0, max(percentile, 1e-3)))
    expected, valid = reference(band, "amplitude", (0, max(percentile, 1e-3)))
    np.testing.assert_array_equal(mask, valid)
    np.testing.assert_allclose(out, expected, atol=TOLERANCE)
    assert not math.isnan(float(out.sum()))
