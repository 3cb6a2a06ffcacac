"""The per-row decisions of `sarlang1m.decode.SARDecode`, apart from running them.

Which rows of a batch share one decode (the questions of one image), which bands of a row to keep
(polarisation names looked up per row, with the ``missing`` policy), the 8-bit ``image`` fallback
for rows without an original GeoTIFF, and how 8-bit pixels are standardised. Pure functions of the rows:
`SARDecode` runs the decodes they ask for on its worker threads, and these rules read (and are tested)
without any threading.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import numpy as np
from PIL import Image

from ..sar.geotiff import DEFAULT_MAX_PIXELS, ExpectedImage, SARDecodeError
from ..sar.pixels import DecodedSAR

#: The row columns that locate and check an original GeoTIFF.
PATH_COLUMN, SHA256_COLUMN, BYTES_COLUMN = "sar_path", "sar_sha256", "sar_bytes"
PIXELS_FROM_SAR = "sar"
PIXELS_FROM_IMAGE = "image"

#: What `SARDecode(bands=[name, ...])` does when a row does not list a named polarisation (single-pol
#: images whose polarisation was not recorded, the 8-bit fallback): ``first`` takes the image's first band,
#: ``zeros`` gives a band of zeros that is False in the valid mask, ``error`` raises.
MissingBandPolicy = Literal["first", "zeros", "error"]
MISSING_BAND_POLICIES: tuple[MissingBandPolicy, ...] = get_args(MissingBandPolicy)


def check_missing(missing: str) -> MissingBandPolicy:
    """``missing`` itself if it is one of `MISSING_BAND_POLICIES`, else a ValueError listing them."""
    for known in MISSING_BAND_POLICIES:
        if missing == known:
            return known
    raise ValueError(f"unknown missing-band policy {missing!r}; expected one of {MISSING_BAND_POLICIES}")


def shared_decodes(rows: Sequence[Mapping[str, Any]], image_column: str) -> list[int]:
    """For each row, the index of the row whose decode it takes (its own index when it is decoded).

    Rows naming the same ``sar_path`` share the first one's decode (each original fetched and decoded
    once per batch). A row without an original shares the previous decoded row's when both have the
    same ``image_id`` and the same image bytes (compared, not trusted).
    """
    owners: list[int] = []
    first_of_path: dict[str, int] = {}
    previous: int | None = None
    for index, row in enumerate(rows):
        path = row.get(PATH_COLUMN)
        if path is not None and path in first_of_path:
            owners.append(first_of_path[path])
            continue
        if path is None and previous is not None and _same_image(row, rows[previous], image_column):
            owners.append(previous)
            continue
        if path is not None:
            first_of_path[path] = index
        owners.append(index)
        previous = index
    return owners


def _same_image(row: Mapping[str, Any], other: Mapping[str, Any], image_column: str) -> bool:
    """Same image id and the same image bytes, neither with an original: its pixels can be reused."""
    if row.get("image_id") is None or row.get("image_id") != other.get("image_id"):
        return False
    return other.get(PATH_COLUMN) is None and row.get(image_column) == other.get(image_column)


def expected_original(row: Mapping[str, Any]) -> ExpectedImage:
    """What a row says about its original GeoTIFF, checked on the file's header before it is decoded:
    its size (``width``, ``height``), its polarisations, and its ``sar_radiometry`` (None where it is silent).
    """
    polarizations = row.get("polarizations")
    return ExpectedImage(
        width=_whole(row.get("width")),
        height=_whole(row.get("height")),
        bands=len(polarizations) if isinstance(polarizations, (list, tuple)) and polarizations else None,
        radiometry=row.get("sar_radiometry") if isinstance(row.get("sar_radiometry"), str) else None,
        path=row.get(PATH_COLUMN) if isinstance(row.get(PATH_COLUMN), str) else None,
    )


def _whole(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else None


def band_plan(
    bands: Sequence[int | str] | None, missing: MissingBandPolicy, row: Mapping[str, Any], source: str
) -> list[int | None] | None:
    """Index in the file of each requested band (None: a zero band); None keeps every band.

    The 8-bit fallback is one grey band of no known polarisation, whatever the row lists: a name, or
    an index other than 0, is missing there.
    """
    if bands is None:
        return None
    fallback = source != PIXELS_FROM_SAR
    polarizations = [] if fallback else list(row.get("polarizations") or [])
    indices: list[int | None] = []
    for band in bands:
        if not isinstance(band, str) and not (fallback and int(band) != 0):
            indices.append(int(band))
        elif band in polarizations:
            indices.append(polarizations.index(band))
        elif missing == "error":
            where = "the 8-bit fallback image (one grey band)" if fallback else f"this image's {polarizations}"
            raise SARDecodeError(
                f"band {band!r} not in {where}; SARDecode(missing='first' or 'zeros') decodes such rows too"
            )
        else:
            indices.append(0 if missing == "first" else None)
    return indices


def image_to_display_array(image: Any, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The ``image`` column (PIL image, or {"bytes", "path"} when not decoded) as one grey band (1, H, W).

    Colour images become luminance ("L"): SAR has no colour, and SARDet-100K stores grey as RGB
    JPEGs; 16-bit grey images stay 16-bit.
    """
    if isinstance(image, Mapping):
        source = image.get("bytes") or image.get("path")
        if source is None:
            raise SARDecodeError("the image column holds neither bytes nor a path")
        image = Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    if not isinstance(image, Image.Image):
        raise SARDecodeError(f"unexpected image value of type {type(image).__name__}")
    width, height = image.size
    if max_pixels is not None and width * height > max_pixels:
        raise SARDecodeError(f"image of {width}x{height} pixels exceeds the limit of {max_pixels}")
    if image.mode not in ("L", "I;16", "I;16B", "I;16L"):
        image = image.convert("L")
    array = np.asarray(image)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("="))
    return array[np.newaxis]


#: Said once per `SARDecode` (and process) the first time `standardized_per_image` serves a row.
DISPLAY_STANDARDIZED_WARNING = (
    "normalize='standardize': {image_id} ({source}) has 8-bit display pixels (no original GeoTIFF, e.g. "
    "SARDet-100K, or an 8-bit one), which have no dB values and so no release statistics: such rows are "
    "standardised per image, (x - mean) / std over the image's own valid pixels, and say so "
    "(pixels_radiometry 'display', pixels_source 'image' for the fallback). Pass fallback_to_image=False to "
    "refuse rows without an original instead."
)


def standardized_per_image(decoded: DecodedSAR) -> DecodedSAR:
    """Display pixels standardised per band over the image's own valid pixels, in place.

    8-bit pixels have no dB values, so a source's dB statistics cannot apply to them; standardising each image
    by itself puts them on the scale of the standardised rows beside them in a batch (zero mean, unit
    variance) instead of [0, 1]. Invalid pixels stay 0; a constant band gives zeros, never NaN.
    """
    for band, valid in zip(decoded.pixels, decoded.valid, strict=True):
        values = band[valid]
        std = float(values.std(dtype=np.float64)) if values.size else 0.0
        if std > 0:
            band -= np.float32(values.mean(dtype=np.float64))
            band /= np.float32(std)
        else:
            band.fill(0)
        band[~valid] = 0
    return decoded
