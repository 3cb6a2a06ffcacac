"""decode_sar and the SARDecode dataset transform, on synthetic GeoTIFFs and a synthetic datasets table."""

from __future__ import annotations

import atexit
import io
import pickle
import shutil
import tempfile
from pathlib import Path

import datasets
import numpy as np
import PIL.Image
import pytest
import tifffile
import torch
from tiny_raw import encode_tiff, write_original

from sarlang1m.decode import (
    OUTPUT_FIELDS,
    PIXELS_FIELD,
    RADIOMETRY_FIELD,
    SOURCE_FIELD,
    VALID_FIELD,
    SARDecode,
    decode_sar,
    decode_sar_detailed,
    image_to_display_array,
)
from sarlang1m.sar.geotiff import SARDecodeError

RNG = np.random.default_rng(5)


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    PIL.Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def stretch_reference(decibels: np.ndarray, percentiles=(2, 98)) -> np.ndarray:
    """The usual way on dB values: percentiles of the finite ones, clip, scale; the others 0."""
    finite = np.isfinite(decibels)
    low, high = np.percentile(decibels[finite], percentiles)
    return np.where(finite, np.clip((decibels - low) / (high - low), 0, 1), 0.0)


def quad_pol_db(height: int = 30, width: int = 40, rng: np.random.Generator = RNG) -> np.ndarray:
    """Synthetic SpaceNet6-like pixels: 4 bands of float32 dB, each band at a different level."""
    return np.stack([10 * np.log10(rng.gamma(1, 1, (height, width))) - 5 * b for b in range(4)]).astype(np.float32)


# ------------------------------------------------------------------------------------------------
# decode_sar


def test_decodes_bytes_paths_and_arrays_alike(tmp_path) -> None:
    pixels = quad_pol_db()
    data = encode_tiff(pixels, photometric="minisblack", planarconfig="separate", compression="zstd")
    path = tmp_path / "sn6.tif"
    path.write_bytes(data)
    from_bytes = decode_sar(data)
    np.testing.assert_array_equal(from_bytes, decode_sar(path))
    np.testing.assert_array_equal(from_bytes, decode_sar(pixels))
    assert from_bytes.shape == (4, 30, 40) and from_bytes.dtype == np.float32
    for band in range(4):  # inferred as dB (negative floats): stretched, never logged again
        np.testing.assert_allclose(from_bytes[band], stretch_reference(pixels[band].astype(np.float64)), atol=1e-5)


def test_radiometry_override_and_band_selection() -> None:
    amplitude = RNG.gamma(1, 50, (2, 25, 35)).astype(np.float32)
    data = encode_tiff(amplitude, photometric="minisblack", planarconfig="separate")
    as_amplitude = decode_sar(data, bands=[1])
    as_intensity = decode_sar(data, bands=[1], radiometry="intensity")
    expected = stretch_reference(20 * np.log10(amplitude[1].astype(np.float64)))
    np.testing.assert_allclose(as_amplitude[0], expected, atol=1e-5)
    np.testing.assert_allclose(as_intensity, as_amplitude, atol=1e-5)  # a percentile stretch ignores the factor
    as_db = decode_sar(data, bands=[1], radiometry="db")
    np.testing.assert_allclose(as_db[0], stretch_reference(amplitude[1].astype(np.float64)), atol=1e-5)
    with pytest.raises(SARDecodeError, match=r"bands \[2\] do not exist"):
        decode_sar(data, bands=[2])


def test_complex_int16_as_iq_band_pairs() -> None:
    i, q = RNG.integers(-500, 500, (2, 20, 30)).astype(np.int16)
    data = encode_tiff(np.stack([i, q]), photometric="minisblack", planarconfig="separate")
    decoded = decode_sar_detailed(data, radiometry="complex")
    power_db = 10 * np.log10(i.astype(np.float64) ** 2 + q.astype(np.float64) ** 2)
    valid = np.isfinite(power_db)
    low, high = np.percentile(power_db[valid], [2, 98])
    expected = np.where(valid, np.clip((power_db - low) / (high - low), 0, 1), 0)
    assert decoded.radiometry == "complex" and decoded.pixels.shape == (1, 20, 30)
    np.testing.assert_allclose(decoded.pixels[0], expected, atol=1e-5)
    with pytest.raises(SARDecodeError, match="I/Q band pairs"):
        decode_sar(i, radiometry="complex")


