"""Read SAR GeoTIFFs (bytes, a path or an array) into a band-first array, safely.

Pillow, which `datasets.Image` uses, drops bands of planar multi-band TIFFs and cannot read complex
ones, so SAR pixels are read with tifffile (plus imagecodecs for LZW, zstd, PackBits and JPEG). Every
input ends up as ``(bands, height, width)``; the TIFF header is checked *before* anything is
decompressed: the chain of pages must end, then `header_checks` (the samples under a limit, the data
inside the file and able to hold the claimed image, and, given a row's `ExpectedImage`, the image the
row describes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import struct
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from ..errors import printable
from ..schema import Radiometry
from .header_checks import ExpectedImage as ExpectedImage  # re-exported: the readers' names for them
from .header_checks import SARDecodeError as SARDecodeError
from .header_checks import check_expected, check_stored_size, padded_samples
from .radiometry import infer_radiometry, parse_radiometry

#: Default limit on the samples (height x width x bands) of one image: 2**28, i.e. 1 GiB as float32.
#: The largest SARLANG-1M originals are 4 x 900 x 900 (SpaceNet6); 2**28 leaves room for full scenes.
DEFAULT_MAX_PIXELS = 2**28

#: What `read_geotiff` and friends accept: GeoTIFF bytes, a path, or an array (bands, H, W) / (H, W).
SARInput = bytes | bytearray | memoryview | str | os.PathLike | np.ndarray

_IMAGE_AXES = "YX"

#: Dataset-level item of the GDAL_METADATA tag (42112) that declares the radiometry, as GDAL shows it:
#: ``<GDALMetadata><Item name="RADIOMETRY">amplitude</Item>...`` (`gdalinfo` lists ``RADIOMETRY=amplitude``).
GDAL_RADIOMETRY_ITEM = "RADIOMETRY"
#: Longest GDAL_METADATA text parsed: real ones are a few hundred bytes; a huge one is not worth reading.
_MAX_GDAL_METADATA = 1 << 20
#: The ImageDescription convention ``...; radiometry=amplitude; ...`` (key=value fields split by ';').
_DESCRIPTION_RADIOMETRY = re.compile(r"(?:^|;)\s*radiometry\s*=\s*([^;]*)", re.IGNORECASE)

#: Pages (IFDs) a file may chain: SAR GeoTIFFs hold one image and a few overviews. The chain is walked
#: before tifffile lists the pages, because a corrupt next-page offset can make it cycle.
MAX_PAGES = 1024
#: Tag count above which tifffile ends the page chain (it treats such an IFD as corrupt).
_TIFFFILE_MAX_TAGS = 4096


@dataclass(frozen=True)
class SARMetadata:
    """What the TIFF header says about an image (no pixel is decoded to obtain it)."""

    dtype: np.dtype
    bands: int
    height: int
    width: int
    #: Radiometry inferred by `infer_radiometry`; None for a real signed type when it depends on the
    #: sign of the values and the header does not tell it (see `read_sar_metadata`).
    radiometry: Radiometry | None
    #: GDAL_NODATA of the file, if it has one.
    nodata: float | None = None
    compression: str = "none"
    #: True when bands are stored as separate planes (PlanarConfiguration 2), False if interleaved.
    planar: bool = False
    tiled: bool = False
    #: Radiometry the file declares about itself: the GDAL_METADATA item RADIOMETRY, else a
    #: ``radiometry=...`` field of its ImageDescription; None when it declares none we know.
    declared_radiometry: Radiometry | None = None
    #: Band descriptions of GDAL_METADATA (``role="description"``, e.g. polarisations), in band order;
    #: empty when the file has none.
    band_descriptions: tuple[str, ...] = ()

    @property
    def pixels(self) -> int:
        """Samples of the whole image: what the pixel-count limit counts."""
        return self.bands * self.height * self.width


def describe_input(data: SARInput) -> str:
    """A short name of an input for error messages (a path, or the size of the bytes or array)."""
    if isinstance(data, (str, os.PathLike)):
        return str(data)
    if isinstance(data, np.ndarray):
        return f"array {data.dtype}{list(data.shape)}"
    return f"{len(data)} bytes of GeoTIFF"


@contextlib.contextmanager
def _open_tiff(data: SARInput) -> Iterator[tifffile.TiffFile]:
    """The TIFF, open; on exit it is closed and the in-memory copy of the input is released.

    tifffile's file, pages and series refer to one another: a closed TiffFile lives on until the
    garbage collector finds the cycle, and with it the input bytes its buffer shares. Large GeoTIFFs
    (13 MB for a SpaceNet6 original) then pile up by the dozen between collections, in a build and in
    every DataLoader worker. Closing the buffer drops them at once.
    """
    source: str | os.PathLike | io.BytesIO
    if isinstance(data, (str, os.PathLike)):
        source, buffer = data, None
    else:
        source = buffer = io.BytesIO(bytes(data))
    try:
        try:
            tif = tifffile.TiffFile(source)
        except Exception as error:  # tifffile raises several types for non-TIFF input
            raise SARDecodeError(f"{describe_input(data)}: not a readable TIFF ({error})") from error
        with tif:
            yield tif
    finally:
        if buffer is not None:
            buffer.close()


def _band_count(shape: tuple[int, ...], axes: str) -> int:
    return int(np.prod([n for n, axis in zip(shape, axes, strict=True) if axis not in _IMAGE_AXES], dtype=np.int64))


def _check_page_chain(tif: tifffile.TiffFile, name: str) -> None:
    """Refuse a chain of IFDs that loops or is longer than `MAX_PAGES`, before tifffile walks it.

    tifffile follows next-page offsets until it meets 0 or an offset past the end, and catches a loop
    only in some positions: a mutated offset pointing back (8 -> 12 -> 8 ...) makes it list pages
    without end. This walk stops where tifffile stops.
    """
    handle, layout = tif.filehandle, tif.tiff
    offset, seen = tif.pages.first.offset, set[int]()
    while offset and offset < handle.size:
        if offset in seen:
            raise SARDecodeError(f"{name}: corrupt TIFF: the chain of pages loops back to byte {offset}")
        if len(seen) == MAX_PAGES:
            raise SARDecodeError(f"{name}: more than {MAX_PAGES} pages in the TIFF")
        seen.add(offset)
        handle.seek(offset)
        try:
            (tags,) = struct.unpack(layout.tagnoformat, handle.read(layout.tagnosize))
            if tags > _TIFFFILE_MAX_TAGS:
                return
            handle.seek(offset + layout.tagnosize + tags * layout.tagsize)
            (offset,) = struct.unpack(layout.offsetformat, handle.read(layout.offsetsize))
        except struct.error:  # a short read: the chain ends here for tifffile too
            return


def _header(tif: tifffile.TiffFile, name: str) -> tuple[tifffile.TiffPageSeries, SARMetadata]:
    _check_page_chain(tif, name)
    if not tif.series:
        raise SARDecodeError(f"{name}: the TIFF holds no image")
    series = tif.series[0]
    page = series.keyframe
    if "Y" not in series.axes or "X" not in series.axes:
        raise SARDecodeError(f"{name}: no image plane in the TIFF (axes {series.axes!r})")
    if series.dtype is None:  # tifffile knows no type for these bits per sample / sample format
        raise SARDecodeError(f"{name}: unsupported pixel type (bits per sample {page.bitspersample})")
    shape = dict(zip(series.axes, series.shape, strict=True))
    nodata = float(page.nodata) if "GDAL_NODATA" in page.tags else None
    dtype = np.dtype(series.dtype)
    bands = _band_count(series.shape, series.axes)
    declared, descriptions = _declared_metadata(page, bands)
    metadata = SARMetadata(
        dtype=dtype,
        bands=bands,
        height=int(shape["Y"]),
        width=int(shape["X"]),
        radiometry=_radiometry_from_header(page, dtype),
        nodata=nodata,
        compression=getattr(page.compression, "name", str(page.compression)).lower(),
        planar=page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and page.samplesperpixel > 1,
        tiled=bool(page.is_tiled),
        declared_radiometry=declared,
        band_descriptions=descriptions,
    )
    return series, metadata


def _declared_metadata(page: tifffile.TiffPage, bands: int) -> tuple[Radiometry | None, tuple[str, ...]]:
    """Radiometry and band descriptions the file declares (GDAL_METADATA first, then ImageDescription)."""
    declared: Radiometry | None = None
    descriptions: tuple[str, ...] = ()
    tag = page.tags.get("GDAL_METADATA")
    if tag is not None and isinstance(tag.value, str):
        declared, descriptions = parse_gdal_metadata(tag.value, bands)
    if declared is None:
        tag = page.tags.get("ImageDescription")
        if tag is not None and isinstance(tag.value, str) and (match := _DESCRIPTION_RADIOMETRY.search(tag.value)):
            declared = parse_radiometry(match.group(1))
    return declared, descriptions


def _band_index(sample: str | None, bands: int) -> int | None:
    """The band a GDAL item's ``sample`` attribute names, if it names one of the image's bands."""
    if sample is None or not (sample.isascii() and sample.isdecimal()) or len(sample) > 6:
        return None
    index = int(sample)
    return index if index < bands else None


def parse_gdal_metadata(text: str, bands: int) -> tuple[Radiometry | None, tuple[str, ...]]:
    """The RADIOMETRY item and the band descriptions (of bands 0 to `bands` - 1) of a GDAL_METADATA text.

    Malformed or oversized XML declares nothing (the file is still read: the tag is advisory).
    """
    if len(text) > _MAX_GDAL_METADATA:
        return None, ()
    try:
        root = ElementTree.fromstring(text.strip("\x00 \r\n\t"))
    except (ElementTree.ParseError, ValueError):
        return None, ()
    radiometry, descriptions = None, {}
    for item in root.iter("Item"):
        name, sample, value = item.get("name", ""), item.get("sample"), (item.text or "").strip()
        if sample is None and name.upper() == GDAL_RADIOMETRY_ITEM and radiometry is None:
            radiometry = parse_radiometry(value)
        elif item.get("role") == "description" and (index := _band_index(sample, bands)) is not None:
            descriptions[index] = value
    ordered = tuple(descriptions.get(i, "") for i in range(max(descriptions, default=-1) + 1))
    return radiometry, ordered


def _radiometry_from_header(page: tifffile.TiffPage, dtype: np.dtype) -> Radiometry | None:
    """The inference rule of `infer_radiometry`, using the header's minimum value when signed."""
    if dtype.kind in "fi":
        minimum = page.tags.get("SMinSampleValue") or page.tags.get("MinSampleValue")
        if minimum is None:
            return None
        has_negative = bool(np.min(np.asarray(minimum.value)) < 0)
        return infer_radiometry(dtype, has_negative=has_negative)
    return infer_radiometry(dtype)


