"""The output pass: dB conversion, affine map and clip of a band in a few float32 passes.

Apart from the percentiles because it is the same for every normalisation (percentile stretch, fixed
range, standardisation, none): each of them only chooses a `BandScale`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .bands import LinearBand
from .radiometry import DB_FACTOR

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


def _work_type(band: LinearBand, scale: BandScale) -> tuple[type[np.floating], np.floating | None, bool]:
    """The float type to compute in, the ratio folded into the log (1 / the value at the origin), and
    whether to take dB first instead (an origin beyond what float64 holds as a power of ten)."""
    values = band.values
    wide = values.dtype.itemsize > 4 or values.dtype in (np.int32, np.uint32)
    # A dB range narrower than ~1e-37 has a slope float32 cannot hold (inf x 0 would make NaN).
    wide = wide or abs(scale.slope) * DB_FACTOR["amplitude"] > _FLOAT32_MAX
    work: type[np.floating] = np.float64 if wide else np.float32
    if band.factor is None:
        return work, None, False
    exponent = -scale.origin_db / band.factor  # ratio = 10^exponent = 1 / (the value at the origin)
    if abs(exponent) < _FLOAT32_DECADES and work == np.float32:
        return work, np.float32(10.0**exponent), False
    if abs(exponent) < _FLOAT64_DECADES:  # an origin beyond the float32 range: work in float64
        return np.float64, np.float64(10.0**exponent), False
    return np.float64, None, True  # beyond float64 too (a db_range of -7,000 dB): dB first, then the affine map


def _logged(
    values: np.ndarray, ratio: np.floating, coefficient: np.floating, mask: np.ndarray | None, result: np.ndarray
) -> None:
    """``log10(value * ratio) * coefficient`` into ``result``: three passes, invalid pixels never logged.

    log10 rather than log2: the same accuracy, and numpy's float32 log10 is the faster of the two here.
    """
    np.multiply(values, ratio, out=result)
    if mask is not None:  # log of zero, negative or NaN values leaves numpy's vectorised path
        np.copyto(result, 1.0, where=~mask)
    np.log10(result, out=result)
    result *= coefficient


def _logged_direct(
    values: np.ndarray, factor: float, scale: BandScale, mask: np.ndarray | None, result: np.ndarray
) -> None:
    """dB first, then the affine map (float64): for origins no float holds as a power of ten."""
    result[...] = values
    if mask is not None:
        np.copyto(result, 1.0, where=~mask)
    np.log10(result, out=result)
    result *= factor
    result -= scale.origin_db
    result *= scale.slope


def _linear(values: np.ndarray, scale: BandScale, work: type[np.floating], result: np.ndarray) -> bool:
    """``(value - origin) * slope`` for dB and display pixels; whether the result still needs a clip.

    The float32 rounding of the origin is corrected afterwards. Display pixels over their full scale
    (x / 255, x / 65535) land in [0, 1] by construction and skip the clip.
    """
    if scale.origin_db == 0:
        np.multiply(values, work(scale.slope), out=result, casting="unsafe")
        unsigned = values.dtype.kind == "u"
        return scale.clip and not (unsigned and scale.slope * np.iinfo(values.dtype).max <= 1)
    origin = work(scale.origin_db)
    np.subtract(values, origin, out=result, casting="unsafe")
    result *= work(scale.slope)
    correction = (float(origin) - scale.origin_db) * scale.slope
    if correction:
        result += work(correction)
    return scale.clip


def apply_scale(
    band: LinearBand, scale: BandScale, mask: np.ndarray | None, out: np.ndarray | None = None
) -> np.ndarray:
    """dB conversion and affine map in a few float32 passes; clip; invalid pixels -> 0.

    Logged radiometries: ``log10(value / origin) * factor * slope``, the division folded into one
    multiplication by a constant; invalid pixels are set to 1 before the log. dB and display pixels:
    ``(value - origin) * slope``. ``out``: a flat float32 array to write into (saves a copy when bands
    are assembled; it may be the band's own values). Clip limits are scalars of the work type: Python
    floats would make numpy take a slower, casting loop.
    """
    values = band.values
    work, ratio, direct = _work_type(band, scale)
    result = out if out is not None and work == np.float32 else np.empty(values.shape, dtype=work)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        if direct:
            _logged_direct(values, band.factor or 0.0, scale, mask, result)
            needs_clip = scale.clip
        elif ratio is not None:
            _logged(values, ratio, work(scale.slope * (band.factor or 0.0)), mask, result)
            needs_clip = scale.clip
        else:
            needs_clip = _linear(values, scale, work, result)
        if needs_clip:
            np.clip(result, work(0.0), work(1.0), out=result)
    if mask is not None:
        np.copyto(result, 0.0, where=~mask)
    if out is not None and result is not out:
        out[...] = result
        return out
    return result.astype(np.float32, copy=False)