def test_fixed_range_and_standardisation_with_release_statistics() -> None:
    pixels = quad_pol_db()
    statistics = {"bands": ["HH", "HV", "VH", "VV"], "mean_db": [-3.0, -8.0, -13.0, -18.0], "std_db": [5, 5, 5, 5]}
    standardised = decode_sar(pixels, normalize="standardize", statistics=statistics, bands=[3])
    np.testing.assert_allclose(standardised[0], (pixels[3] + 18.0) / 5.0, atol=1e-5)
    ranged = decode_sar(pixels, db_range=(-30, 0))
    np.testing.assert_allclose(ranged, np.clip((pixels + 30.0) / 30.0, 0, 1), atol=1e-6)
    with pytest.raises(ValueError, match="statistics cover 2 band"):
        decode_sar(pixels, normalize="standardize", statistics={"mean_db": [0, 0], "std_db": [1, 1]})
    with pytest.raises(ValueError, match="conflicts"):
        decode_sar(pixels, normalize="standardize", statistics=statistics, db_range=(-30, 0))
    with pytest.raises(ValueError, match="needs statistics"):
        decode_sar(pixels, normalize="standardize")


def test_mask_nodata_and_torch_output() -> None:
    pixels = RNG.gamma(1, 100, (40, 40)).astype(np.float32)
    pixels[:10] = -9999.0
    data = encode_tiff(pixels, extratags=[(42113, "s", 0, "-9999", True)])
    tensor, mask = decode_sar(data, out="torch", with_mask=True)
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float32 and mask.dtype == torch.bool
    assert not mask[0, :10].any() and mask[0, 10:].all()
    assert (tensor[0, :10] == 0).all()
    assert tensor.shape == (1, 40, 40)
    overridden = decode_sar(data, nodata=-1.0, radiometry="db")  # -9999 is then a (very dark) valid value
    assert overridden[0, :10].max() == 0 and decode_sar(data, nodata=-1.0, radiometry="db", with_mask=True)[1].all()


def test_bad_inputs_raise_sar_decode_errors() -> None:
    with pytest.raises(SARDecodeError, match="not a readable TIFF"):
        decode_sar(b"GIF89a" + bytes(100))
    with pytest.raises(SARDecodeError, match="exceeds the limit of 100"):
        decode_sar(encode_tiff(np.ones((20, 20), np.float32)), max_pixels=100)
    with pytest.raises(ValueError, match="out must be"):
        decode_sar(np.ones((4, 4), np.float32), out="jax")
    with pytest.raises(ValueError, match="unknown radiometry"):
        decode_sar(np.ones((4, 4), np.float32), radiometry="power")


# ------------------------------------------------------------------------------------------------
# SARDecode on a synthetic release table

FEATURES = datasets.Features(
    {
        "image_id": datasets.Value("string"),
        "image": datasets.Image(),
        "sar_path": datasets.Value("string"),
        "sar_sha256": datasets.Value("string"),
        "sar_bytes": datasets.Value("int64"),
        "sar_radiometry": datasets.Value("string"),
        "polarizations": datasets.List(datasets.Value("string")),
        "source": datasets.Value("string"),
        "qa": datasets.List({"question": datasets.Value("string"), "answer": datasets.Value("string")}),
    }
)


#: A release folder holding the rows' originals (written by `release_rows`, the same bytes every time).
ROOT = Path(tempfile.mkdtemp(prefix="sarlang1m-test-decode-"))
atexit.register(shutil.rmtree, ROOT, True)


def original(path: str | None, data: bytes | None) -> dict:
    """The row columns naming an original GeoTIFF written at `path` under `ROOT` (all null without one)."""
    return write_original(ROOT, path, data)


def sar_bytes(row: dict) -> bytes:
    return (ROOT / row["sar_path"]).read_bytes()


