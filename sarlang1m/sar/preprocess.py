"""The authors-like 8-bit preprocessing: one band -> Lee speckle filter -> dB -> 2-98 % stretch -> PNG.

The SARLANG-1M authors report this pipeline for their PNGs but published no code, so this is an
approximation: the band choice, the filter's window and noise estimate, and the stretch are ours and
documented here. The build uses it wherever a source has no preprocessed PNG.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

from ..schema import Radiometry
from .geotiff import DEFAULT_MAX_PIXELS, SARDecodeError, SARInput, infer_radiometry_of, read_geotiff
from .normalize import DEFAULT_PERCENTILES, normalize_band
from .radiometry import DB_FACTOR, check_radiometry, nodata_in_type, to_intensity

#: Band index of VV in SpaceNet6-like quad-pol files (bands HH, HV, VH, VV).
QUAD_POL_VV_BAND = 3
#: Share of pixels (every n-th along each axis) used to estimate the speckle level of an image.
_NOISE_SAMPLE_STEP = 4


def default_band(bands: int, polarizations: Sequence[str] | None = None) -> int:
    """VV when the polarisations are known (named, or 4 bands as HH, HV, VH, VV), else band 0."""
    if polarizations and "VV" in polarizations:
        return list(polarizations).index("VV")
    return QUAD_POL_VV_BAND if bands == 4 else 0


def _running_sum(image: np.ndarray, window: int, axis: int) -> np.ndarray:
    """Sums of ``window`` consecutive values along an axis: differences of a cumulative sum."""
    sums = np.cumsum(image, axis=axis)

    def along(part: slice) -> tuple[slice, ...]:
        return (slice(None),) * axis + (part,)

    shape = list(sums.shape)
    shape[axis] -= window - 1
    out = np.empty(shape, dtype=sums.dtype)
    out[along(slice(0, 1))] = sums[along(slice(window - 1, window))]
    np.subtract(sums[along(slice(window, None))], sums[along(slice(0, -window))], out=out[along(slice(1, None))])
    return out


def box_mean(image: np.ndarray, window: int) -> np.ndarray:
    """Mean over a ``window`` x ``window`` box around each pixel (edges mirrored), via cumulative sums.

    A separable running sum costs a few passes whatever the window, so no scipy is needed.
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be an odd positive size, got {window}")
    padded = np.pad(np.asarray(image, dtype=np.float64), window // 2, mode="symmetric")
    return _running_sum(_running_sum(padded, window, 0), window, 1) / (window * window)


def lee_filter(intensity: np.ndarray, window: int = 5, *, noise_cv2: float | None = None) -> np.ndarray:
    """The classic local-statistics Lee filter for multiplicative speckle (Lee, 1980).

    ``out = m + k (x - m)`` with the local mean m and ``k = max(0, 1 - Cu^2 / Ci^2)``, where
    ``Ci^2 = var / m^2`` is the local squared coefficient of variation and ``Cu^2`` that of the
    speckle (1 / looks). The number of looks of the sources is not published, so by default ``Cu^2``
    is estimated as the median of ``Ci^2`` over the image (homogeneous areas dominate SAR scenes).
    """
    intensity = np.asarray(intensity, dtype=np.float64)
    mean = box_mean(intensity, window)
    variance = np.maximum(box_mean(intensity * intensity, window) - mean * mean, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        local_cv2 = variance / (mean * mean)
    if noise_cv2 is None:
        sample = local_cv2[::_NOISE_SAMPLE_STEP, ::_NOISE_SAMPLE_STEP]
        sample = sample[np.isfinite(sample)]
        noise_cv2 = float(np.median(sample)) if sample.size else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.clip(1.0 - noise_cv2 / local_cv2, 0.0, 1.0)
    weight[~np.isfinite(weight)] = 0.0
    return mean + weight * (intensity - mean)


def stretch_to_uint8(decibels: np.ndarray, percentiles: tuple[float, float] = DEFAULT_PERCENTILES) -> np.ndarray:
    """Linear stretch of dB values between two percentiles of the finite ones to 0-255; others -> 0.

    Exact percentiles: the build writes these PNGs once, so they follow the published recipe to the
    letter rather than saving a millisecond.
    """
    stretched, _ = normalize_band(decibels, "db", percentiles=percentiles, percentile_method="exact")
    return np.rint(stretched * 255.0).astype(np.uint8)


def preprocess_for_vlm(
    data: SARInput,
    *,
    radiometry: Radiometry | None = None,
    band: int | None = None,
    lee_window: int = 5,
    percentiles: tuple[float, float] = DEFAULT_PERCENTILES,
    polarizations: Sequence[str] | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """An 8-bit (H, W) image of one SAR band, as the authors report making their PNGs.

    Band: ``band`` if given, else VV when known (see `default_band`). The band is converted to linear
    intensity, Lee-filtered (``lee_window``; 1 disables it), turned into dB, stretched between the
    ``percentiles`` of its valid values and rounded to uint8; pixels without a dB value (zero, negative,
    non-finite, the file's nodata) are 0 and kept out of the filter and the stretch. ``display`` images
    (already 8-bit and stretched) are returned as they are. An approximation of the authors' unpublished
    pipeline. ``max_pixels``: the decompression-bomb limit of `decode_sar` (samples; None for none).
    """
    array, metadata = read_geotiff(data, max_pixels=max_pixels)
    return preprocess_pixels(
        array,
        nodata=metadata.nodata,
        radiometry=radiometry,
        band=band,
        lee_window=lee_window,
        percentiles=percentiles,
        polarizations=polarizations,
    )


def preprocess_pixels(
    array: np.ndarray,
    *,
    nodata: float | None = None,
    radiometry: Radiometry | None = None,
    band: int | None = None,
    lee_window: int = 5,
    percentiles: tuple[float, float] = DEFAULT_PERCENTILES,
    polarizations: Sequence[str] | None = None,
) -> np.ndarray:
    """`preprocess_for_vlm` for pixels already decoded, ``(bands, H, W)``, with the file's ``nodata``."""
    index = default_band(array.shape[0], polarizations) if band is None else band
    if not -array.shape[0] <= index < array.shape[0]:
        raise SARDecodeError(f"band {index} does not exist: the image has {array.shape[0]} band(s)")
    pixels = array[index]
    radiometry = check_radiometry(radiometry) if radiometry else infer_radiometry_of(pixels)
    if radiometry == "display":
        return np.clip(pixels, 0, 255).astype(np.uint8)
    intensity = to_intensity(pixels, radiometry)
    invalid = ~(intensity > 0) | np.isinf(intensity)  # no dB: zero, negative, NaN, infinite
    nodata_value = nodata_in_type(pixels.dtype, nodata)
    if nodata_value is not None:
        invalid |= pixels == nodata_value
    if invalid.all():
        return np.zeros(intensity.shape, dtype=np.uint8)
    if invalid.any():  # keep holes from darkening their neighbours in the filter
        intensity[invalid] = np.median(intensity[~invalid])
    filtered = lee_filter(intensity, lee_window) if lee_window > 1 else intensity
    with np.errstate(divide="ignore", invalid="ignore"):
        decibels = (DB_FACTOR["intensity"] * np.log10(filtered)).astype(np.float32)
    decibels[invalid] = np.nan
    return stretch_to_uint8(decibels, percentiles)


def encode_png(array: np.ndarray) -> bytes:
    """PNG bytes of an 8-bit image, (H, W) grey or (H, W, 3 | 4) colour."""
    if array.dtype != np.uint8:
        raise ValueError(f"encode_png needs uint8 pixels, got {array.dtype}")
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"encode_png needs (H, W) or (H, W, 3|4), got shape {array.shape}")
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()
