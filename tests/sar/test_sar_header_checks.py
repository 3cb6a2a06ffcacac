"""The header checks before decoding: decompression bombs refused, and an original checked against its row.

All files are synthetic: `tests/geotiff_bombs.py` writes the two bombs (16,384 x 16,384 uint8 zeros in
35 KB of zstd and 280 KB of deflate); the other images are a few pixels of random values.
"""

from __future__ import annotations

import hashlib
import io
import struct
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import tifffile
from geotiff_bombs import BOMB_SIDE, BOMBS, bomb, bomb_row, peak_memory
from tiny_raw import encode_tiff

from sarlang1m.decode import SARDecode, decode_sar
from sarlang1m.sar import SARDecodeError, read_geotiff
from sarlang1m.sar.geotiff import ExpectedImage
from sarlang1m.sar.header_checks import EXPANSION_FREE_SAMPLES, MAX_EXPANSION

#: The process's peak resident memory while it decodes a bomb must stay under this (its baseline included).
PEAK_BOUND_MB = 300


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM in /proc/self/status is Linux's")
@pytest.mark.parametrize("name", sorted(BOMBS))
def test_each_bomb_is_refused_naming_the_file_with_a_peak_under_300_mb(name: str, tmp_path: Path):
    """Without the checks each bomb decoded at about 1.9 GB peak (see docs/robustness.md)."""
    for side, how in ((512, "row"), (BOMB_SIDE, "row"), (512, "bytes")):
        row = bomb_row(tmp_path, name, side=side)
        figures = peak_memory(tmp_path, row, how)
        assert figures["outcome"].startswith("SARDecodeError: "), (side, how, figures)
        assert figures["peak_mb"] < PEAK_BOUND_MB, (side, how, figures)
        if how == "row":  # the file and the row are named
            assert f"image_id 'SV_Bomb_{name}': originals/dfc2023/SV_Bomb_{name}.tif: " in figures["outcome"]
        expected = "the row says 512x512" if (how, side) == ("row", 512) else "refused as a decompression bomb"
        assert expected in figures["outcome"], figures


def test_the_bombs_are_what_they_claim_to_be():
    for name in BOMBS:
        with tifffile.TiffFile(io.BytesIO(bomb(name))) as tif:
            assert tif.series[0].shape == (BOMB_SIDE, BOMB_SIDE) and tif.series[0].dtype == np.uint8
        assert len(bomb(name)) < 300_000


def _row_for(tmp_path: Path, data: bytes, **row) -> dict:
    path = "originals/spacenet6/SN6_Rotterdam_1.tif"
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_bytes(data)
    return {
        "image_id": "SN6_Rotterdam_1",
        "sar_path": path,
        "sar_sha256": hashlib.sha256(data).hexdigest(),
        "sar_bytes": len(data),
        "source": "spacenet6",
        "image": None,
        **row,
    }


QUAD_POL = ["HH", "HV", "VH", "VV"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"width": 24, "height": 20, "polarizations": QUAD_POL, "sar_radiometry": "db"}, None),
        ({"width": 20, "height": 24, "polarizations": QUAD_POL, "sar_radiometry": "db"}, "says 24x20 pixels, the row"),
        ({"width": 24, "height": 20, "polarizations": ["VV"], "sar_radiometry": "db"}, "has 4 band"),
        ({"width": 24, "height": 20, "polarizations": QUAD_POL, "sar_radiometry": "display"}, "cannot hold the row's"),
        ({"polarizations": [], "sar_radiometry": None}, None),  # a row that says nothing: nothing to compare
    ],
)
def test_the_header_is_checked_against_the_row_before_decoding(tmp_path: Path, row: dict, message: str | None):
    pixels = np.random.default_rng(0).normal(-10, 3, (4, 20, 24)).astype(np.float32)
    data = encode_tiff(pixels, photometric="minisblack", planarconfig="separate", compression="zlib")
    decoded_row = _row_for(tmp_path, data, **row)
    decode = SARDecode(root=tmp_path)
    if message is None:
        assert decode(decoded_row)["pixels"].shape == (4, 20, 24)
        return
    with pytest.raises(SARDecodeError, match=message) as raised:
        decode(decoded_row)
    assert "image_id 'SN6_Rotterdam_1': originals/spacenet6/SN6_Rotterdam_1.tif: " in str(raised.value)


