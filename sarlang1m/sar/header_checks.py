"""What a GeoTIFF's header must say before any pixel is decompressed: limits, and the row's promises.

A header is a claim: a few hundred bytes can claim an image of gigabytes, and a file in a release can
be another file than its row describes. These checks run on the header alone, so a refusal allocates
nothing: the samples stay under a limit, the data lies inside the file, the stored bytes can hold the
claimed image (exactly for uncompressed, PackBits and deflate data; within `MAX_EXPANSION` beyond
`EXPANSION_FREE_SAMPLES` for every codec), and, when a row names the file, the image is the one the row
describes (`ExpectedImage`: width, height, bands, a pixel type that can hold its radiometry).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tifffile

from ..errors import InputError
from .radiometry import radiometry_fits

#: Most bytes a codec can decode from one stored byte, where the format bounds it (PackBits: a 2-byte run
#: gives 128 bytes; deflate: 1032). A header claiming more than that from its data is corrupt.
_FORMAT_EXPANSION: dict[int, int] = {
    tifffile.COMPRESSION.NONE: 1,
    tifffile.COMPRESSION.PACKBITS: 64,
    tifffile.COMPRESSION.ADOBE_DEFLATE: 1032,
    tifffile.COMPRESSION.DEFLATE: 1032,
}
#: Decoded bytes per stored byte allowed for any codec, beyond `EXPANSION_FREE_SAMPLES`. Speckled SAR
#: barely compresses (zlib keeps ~90 % of float32, zstd ~84 %); only a mostly constant image goes past
#: 256x, and at that size it is a decompression bomb (zstd and LZW bound no ratio: 35 KB of zstd can
#: claim 2**28 samples, deflate's own bound of 1032x lets 280 KB claim the same).
MAX_EXPANSION = 256
#: Samples (bands x H x W) decoded whatever the ratio: 2**22 holds a 4 x 1024 x 1024 image, and decoding
#: it costs tens of MB at most, so a small constant image (an all-nodata tile) still reads.
EXPANSION_FREE_SAMPLES = 2**22


class SARDecodeError(InputError):
    """The one error raised for SAR input that cannot be read: not a TIFF, corrupt, too large, bad shape."""


@dataclass(frozen=True)
class ExpectedImage:
    """What a row says about its original GeoTIFF (None: the row does not say), checked against the header.

    ``width`` and ``height`` are the row's image size; ``bands`` the number of polarisations it lists;
    ``radiometry`` its ``sar_radiometry``, which the header's pixel type and bands must be able to hold;
    ``path`` its ``sar_path``, which errors name.
    """

    width: int | None = None
    height: int | None = None
    bands: int | None = None
    radiometry: str | None = None
    path: str | None = None


def padded_samples(series: tifffile.TiffPageSeries, samples: int) -> int:
    """The samples the decoder writes: the image padded to whole tiles. A tile is decoded whole, so a 1 x 1
    image in one 32,768-pixel-square tile costs what the tile does (a bomb the header's size hides)."""
    page = series.keyframe
    width, length = int(page.imagewidth or 0), int(page.imagelength or 0)
    if not page.is_tiled or not (page.tilewidth and page.tilelength and width and length):
        return samples
    across = -(-width // page.tilewidth) * page.tilewidth
    down = -(-length // page.tilelength) * page.tilelength
    return samples * across * down // (width * length)


def check_stored_size(
    series: tifffile.TiffPageSeries, samples: int, file_size: int, name: str, *, any_codec: bool
) -> None:
    """Refuse image data outside the file, or too few stored bytes for the image the header claims.

    `samples` are those the decoder writes (`padded_samples`). Stored bytes are counted at most once per
    file byte (tiles that share their data count once). With ``any_codec``, images over
    `EXPANSION_FREE_SAMPLES` must decode within `MAX_EXPANSION` of them.
    """
    stored = 0
    for page in series.pages:
        if page is None:
            continue
        ends = np.asarray(page.dataoffsets, dtype=np.int64) + np.asarray(page.databytecounts, dtype=np.int64)
        if ends.size and int(ends.max()) > file_size:
            raise SARDecodeError(f"{name}: truncated TIFF (image data runs to byte {int(ends.max())} of {file_size})")
        stored += int(np.sum(page.databytecounts, dtype=np.int64))
    stored = min(stored, file_size)
    keyframe = series.keyframe
    codec = getattr(tifffile.COMPRESSION(keyframe.compression), "name", str(keyframe.compression)).lower()
    needed = samples * keyframe.bitspersample // 8
    expansion = _FORMAT_EXPANSION.get(keyframe.compression)
    if expansion is not None and stored * expansion < needed:
        raise SARDecodeError(
            f"{name}: {stored} bytes of {codec} data cannot hold the image the header claims ({needed} bytes)"
        )
    if any_codec and samples > EXPANSION_FREE_SAMPLES and needed > MAX_EXPANSION * max(stored, 1):
        raise SARDecodeError(
            f"{name}: {stored} bytes of {codec} data claim an image of {needed} bytes, over {MAX_EXPANSION} "
            "times more: refused as a decompression bomb (pass max_pixels=None for a file you trust)"
        )


def check_expected(expected: ExpectedImage, *, dtype: np.dtype, bands: int, height: int, width: int, name: str) -> None:
    """Refuse a header that is not the image the row describes (before anything is decompressed)."""
    if expected.width not in (None, width) or expected.height not in (None, height):
        raise SARDecodeError(
            f"{name}: the TIFF header says {width}x{height} pixels, the row says "
            f"{expected.width}x{expected.height}: not the row's original"
        )
    as_iq = expected.radiometry == "complex" and dtype.kind != "c"  # complex values stored as I/Q band pairs
    if expected.bands and bands != expected.bands * (2 if as_iq else 1):
        raise SARDecodeError(
            f"{name}: the TIFF header has {bands} band(s), the row lists {expected.bands} polarisation(s)"
        )
    if expected.radiometry is not None and not radiometry_fits(expected.radiometry, dtype, bands):
        raise SARDecodeError(f"{name}: {bands} band(s) of {dtype} cannot hold the row's {expected.radiometry!r} pixels")