def release_rows() -> list[dict]:
    """Synthetic rows: SpaceNet6-like quad-pol dB, DFC2023-like uint16 amplitude, SARDet-like 8-bit only.

    The same rows on every call (own seed), so a test can compare decoded pixels with its inputs; their
    originals lie under `ROOT`.
    """
    rng = np.random.default_rng(11)
    quad = quad_pol_db(24, 32, rng)
    amplitude = (rng.gamma(1, 1, (20, 28)) * 900).astype(np.uint16)
    sardet = rng.integers(0, 256, (18, 26)).astype(np.uint8)
    preview = np.zeros((8, 8), np.uint8)
    return [
        {
            "image_id": "SN6_Rotterdam_1",
            "image": {"bytes": png(preview), "path": None},
            **original(
                "originals/spacenet6/SN6_Rotterdam_1.tif",
                encode_tiff(quad, photometric="minisblack", planarconfig="separate", compression="zstd"),
            ),
            "sar_radiometry": "db",
            "polarizations": ["HH", "HV", "VH", "VV"],
            "source": "spacenet6",
            "qa": [{"question": "Is there a ship?", "answer": "No."}],
        },
        {
            "image_id": "SV_Darwin_-12.4_130.8",
            "image": {"bytes": png(preview), "path": None},
            **original("originals/dfc2023/SV_Darwin_-12.4_130.8.tif", encode_tiff(amplitude, compression="lzw")),
            "sar_radiometry": "amplitude",
            "polarizations": [],
            "source": "dfc2023",
            "qa": [],
        },
        {
            "image_id": "0009787",
            "image": {"bytes": png(sardet), "path": None},
            **original(None, None),
            "sar_radiometry": None,
            "polarizations": [],
            "source": "sardet_100k",
            "qa": [{"question": "How many ships?", "answer": "2."}],
        },
    ]


@pytest.fixture
def release() -> datasets.Dataset:
    return datasets.Dataset.from_list(release_rows(), features=FEATURES)


def test_with_transform_adds_pixels_and_falls_back_to_the_8_bit_image(release) -> None:
    decoded = SARDecode(root=ROOT).apply(release)
    rows = decoded[:3]
    assert [r.shape for r in rows[PIXELS_FIELD]] == [(4, 24, 32), (1, 20, 28), (1, 18, 26)]
    assert rows[RADIOMETRY_FIELD] == ["db", "amplitude", "display"]
    assert rows[SOURCE_FIELD] == ["sar", "sar", "image"]
    assert "image" not in rows and rows["sar_path"][0] == "originals/spacenet6/SN6_Rotterdam_1.tif"
    assert rows["qa"][0] == [{"question": "Is there a ship?", "answer": "No."}]
    sardet = np.asarray(PIL.Image.open(io.BytesIO(release_rows()[2]["image"]["bytes"])))
    np.testing.assert_allclose(rows[PIXELS_FIELD][2][0], sardet / 255.0, atol=1e-7)
    for pixels, valid in zip(rows[PIXELS_FIELD], rows[VALID_FIELD], strict=True):
        assert pixels.dtype == np.float32 and valid.shape == pixels.shape
        assert pixels.min() >= 0 and pixels.max() <= 1


def test_transform_uses_the_row_radiometry_and_can_override_it(release) -> None:
    row = release_rows()[1]
    raw = tifffile.imread(io.BytesIO(sar_bytes(row))).astype(np.float64)
    assert (raw == 0).any()  # zero amplitude has no dB: invalid
    pixels = SARDecode(root=ROOT)(dict(row))[PIXELS_FIELD]
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(pixels[0], stretch_reference(20 * np.log10(raw)), atol=1e-5)
    forced = SARDecode(root=ROOT, radiometry="db")(dict(row))
    assert forced[RADIOMETRY_FIELD] == "db"
    np.testing.assert_allclose(forced[PIXELS_FIELD][0], stretch_reference(raw), atol=1e-5)


@pytest.mark.parametrize("out", ["numpy", "torch"])
def test_questions_of_one_image_get_their_own_copies(out: str) -> None:
    """A batch with the same image twice decodes it once; each example still owns its arrays or tensors."""
    if out == "torch":
        pytest.importorskip("torch")
    row = release_rows()[1]
    batch = {key: [value, value] for key, value in row.items()}
    pixels = SARDecode(root=ROOT, out=out)(batch)[PIXELS_FIELD]
    pixels[0][0, 0, 0] = 0.5
    pixels[1][0, 0, 0] = 0.25
    assert float(pixels[0][0, 0, 0]) == 0.5  # augmenting one example leaves the other intact