def test_complex_pixels_stored_as_iq_pairs_match_a_row_listing_one_polarisation():
    iq = np.random.default_rng(1).normal(size=(2, 8, 8)).astype(np.float32)
    data = encode_tiff(iq, photometric="minisblack", planarconfig="separate")
    pixels, _ = read_geotiff(data, expected=ExpectedImage(8, 8, bands=1, radiometry="complex"))
    assert pixels.shape == (2, 8, 8)
    with pytest.raises(SARDecodeError, match="has 2 band"):
        read_geotiff(data, expected=ExpectedImage(8, 8, bands=1, radiometry="amplitude"))


def test_a_large_image_that_compresses_beyond_the_bound_is_refused_and_a_trusting_caller_may_decode_it():
    side = 2048 + 64  # just over EXPANSION_FREE_SAMPLES samples
    assert side * side > EXPANSION_FREE_SAMPLES
    data = encode_tiff(np.zeros((side, side), np.uint8), compression="zstd", photometric="minisblack", tile=(512, 512))
    assert side * side > MAX_EXPANSION * len(data)
    with pytest.raises(SARDecodeError, match="refused as a decompression bomb"):
        decode_sar(data)
    assert decode_sar(data, max_pixels=None).shape == (1, side, side)
    speckle = np.random.default_rng(2).gamma(1.0, 100.0, (side, side)).astype(np.uint16)
    real = encode_tiff(speckle, compression="zstd", photometric="minisblack", tile=(512, 512))
    assert decode_sar(real).shape == (1, side, side)  # speckle compresses little: within the bound


def test_tiles_that_share_their_data_count_it_once(tmp_path: Path):
    """A header may point every tile at the same bytes: the stored size is what the file holds."""
    data = bytearray(encode_tiff(np.zeros((64, 64), np.uint8), photometric="minisblack"))
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tif:
        assert tif.pages.first.tags["StripOffsets"].count == 1
    # claim 64 rows per strip of 64 x 4096 pixels, 64 strips all at the one strip's offset: 256 KB from 4 KB
    with pytest.raises(SARDecodeError, match="bytes of none data cannot hold"):
        read_geotiff(bytes(_stretched(data)))


def _stretched(data: bytearray) -> bytearray:
    """The 64 x 64 uncompressed file with its height claimed 64 times larger and every strip at one offset."""
    first = struct.unpack_from("<I", data, 4)[0]
    entries = struct.unpack_from("<H", data, first)[0]
    tags = {}
    for index in range(entries):
        at = first + 2 + 12 * index
        code, kind, count = struct.unpack_from("<HHI", data, at)
        tags[code] = (at, kind, count)
    strips = 64
    offset = struct.unpack_from("<I", data, tags[273][0] + 8)[0]
    table = len(data)
    data += struct.pack(f"<{strips}I", *([offset] * strips)) + struct.pack(f"<{strips}I", *([4096] * strips))
    struct.pack_into("<HHII", data, tags[273][0], 273, 4, strips, table)
    struct.pack_into("<HHII", data, tags[279][0], 279, 4, strips, table + 4 * strips)
    struct.pack_into("<HHII", data, tags[257][0], 257, 4, 1, 64 * strips)
    struct.pack_into("<HHII", data, tags[278][0], 278, 4, 1, 64)
    return data


def test_a_small_image_in_huge_tiles_is_refused_before_a_tile_is_decoded():
    """Found by tests/test_fuzz_headers.py: a tile is decoded whole, so a 1 x 1 image in one 32,768-pixel-square
    tile made 33 KB of zstd decode to 1 GB; the image is counted padded to whole tiles."""
    data = bytearray(encode_tiff(np.zeros((16, 16), np.uint8), compression="zstd", tile=(16, 16)))
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tif:
        tags = tif.pages.first.tags
        for name, value in (("ImageWidth", 1), ("ImageLength", 1), ("TileWidth", 32_768), ("TileLength", 32_768)):
            struct.pack_into("<H" if tags[name].dtype == 3 else "<I", data, tags[name].valueoffset, value)
    tracemalloc.start()
    try:
        with pytest.raises(SARDecodeError, match="tiles of 32768x32768 pad the image to 1073741824 samples"):
            decode_sar(bytes(data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(data) < 1_000 and peak < 2_000_000