def _check_limits(
    tif: tifffile.TiffFile,
    series: tifffile.TiffPageSeries,
    metadata: SARMetadata,
    name: str,
    max_pixels: int | None,
    expected: ExpectedImage | None,
) -> None:
    if metadata.pixels <= 0:
        raise SARDecodeError(f"{name}: empty image {metadata.bands}x{metadata.height}x{metadata.width}")
    if expected is not None:
        check_expected(
            expected,
            dtype=metadata.dtype,
            bands=metadata.bands,
            height=metadata.height,
            width=metadata.width,
            name=name,
        )
    if max_pixels is not None and metadata.pixels > max_pixels:
        raise SARDecodeError(
            f"{name}: {metadata.bands}x{metadata.height}x{metadata.width} = {metadata.pixels} samples exceeds "
            f"the limit of {max_pixels} (raise max_pixels if the file is trusted)"
        )
    decoded = padded_samples(series, metadata.pixels)
    if max_pixels is not None and decoded > max_pixels:
        page = series.keyframe
        raise SARDecodeError(
            f"{name}: tiles of {page.tilewidth}x{page.tilelength} pad the image to {decoded} samples, over the "
            f"limit of {max_pixels} (raise max_pixels if the file is trusted)"
        )
    check_stored_size(series, decoded, tif.filehandle.size, name, any_codec=max_pixels is not None)