def test_bands_by_polarisation_name_and_standardisation_per_source(release) -> None:
    statistics = {
        "spacenet6": {"bands": ["HH", "HV", "VH", "VV"], "mean_db": [0, 0, 0, -20], "std_db": [1, 1, 1, 4]},
        "dfc2023": {"bands": ["band_1"], "mean_db": [50], "std_db": [10]},
    }
    transform = SARDecode(root=ROOT, bands=["VV"], normalize="standardize", statistics=statistics)
    row = release_rows()[0]
    quad = tifffile.imread(io.BytesIO(sar_bytes(row)))
    out = transform(dict(row))
    np.testing.assert_allclose(out[PIXELS_FIELD][0], (quad[3] + 20.0) / 4.0, atol=1e-5)
    strict = SARDecode(root=ROOT, bands=["VV"], missing="error", normalize="standardize", statistics=statistics)
    with pytest.raises(SARDecodeError, match=r"image_id 'SV_Darwin_-12.4_130.8': band 'VV' not in this image's \[\]"):
        strict(dict(release_rows()[1]))
    missing = SARDecode(root=ROOT, normalize="standardize", statistics={"spacenet6": statistics["spacenet6"]})
    with pytest.raises(SARDecodeError, match="no dB statistics for source 'dfc2023'"):
        missing(dict(release_rows()[1]))
    with pytest.warns(UserWarning, match="standardised per image"):
        assert missing(dict(release_rows()[2]))[SOURCE_FIELD] == "image"  # display needs no statistics


def test_named_bands_on_rows_without_that_polarisation_follow_the_missing_policy(release) -> None:
    """bands=["VV"] on a mixed table (quad-pol, single-pol without metadata, 8-bit fallback): one band each."""
    rows = release_rows()
    quad = tifffile.imread(io.BytesIO(sar_bytes(rows[0])))
    single = SARDecode(root=ROOT)(dict(rows[1]))[PIXELS_FIELD]
    sardet = SARDecode(root=ROOT)(dict(rows[2]))[PIXELS_FIELD]

    first = SARDecode(root=ROOT, bands=["VV"]).apply(release)[:3]  # the default policy: "first"
    assert [p.shape[0] for p in first[PIXELS_FIELD]] == [1, 1, 1]
    np.testing.assert_allclose(first[PIXELS_FIELD][0][0], stretch_reference(quad[3]), atol=1e-5)
    np.testing.assert_array_equal(first[PIXELS_FIELD][1], single)
    np.testing.assert_array_equal(first[PIXELS_FIELD][2], sardet)

    zeros = SARDecode(root=ROOT, bands=["HH", "VV"], missing="zeros").apply(release)[:3]
    assert [p.shape[0] for p in zeros[PIXELS_FIELD]] == [2, 2, 2]
    np.testing.assert_allclose(zeros[PIXELS_FIELD][0][1], stretch_reference(quad[3]), atol=1e-5)
    for pixels, valid in zip(zeros[PIXELS_FIELD][1:], zeros[VALID_FIELD][1:], strict=True):
        assert (pixels == 0).all() and not valid.any()  # no HH or VV recorded: zero, invalid bands

    mixed = SARDecode(root=ROOT, bands=[0, "VV"], missing="zeros")(dict(rows[1]))
    np.testing.assert_array_equal(mixed[PIXELS_FIELD][0], single[0])
    assert not mixed[VALID_FIELD][1].any()
    with pytest.raises(SARDecodeError, match=r"image_id '0009787': band 'VV' not in the 8-bit fallback image"):
        SARDecode(root=ROOT, bands=["VV"], missing="error")(dict(rows[2]))
    with pytest.raises(ValueError, match="unknown missing-band policy"):
        SARDecode(root=ROOT, bands=["VV"], missing="skip")
    with pytest.raises(ValueError, match=r"bands must be a list, e.g. bands=\['VV'\]"):
        SARDecode(root=ROOT, bands="VV")


def test_errors_name_the_example(release) -> None:
    broken = release_rows()
    broken[1].update(original("originals/dfc2023/broken.tif", b"II*\x00 this is not a real TIFF"))
    table = datasets.Dataset.from_list(broken, features=FEATURES)
    decoded = SARDecode(root=ROOT).apply(table)
    assert decoded[0][SOURCE_FIELD] == "sar"
    with pytest.raises(SARDecodeError, match=r"image_id 'SV_Darwin_-12.4_130.8'"):
        decoded[1]
    no_fallback = SARDecode(root=ROOT, fallback_to_image=False)
    with pytest.raises(
        SARDecodeError,
        match=r"image_id '0009787': no original GeoTIFF \(sar_path is null\) \(fallback_to_image is off\)",
    ):
        no_fallback(dict(release_rows()[2]))


