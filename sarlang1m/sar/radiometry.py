"""What SAR pixel values mean (radiometry), how to tell it, and how to turn them into decibels.

Mixing amplitude, intensity and dB silently is the classic SAR data bug: a dB image logged again, or
an amplitude image treated as intensity, is off by a factor the model then has to unlearn. Every
decode therefore works from an explicit radiometry: the one the release stores per image, else the
documented inference rule below, always overridable by the caller.
"""

from __future__ import annotations

import math
from typing import Any, overload

import numpy as np

from ..schema import RADIOMETRIES, Radiometry

#: Pixels per band used by `db_moments`: enough for mean and std to 3 significant digits.
DEFAULT_MOMENT_SAMPLES = 65_536

#: dB = factor * log10(value): 20 for amplitude, 10 for intensity and for |z|^2 of complex pixels.
DB_FACTOR = {"amplitude": 20.0, "intensity": 10.0, "complex": 10.0}
#: Full scale of 8-bit display images: display pixels are returned as value / DISPLAY_SCALE.
DISPLAY_SCALE = 255.0
#: One pixel value in the pixel type: a numpy scalar, so that comparing it with a band converts nothing.
PixelScalar = np.number[Any]


def nodata_in_type(dtype: np.dtype, nodata: float | None) -> PixelScalar | None:
    """The nodata value in the pixel type, or None when the type cannot hold it (then no pixel is nodata)."""
    if nodata is None or math.isnan(nodata):
        return None
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        if not (float(nodata).is_integer() and info.min <= nodata <= info.max):
            return None
    return dtype.type(nodata)


def display_scale(dtype: np.dtype | type) -> float:
    """Full scale of a display image: 255, or 65535 for 16-bit images (e.g. 16-bit PNGs)."""
    return 65535.0 if np.dtype(dtype) == np.uint16 else DISPLAY_SCALE


@overload
def infer_radiometry(dtype: np.dtype | type, *, has_negative: bool) -> Radiometry: ...
@overload
def infer_radiometry(dtype: np.dtype | type, *, has_negative: None = None) -> Radiometry | None: ...
def infer_radiometry(dtype: np.dtype | type, *, has_negative: bool | None = None) -> Radiometry | None:
    """The documented inference rule, used only when neither the caller nor the release says.

    complex -> ``complex``; uint8 -> ``display``; real signed (float, int16) with negative values ->
    ``db`` (amplitude and intensity cannot be negative); anything else -> ``amplitude``. For a real
    signed type whose sign is unknown (``has_negative=None``), returns None: look at the values.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return "complex"
    if dtype == np.uint8:
        return "display"
    if dtype.kind in "fi":
        if has_negative is None:
            return None
        return "db" if has_negative else "amplitude"
    if dtype.kind == "u":
        return "amplitude"
    raise ValueError(f"pixel type {dtype} is not a SAR raster type")


#: Words files use for a radiometry, lower case, mapped to `RADIOMETRIES` (see `parse_radiometry`).
RADIOMETRY_SYNONYMS: dict[str, Radiometry] = {
    **{name: name for name in RADIOMETRIES},
    "magnitude": "amplitude",
    "power": "intensity",
    "decibel": "db",
    "decibels": "db",
}


def parse_radiometry(text: str | None) -> Radiometry | None:
    """The radiometry a file names (``"Amplitude"``, ``"dB"``, ``"power"``...), or None if it names none we know."""
    if text is None:
        return None
    return RADIOMETRY_SYNONYMS.get(text.strip().lower())


def radiometry_fits(radiometry: str, dtype: np.dtype | type, bands: int) -> bool:
    """Whether pixels of this type and band count can have this radiometry (a claim that cannot is ignored).

    Complex pixels are amplitude, intensity or complex; ``complex`` on real pixels needs I/Q band pairs;
    ``db`` needs a signed or float type (dB values go below zero); ``display`` is 8- or 16-bit unsigned.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return radiometry in ("amplitude", "intensity", "complex")
    if radiometry == "complex":
        return bands % 2 == 0
    if radiometry == "db":
        return dtype.kind in "fi"
    if radiometry == "display":
        return dtype in (np.dtype(np.uint8), np.dtype(np.uint16))
    return radiometry in RADIOMETRIES and dtype.kind in "uif"