def read_sar_metadata(
    data: SARInput, *, inspect_pixels: bool = True, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> SARMetadata:
    """Data type, bands, size and inferred radiometry of a GeoTIFF, from its header.

    For a real signed type (float, int16) the inference rule depends on whether values are negative;
    when the header carries no minimum value, the pixels are decoded to tell (``inspect_pixels=True``)
    or the radiometry is left None.
    """
    if isinstance(data, np.ndarray):
        array = as_band_array(data)
        bands, height, width = array.shape
        return SARMetadata(array.dtype, bands, height, width, radiometry=infer_radiometry_of(array))
    name = describe_input(data)
    with _open_tiff(data) as tif:
        series, metadata = _checked_header(tif, name, max_pixels, None)
        if metadata.radiometry is None and inspect_pixels:
            array = _decode(series, metadata, name)
            metadata = dataclasses.replace(metadata, radiometry=infer_radiometry_of(array))
    return metadata


def infer_radiometry_of(array: np.ndarray) -> Radiometry:
    """`infer_radiometry` for decoded pixels: looks at the sign of the values when the type is signed.

    One reduction (``np.fmin``, which skips NaN), not a comparison pass plus ``any``: it runs on every
    float image whose radiometry neither the caller nor the header gives.
    """
    has_negative = False  # what unsigned and complex types are inferred with (their sign is not looked at)
    if array.dtype.kind in "fi":
        has_negative = bool(array.size) and bool(np.fmin.reduce(array, axis=None) < 0)
    return infer_radiometry(array.dtype, has_negative=has_negative)


def _decode(series: tifffile.TiffPageSeries, metadata: SARMetadata, name: str) -> np.ndarray:
    try:
        array = series.asarray(maxworkers=1)  # parallelism belongs to the data loader's workers
    except Exception as error:  # codecs raise their own types; the caller needs one
        raise SARDecodeError(f"{name}: corrupt image data ({type(error).__name__}: {error})") from error
    if array.shape != series.shape:  # tifffile gives an empty array for some corrupt pages
        raise SARDecodeError(f"{name}: corrupt image data (decoded {array.shape}, header {series.shape})")
    image_axes = [series.axes.index(axis) for axis in _IMAGE_AXES]
    band_axes = [i for i in range(array.ndim) if i not in image_axes]
    array = array.transpose(*band_axes, *image_axes)
    return array.reshape(metadata.bands, metadata.height, metadata.width)


def read_geotiff(
    data: SARInput, *, max_pixels: int | None = DEFAULT_MAX_PIXELS, expected: ExpectedImage | None = None
) -> tuple[np.ndarray, SARMetadata]:
    """Pixels ``(bands, height, width)`` and header of a GeoTIFF given as bytes, a path or an array.

    Interleaved files come back as a band-first view (no copy). Checked from the header before decoding:
    the limit ``max_pixels`` (samples; None trusts the file: no limit and no expansion bound), the data
    offsets and sizes, and, when a row names the file, what the row says about it (``expected``).
    """
    if isinstance(data, np.ndarray):
        array = as_band_array(data)
        if max_pixels is not None and array.size > max_pixels:
            raise SARDecodeError(f"{describe_input(data)}: {array.size} samples exceeds the limit of {max_pixels}")
        bands, height, width = array.shape
        return array, SARMetadata(array.dtype, bands, height, width, radiometry=None)
    name = describe_input(data) if expected is None or expected.path is None else printable(expected.path)
    if isinstance(data, (str, os.PathLike)) and not Path(data).is_file():
        raise SARDecodeError(f"{name}: no such file")
    with _open_tiff(data) as tif:
        series, metadata = _checked_header(tif, name, max_pixels, expected)
        return _decode(series, metadata, name), metadata


def _checked_header(
    tif: tifffile.TiffFile, name: str, max_pixels: int | None, expected: ExpectedImage | None
) -> tuple[tifffile.TiffPageSeries, SARMetadata]:
    """The image series and its metadata, within the limits; any failure reading them is one SARDecodeError."""
    try:
        series, metadata = _header(tif, name)
        _check_limits(tif, series, metadata, name, max_pixels, expected)
    except SARDecodeError:
        raise
    except Exception as error:
        raise SARDecodeError(f"{name}: corrupt TIFF header ({error})") from error
    return series, metadata


def as_band_array(array: np.ndarray) -> np.ndarray:
    """An in-memory image as ``(bands, height, width)``: (H, W) gains a band axis, 3-D is taken as is.

    A 3-D array whose first axis is longer than 4 while its last is at most 4 is almost surely
    (H, W, bands): that is refused rather than silently read as hundreds of bands.
    """
    if array.ndim == 2:
        return array[np.newaxis]
    if array.ndim != 3:
        raise SARDecodeError(f"{describe_input(array)}: expected (bands, H, W) or (H, W)")
    if array.shape[0] > 4 and array.shape[2] <= 4:
        raise SARDecodeError(
            f"{describe_input(array)}: looks like (H, W, bands); pass np.moveaxis(array, -1, 0) instead"
        )
    if 0 in array.shape:
        raise SARDecodeError(f"{describe_input(array)}: empty image")
    return array
