"""The authors-like 8-bit preprocessing: band choice, box mean, Lee filter, stretch, PNG. Synthetic data."""

from __future__ import annotations

import io

import numpy as np
import PIL.Image
import pytest
from tiny_raw import encode_tiff

from sarlang1m.sar.geotiff import SARDecodeError
from sarlang1m.sar.preprocess import (
    box_mean,
    default_band,
    encode_png,
    lee_filter,
    preprocess_for_vlm,
    stretch_to_uint8,
)

RNG = np.random.default_rng(99)


def test_default_band_is_vv_when_known() -> None:
    assert default_band(4) == 3  # SpaceNet6-like HH, HV, VH, VV
    assert default_band(1) == 0
    assert default_band(2) == 0
    assert default_band(2, ["VH", "VV"]) == 1
    assert default_band(4, ["HH", "HV"]) == 3


@pytest.mark.parametrize("window", [1, 3, 5, 9])
def test_box_mean_equals_a_brute_force_mean_with_mirrored_edges(window: int) -> None:
    image = RNG.random((11, 13))
    padded = np.pad(image, window // 2, mode="symmetric")
    brute = np.array([[padded[i : i + window, j : j + window].mean() for j in range(13)] for i in range(11)])
    np.testing.assert_allclose(box_mean(image, window), brute, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="odd"):
        box_mean(image, 4)


def test_lee_filter_smooths_speckle_and_keeps_the_mean_and_edges() -> None:
    scene = np.where(np.arange(128)[None, :] < 64, 1.0, 10.0) * np.ones((128, 1))  # two flat fields
    speckled = scene * RNG.gamma(4.0, 1 / 4.0, scene.shape)  # 4-look intensity speckle
    filtered = lee_filter(speckled, 7)
    for field in (slice(0, 56), slice(72, 128)):  # away from the edge
        assert filtered[:, field].std() < 0.6 * speckled[:, field].std()
        assert filtered[:, field].mean() == pytest.approx(speckled[:, field].mean(), rel=0.02)
    assert filtered[:, 60].mean() < 3 < filtered[:, 68].mean()  # the edge stays sharp
    np.testing.assert_allclose(lee_filter(np.full((9, 9), 5.0), 5), 5.0)


def test_preprocessing_uses_the_chosen_band() -> None:
    gradient = np.tile(np.linspace(1.0, 100.0, 64, dtype=np.float32), (48, 1))
    bands = np.stack([RNG.gamma(1, 1, gradient.shape).astype(np.float32) for _ in range(3)] + [gradient])
    data = encode_tiff(bands, photometric="minisblack", planarconfig="separate", compression="zstd")
    image = preprocess_for_vlm(data, radiometry="intensity")  # default: band 3 = VV
    assert image.dtype == np.uint8 and image.shape == (48, 64)
    assert (np.diff(image.astype(int).mean(axis=0)) >= 0).all()  # the gradient, not the noise
    assert image[:, 0].mean() < 10 and image[:, -1].mean() > 245
    noise = preprocess_for_vlm(data, radiometry="intensity", band=0)
    assert abs(np.corrcoef(noise.mean(axis=0), np.arange(64))[0, 1]) < 0.5


def test_preprocessing_matches_a_direct_computation_without_filter() -> None:
    amplitude = RNG.gamma(1.0, 100.0, (40, 50)).astype(np.float32)
    image = preprocess_for_vlm(amplitude, radiometry="amplitude", lee_window=1)
    decibels = 10 * np.log10(amplitude.astype(np.float64) ** 2)
    low, high = np.percentile(decibels, [2, 98])
    expected = np.rint(np.clip((decibels - low) / (high - low), 0, 1) * 255)
    assert np.abs(image.astype(int) - expected).max() <= 1


def test_invalid_pixels_and_nodata_become_black() -> None:
    amplitude = RNG.gamma(1.0, 100.0, (40, 50)).astype(np.float32)
    amplitude[:5] = -9999.0
    amplitude[10, 10] = np.nan
    data = encode_tiff(amplitude, extratags=[(42113, "s", 0, "-9999", True)])
    image = preprocess_for_vlm(data, radiometry="amplitude")
    assert (image[:5] == 0).all() and image[10, 10] == 0
    assert image[5:].max() == 255
    assert (preprocess_for_vlm(np.zeros((8, 8), np.float32), radiometry="amplitude") == 0).all()


def test_display_images_are_returned_as_they_are() -> None:
    display = RNG.integers(0, 256, (20, 30)).astype(np.uint8)
    np.testing.assert_array_equal(preprocess_for_vlm(display), display)


def test_bad_band_is_refused() -> None:
    with pytest.raises(SARDecodeError, match="band 5 does not exist"):
        preprocess_for_vlm(np.ones((2, 8, 8), np.float32), band=5)


def test_pixel_limit_applies_and_can_be_set() -> None:
    data = encode_tiff(RNG.gamma(1.0, 1.0, (64, 64)).astype(np.float32))
    with pytest.raises(SARDecodeError, match="exceeds the limit"):
        preprocess_for_vlm(data, max_pixels=64 * 64 - 1)
    assert preprocess_for_vlm(data, max_pixels=64 * 64).shape == (64, 64)


def test_stretch_ignores_non_finite_values() -> None:
    decibels = np.array([[np.nan, -10.0, 0.0, 10.0, np.inf]], dtype=np.float32)
    stretched = stretch_to_uint8(decibels, (0, 100))
    np.testing.assert_array_equal(stretched, [[0, 0, 128, 255, 0]])


def test_png_round_trips_and_refuses_non_8_bit() -> None:
    image = RNG.integers(0, 256, (17, 23)).astype(np.uint8)
    with PIL.Image.open(io.BytesIO(encode_png(image))) as decoded:
        assert decoded.format == "PNG"
        np.testing.assert_array_equal(np.asarray(decoded), image)
    with pytest.raises(ValueError, match="uint8"):
        encode_png(image.astype(np.uint16))
    with pytest.raises(ValueError, match="shape"):
        encode_png(np.zeros((4, 4, 2), np.uint8))