def check_radiometry(radiometry: str) -> Radiometry:
    """The radiometry itself if it is one of `RADIOMETRIES`, else a ValueError listing them."""
    for known in RADIOMETRIES:
        if radiometry == known:
            return known
    raise ValueError(f"unknown radiometry {radiometry!r}; expected one of {RADIOMETRIES}")


def to_db(values: np.ndarray, radiometry: Radiometry) -> np.ndarray:
    """Decibels (float32) of pixel values; values with no dB (zero, negative, NaN) become NaN.

    The straightforward computation, used for statistics and as the reference the fast normaliser is
    tested against. Complex pixels always give 10*log10(|z|^2) (= 20*log10|z|). ``display`` has no dB:
    its values are returned unchanged as float32.
    """
    check_radiometry(radiometry)
    if values.dtype.kind == "c":
        if radiometry in ("db", "display"):
            raise ValueError(f"complex pixels cannot have radiometry {radiometry!r}")
        magnitude, factor = np.abs(values).astype(np.float64) ** 2, DB_FACTOR["complex"]
    elif radiometry == "complex":
        raise ValueError("radiometry 'complex' needs complex pixels (or a pair of I/Q bands, see decode_sar)")
    elif radiometry == "display":
        return values.astype(np.float32)
    elif radiometry == "db":
        decibels = values.astype(np.float32)
        decibels[~np.isfinite(decibels)] = np.nan
        return decibels
    else:
        magnitude, factor = values.astype(np.float64), DB_FACTOR[radiometry]
    with np.errstate(divide="ignore", invalid="ignore"):
        decibels = factor * np.log10(magnitude)
    decibels[~np.isfinite(decibels)] = np.nan
    return decibels.astype(np.float32)


def db_to_intensity(decibels: np.ndarray) -> np.ndarray:
    """Linear intensity (power) of dB values: the domain where speckle is multiplicative."""
    return np.power(10.0, decibels.astype(np.float64) / 10.0)


def to_intensity(values: np.ndarray, radiometry: Radiometry) -> np.ndarray:
    """Linear intensity (float64) for speckle filtering; non-positive values are kept as they are."""
    check_radiometry(radiometry)
    if values.dtype.kind == "c":
        return np.abs(values).astype(np.float64) ** 2
    if radiometry == "amplitude":
        return values.astype(np.float64) ** 2
    if radiometry == "db":
        return db_to_intensity(values)
    return values.astype(np.float64)


def db_moments(
    pixels: np.ndarray,
    radiometry: Radiometry,
    *,
    samples: int | None = DEFAULT_MOMENT_SAMPLES,
    nodata: float | None = None,
) -> np.ndarray:
    """Per band ``(count, sum, sum of squares)`` of the dB values of valid pixels, as float64 (bands, 3).

    For the build's per-source statistics: moments add up across images (`db_statistics` turns the sum
    into means and standard deviations). ``samples`` pixels per band are taken on a regular stride
    (None: all), which keeps a 1024^2 image at a fraction of its decode time.
    """
    check_radiometry(radiometry)
    if radiometry == "display":
        raise ValueError("display pixels have no dB statistics")
    moments = np.zeros((pixels.shape[0], 3), dtype=np.float64)
    for index, band in enumerate(pixels):
        flat = band.ravel()
        step = 1 if samples is None else max(1, flat.size // samples)
        values = flat[::step]
        nodata_value = nodata_in_type(values.dtype, nodata)
        if nodata_value is not None:
            values = values[values != nodata_value]
        decibels = to_db(values, radiometry).astype(np.float64)
        decibels = decibels[np.isfinite(decibels)]
        moments[index] = decibels.size, decibels.sum(), np.square(decibels).sum()
    return moments


def db_statistics(moments: np.ndarray) -> tuple[list[float], list[float]]:
    """Means and standard deviations in dB, per band, from summed `db_moments`."""
    moments = np.asarray(moments, dtype=np.float64)
    count = moments[:, 0]
    if np.any(count <= 0):
        raise ValueError("no valid pixel in a band: cannot compute its dB statistics")
    mean = moments[:, 1] / count
    variance = np.maximum(moments[:, 2] / count - mean * mean, 0.0)
    return mean.tolist(), np.sqrt(variance).tolist()
