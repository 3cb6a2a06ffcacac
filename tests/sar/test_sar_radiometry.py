"""Radiometry: the inference rule, dB conversion against hand formulas, dB moments. Synthetic data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sarlang1m.sar.radiometry import (
    check_radiometry,
    db_moments,
    db_statistics,
    display_scale,
    infer_radiometry,
    nodata_in_type,
    parse_radiometry,
    radiometry_fits,
    to_db,
    to_intensity,
)


@pytest.mark.parametrize(
    ("dtype", "has_negative", "expected"),
    [
        (np.uint8, None, "display"),
        (np.uint16, None, "amplitude"),
        (np.uint32, None, "amplitude"),
        (np.complex64, None, "complex"),
        (np.complex128, True, "complex"),
        (np.float32, True, "db"),
        (np.float32, False, "amplitude"),
        (np.float64, True, "db"),
        (np.int16, True, "db"),
        (np.int16, False, "amplitude"),
        (np.float32, None, None),
    ],
)
def test_inference_rule(dtype, has_negative, expected) -> None:
    assert infer_radiometry(dtype, has_negative=has_negative) == expected


def test_unknown_radiometry_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown radiometry 'sigma0'"):
        check_radiometry("sigma0")
    with pytest.raises(ValueError, match="not a SAR raster type"):
        infer_radiometry(np.bool_)


def test_to_db_matches_the_textbook_formulas() -> None:
    values = np.array([1.0, 10.0, 0.5, 1234.5], dtype=np.float32)
    np.testing.assert_allclose(to_db(values, "amplitude"), [20 * math.log10(v) for v in values], rtol=1e-6)
    np.testing.assert_allclose(to_db(values, "intensity"), [10 * math.log10(v) for v in values], rtol=1e-6)
    np.testing.assert_array_equal(to_db(values, "db"), values)  # never logged twice
    z = np.array([3 + 4j, 1j, 0.5 - 0.5j], dtype=np.complex64)
    expected = [10 * math.log10(abs(complex(c)) ** 2) for c in z]
    np.testing.assert_allclose(to_db(z, "complex"), expected, rtol=1e-6)
    np.testing.assert_allclose(to_db(z, "amplitude"), expected, rtol=1e-6)  # |z| as amplitude: same dB


def test_values_without_db_become_nan() -> None:
    values = np.array([0.0, -1.0, np.nan, np.inf, 4.0], dtype=np.float32)
    decibels = to_db(values, "intensity")
    assert np.isnan(decibels[:4]).all()
    assert decibels[4] == pytest.approx(10 * math.log10(4.0))
    assert np.isnan(to_db(np.array([np.inf, -3.0]), "db")[0])


def test_complex_radiometry_mismatches_are_refused() -> None:
    with pytest.raises(ValueError, match="needs complex pixels"):
        to_db(np.ones(3, np.float32), "complex")
    with pytest.raises(ValueError, match="cannot have radiometry 'db'"):
        to_db(np.ones(3, np.complex64), "db")


def test_intensity_domain_for_speckle_filtering() -> None:
    np.testing.assert_allclose(to_intensity(np.array([2.0, 3.0]), "amplitude"), [4.0, 9.0])
    np.testing.assert_allclose(to_intensity(np.array([10.0, -10.0]), "db"), [10.0, 0.1])
    np.testing.assert_allclose(to_intensity(np.array([3 + 4j]), "complex"), [25.0])


def test_db_moments_add_up_to_the_direct_mean_and_std() -> None:
    rng = np.random.default_rng(7)
    images = [rng.gamma(2.0, 50.0, (2, 30 + i, 40)).astype(np.float32) for i in range(3)]
    images[1][0, :3, :3] = 0.0  # no dB: excluded
    total = sum(db_moments(image, "amplitude", samples=None) for image in images)
    means, stds = db_statistics(total)
    for band in range(2):
        decibels = np.concatenate([20 * np.log10(image[band][image[band] > 0].astype(np.float64)) for image in images])
        assert means[band] == pytest.approx(decibels.mean(), rel=1e-9)
        assert stds[band] == pytest.approx(decibels.std(), rel=1e-6)
    assert total[0, 0] == sum(image[0].size for image in images) - 9


def test_db_moments_subsample_and_nodata() -> None:
    image = np.full((1, 512, 512), 100.0, dtype=np.float32)
    image[0, ::2] = -9999.0
    moments = db_moments(image, "intensity", samples=1000, nodata=-9999.0)
    assert 0 < moments[0, 0] <= 1000
    assert moments[0, 1] / moments[0, 0] == pytest.approx(20.0)
    with pytest.raises(ValueError, match="display"):
        db_moments(image, "display")
    with pytest.raises(ValueError, match="no valid pixel"):
        db_statistics(np.zeros((1, 3)))


def test_display_scale_and_nodata_types() -> None:
    assert display_scale(np.uint8) == 255.0
    assert display_scale(np.uint16) == 65535.0
    assert nodata_in_type(np.dtype(np.uint8), -9999.0) is None  # cannot occur in uint8
    assert nodata_in_type(np.dtype(np.uint16), 0.0) == 0
    assert nodata_in_type(np.dtype(np.float32), float("nan")) is None
    assert nodata_in_type(np.dtype(np.float32), -9999.0) == np.float32(-9999.0)


def test_file_words_for_radiometries() -> None:
    assert [parse_radiometry(w) for w in ("Amplitude", " dB ", "power", "magnitude", "decibels", "sigma0", None)] == [
        "amplitude",
        "db",
        "intensity",
        "amplitude",
        "db",
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("radiometry", "dtype", "bands", "fits"),
    [
        ("amplitude", np.uint8, 1, True),
        ("display", np.uint8, 1, True),
        ("display", np.float32, 1, False),
        ("db", np.float32, 4, True),
        ("db", np.int16, 1, True),
        ("db", np.uint16, 1, False),  # dB goes below zero
        ("complex", np.float32, 2, True),  # an I/Q pair
        ("complex", np.float32, 1, False),
        ("intensity", np.complex64, 1, True),
        ("db", np.complex64, 1, False),
    ],
)
def test_which_radiometries_a_pixel_type_can_have(radiometry, dtype, bands, fits) -> None:
    assert radiometry_fits(radiometry, dtype, bands) is fits