def test_transform_is_picklable_and_streams_with_batched_map(release) -> None:
    transform = pickle.loads(pickle.dumps(SARDecode(root=ROOT, out="torch")))
    streamed = transform.apply(release.to_iterable_dataset(num_shards=3), batch_size=2)
    examples = list(streamed)
    assert [e["image_id"] for e in examples] == ["SN6_Rotterdam_1", "SV_Darwin_-12.4_130.8", "0009787"]
    assert all(isinstance(e[PIXELS_FIELD], torch.Tensor) for e in examples)
    assert all("image" not in e for e in examples)
    assert set(OUTPUT_FIELDS) <= set(examples[0])
    formatted = SARDecode(root=ROOT).apply(release.to_iterable_dataset()).with_format("torch")
    first = next(iter(formatted))
    assert isinstance(first[PIXELS_FIELD], torch.Tensor) and first[PIXELS_FIELD].shape == (4, 24, 32)


def test_pil_images_and_keep_inputs(release) -> None:
    """Without the decode=False cast the transform receives PIL images; it handles them too."""
    decoded = release.with_transform(SARDecode(root=ROOT, keep_inputs=True))
    row = decoded[2]
    assert row[SOURCE_FIELD] == "image" and isinstance(row["image"], PIL.Image.Image)
    assert row["sar_path"] is None and row[PIXELS_FIELD].shape == (1, 18, 26)


def test_image_fallback_converts_colour_to_grey_and_checks_size() -> None:
    rgb = np.dstack([np.full((6, 7), v, np.uint8) for v in (200, 100, 50)])
    grey = image_to_display_array({"bytes": png(rgb), "path": None})
    # ITU-R 601-2 luma, as Pillow's "L": 0.299 * 200 + 0.587 * 100 + 0.114 * 50 = 124.2 -> 124
    assert grey.shape == (1, 6, 7) and (grey == 124).all()
    with pytest.raises(SARDecodeError, match="exceeds the limit of 10"):
        image_to_display_array({"bytes": png(rgb), "path": None}, max_pixels=10)
    with pytest.raises(SARDecodeError, match="neither bytes nor a path"):
        image_to_display_array({"bytes": None, "path": None})


def test_invalid_configurations_fail_early() -> None:
    with pytest.raises(ValueError, match="needs statistics"):
        SARDecode(root=ROOT, normalize="standardize")
    with pytest.raises(ValueError, match="unknown radiometry"):
        SARDecode(root=ROOT, radiometry="sigma0")
    with pytest.raises(ValueError, match="percentiles"):
        SARDecode(root=ROOT, percentiles=(50, 50))


def per_image_z_scores(grey: np.ndarray) -> np.ndarray:
    """What standardisation gives 8-bit pixels, computed independently: x / 255, then its own mean and std."""
    scaled = grey.astype(np.float64) / 255.0
    return (scaled - scaled.mean()) / scaled.std()


def test_standardize_gives_every_row_of_a_mixed_batch_z_scores_and_says_so_once() -> None:
    """SAR rows get the release's statistics; the 8-bit fallback, which has none, is standardised per image
    (not left in [0, 1]), is marked, and a warning says so the first time only."""
    rows = release_rows()
    statistics = {
        "spacenet6": {"bands": ["HH", "HV", "VH", "VV"], "mean_db": [0, 0, 0, -20], "std_db": [1, 1, 1, 4]},
        "dfc2023": {"bands": ["band_1"], "mean_db": [50], "std_db": [10]},
    }
    transform = SARDecode(root=ROOT, normalize="standardize", statistics=statistics)
    batch = {key: [row[key] for row in rows] for key in rows[0]}
    with pytest.warns(UserWarning) as caught:
        out = transform(batch)
        transform(batch)
    said = [str(w.message) for w in caught if "display pixels" in str(w.message)]
    assert len(said) == 1 and "'0009787' (source 'sardet_100k') has 8-bit display pixels" in said[0]
    assert "standardised per image" in said[0]
    assert out[SOURCE_FIELD] == ["sar", "sar", "image"] and out[RADIOMETRY_FIELD] == ["db", "amplitude", "display"]
    sardet = np.asarray(PIL.Image.open(io.BytesIO(rows[2]["image"]["bytes"])))
    np.testing.assert_allclose(out[PIXELS_FIELD][2][0], per_image_z_scores(sardet), atol=1e-5)
    quad = tifffile.imread(io.BytesIO(sar_bytes(rows[0])))
    np.testing.assert_allclose(out[PIXELS_FIELD][0][3], (quad[3] + 20.0) / 4.0, atol=1e-5)


def test_standardize_treats_display_originals_as_display() -> None:
    """An original whose radiometry is display (8-bit, undeclared) has no dB statistics: standardised per image."""
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    row = {
        "image_id": "display_original",
        "image": {"bytes": png(grey), "path": None},
        **original("originals/unknown/ab/display_original.tif", encode_tiff(grey)),
        "sar_radiometry": "display",
        "polarizations": [],
        "source": "unknown",
    }
    statistics = {"spacenet6": {"mean_db": [0, 0, 0, 0], "std_db": [1, 1, 1, 1]}}
    with pytest.warns(UserWarning, match="'display_original' \\(source 'unknown'\\) has 8-bit display pixels"):
        out = SARDecode(root=ROOT, normalize="standardize", statistics=statistics)(row)
    assert out[SOURCE_FIELD] == "sar" and out[RADIOMETRY_FIELD] == "display"
    np.testing.assert_allclose(out[PIXELS_FIELD][0], per_image_z_scores(grey), atol=1e-5)
    constant = {**row, "image_id": "flat", **original("originals/unknown/cd/flat.tif", encode_tiff(grey * 0 + 7))}
    with pytest.warns(UserWarning):
        flat = SARDecode(root=ROOT, normalize="standardize", statistics=statistics)(constant)[PIXELS_FIELD]
    assert not np.isnan(flat).any() and not flat.any()  # a constant image gives zeros, never NaN


# ------------------------------------------------------------------------------------------------
# percentile_method


def test_percentile_method_reaches_the_stretch_and_inputs_stay_intact() -> None:
    """A 400 x 400 float32 amplitude band (big enough for the approximate path): ``exact`` is the usual
    stretch, the default's limits lie between the exact percentiles 1.9/2.1 and 97.9/98.1, and an
    array passed in is never overwritten (a band decoded from bytes may be)."""
    amplitude = RNG.gamma(1, 50, (400, 400)).astype(np.float32)
    data = encode_tiff(amplitude, photometric="minisblack", compression="zstd")
    decibels = 20 * np.log10(amplitude.astype(np.float64))
    exact = decode_sar(data, percentile_method="exact")
    np.testing.assert_allclose(exact[0], stretch_reference(decibels), atol=1e-5)
    default, valid = decode_sar(data, with_mask=True)
    assert valid.all()
    # Recover the default's limits from two pixels of its output (it is linear in dB between them).
    order = np.argsort(decibels, axis=None)
    inside = [i for i in order if 0.1 < default[0].flat[i] < 0.9]
    first, second = inside[0], inside[-1]
    slope = (default[0].flat[second] - default[0].flat[first]) / (decibels.flat[second] - decibels.flat[first])
    low_db = decibels.flat[first] - default[0].flat[first] / slope
    high_db = low_db + 1 / slope
    assert np.percentile(decibels, 1.9) - 1e-3 <= low_db <= np.percentile(decibels, 2.1) + 1e-3
    assert np.percentile(decibels, 97.9) - 1e-3 <= high_db <= np.percentile(decibels, 98.1) + 1e-3
    copy = amplitude.copy()
    np.testing.assert_array_equal(decode_sar(amplitude), default)
    np.testing.assert_array_equal(amplitude, copy)
    transform = SARDecode(root=ROOT, percentile_method="exact")
    columns = original("originals/dfc2023/percentile_method.tif", data)
    row = transform({"image_id": "a", **columns, "sar_radiometry": "amplitude", "source": "s"})
    np.testing.assert_array_equal(row[PIXELS_FIELD], exact)
    with pytest.raises(ValueError, match="percentile_method"):
        decode_sar(data, percentile_method="histogram")
    with pytest.raises(ValueError, match="percentile_method"):
        SARDecode(root=ROOT, percentile_method="sorted")
