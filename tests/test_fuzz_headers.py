"""Fuzzing crafted GeoTIFF headers under a memory ceiling: what a header claims never buys memory (synthetic).

Each example is a classic TIFF written from scratch: any width and height up to 65,535, one to four bands
of one of five pixel types, one of five codecs, strips or tiles (planar or interleaved), and one small
chunk of data (zeros compressed by the codec, or random bytes) that every strip or tile points to, as a
hostile file would. `decode_sar` must decode it or raise `SARDecodeError`, and its traced peak memory
must stay under a ceiling set by the file's size (what `MAX_EXPANSION` lets so few bytes decode to), not
by what the header claims. The free allowance `EXPANSION_FREE_SAMPLES` is lowered here so that the
examples stay small and fast; the bound scales the same way at its real value.
"""

from __future__ import annotations

import math
import struct
import tracemalloc
from unittest import mock

import imagecodecs
import numpy as np
from fuzz_corpus import fuzz_settings, time_limit
from hypothesis import assume, event, example, given
from hypothesis import strategies as st

from sarlang1m import decode_sar
from sarlang1m.sar import SARDecodeError, header_checks

#: The free allowance in these examples (samples decoded whatever the ratio).
FREE_SAMPLES = 2**12
#: Python allocations any decode may make on top of the pixels (tifffile's and the test's own objects).
BASE_BYTES = 4 * 2**20
#: Traced bytes per decoded byte the decoder may take: the decoded image, its float32 normalisation,
#: the mask and the percentile selection's working arrays (about 7 for uint8, measured; 24 leaves room).
PEAK_PER_DECODED_BYTE = 24

_TYPES = {"uint8": (8, 1), "uint16": (16, 1), "int16": (16, 2), "float32": (32, 3), "complex64": (64, 6)}
_CODECS = {"none": 1, "lzw": 5, "deflate": 8, "packbits": 32773, "zstd": 50000}
_ENCODERS = {
    "lzw": imagecodecs.lzw_encode,
    "deflate": imagecodecs.zlib_encode,
    "packbits": imagecodecs.packbits_encode,
    "zstd": imagecodecs.zstd_encode,
}
_SHORT, _LONG = 3, 4
#: What a refusal says, for the statistics of a long run (``--hypothesis-show-statistics``).
_REASONS = ("decompression bomb", "cannot hold", "exceeds the limit", "truncated", "corrupt", "not a readable")


def crafted_tiff(
    width: int, height: int, bands: int, dtype: str, codec: str, planar: bool, block: int, tiled: bool, chunk: bytes
) -> bytes:
    """A little-endian classic TIFF whose every strip or tile is `chunk` (stored once, pointed to by all)."""
    bits, sample_format = _TYPES[dtype]
    across, down = (math.ceil(width / block), math.ceil(height / block)) if tiled else (1, math.ceil(height / block))
    count = across * down * (bands if planar and bands > 1 else 1)
    offsets_tag, counts_tag = (324, 325) if tiled else (273, 279)
    entries: list[tuple[int, int, list[int]]] = [
        (256, _LONG, [width]),
        (257, _LONG, [height]),
        (258, _SHORT, [bits] * bands),
        (259, _SHORT, [_CODECS[codec]]),
        (262, _SHORT, [1]),
        (277, _SHORT, [bands]),
        (284, _SHORT, [2 if planar else 1]),
        (339, _SHORT, [sample_format] * bands),
        (offsets_tag, _LONG, [8] * count),  # the chunk is stored right after the 8-byte header
        (counts_tag, _LONG, [len(chunk)] * count),
    ]
    entries += [(322, _LONG, [block]), (323, _LONG, [block])] if tiled else [(278, _LONG, [block])]
    body = chunk + b"\0" * (len(chunk) % 2)
    ifd_at = 8 + len(body) + sum(len(_packed(kind, values)) for _, kind, values in entries if _outside(kind, values))
    out_of_line, table = 8 + len(body), b""
    ifd = struct.pack("<H", len(entries))
    for code, kind, values in sorted(entries):
        packed = _packed(kind, values)
        if _outside(kind, values):
            ifd += struct.pack("<HHII", code, kind, len(values), out_of_line + len(table))
            table += packed
        else:
            ifd += struct.pack("<HHI", code, kind, len(values)) + packed.ljust(4, b"\0")
    ifd += struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", ifd_at) + body + table + ifd


def _packed(kind: int, values: list[int]) -> bytes:
    return struct.pack(f"<{len(values)}{'H' if kind == _SHORT else 'I'}", *values)


def _outside(kind: int, values: list[int]) -> bool:
    """Whether the values do not fit the entry's 4 bytes and are stored elsewhere (TIFF 6.0, section 2)."""
    return len(_packed(kind, values)) > 4


@st.composite
def crafted(draw: st.DrawFn) -> tuple[bytes, dict]:
    side = st.one_of(st.integers(1, 64), st.integers(65, 4096), st.integers(4097, 65_535))
    width, height = draw(side), draw(side)
    bands = draw(st.integers(1, 4))
    dtype = draw(st.sampled_from(sorted(_TYPES)))
    codec = draw(st.sampled_from(sorted(_CODECS)))
    tiled = draw(st.booleans())
    if tiled:
        block = draw(st.sampled_from([16, 32, 64, 256, 1024, 4096]))
    else:  # rows per strip: the image in 1 to 64 strips
        block = max(1, math.ceil(height / draw(st.integers(1, 64))))
    planar = draw(st.booleans())
    pieces = (math.ceil(width / block) * math.ceil(height / block)) if tiled else math.ceil(height / block)
    assume(pieces * (bands if planar else 1) <= 512)
    samples = (block * block if tiled else width * block) * (1 if planar else bands)
    exact = samples * _TYPES[dtype][0] // 8  # what one strip or tile decodes to: zeros of that size decode
    if codec != "none" and draw(st.booleans()):
        size = exact if exact <= 2**20 and draw(st.booleans()) else draw(st.integers(0, 2**18))
        chunk = _ENCODERS[codec](bytes(size))
    else:
        chunk = draw(st.binary(max_size=2048))
    assume(len(chunk) <= 4096)
    options = {"width": width, "height": height, "bands": bands, "dtype": dtype, "codec": codec}
    return crafted_tiff(width, height, bands, dtype, codec, planar, block, tiled, chunk), options


#: Found by this property: a 1 x 1 image in one 1,024-pixel-square tile of complex64 made the decoder
#: write the whole tile (8 MB from a 160-byte file); a 32,768-pixel tile, 1 GB from 33 KB.
ONE_PIXEL_IN_A_HUGE_TILE = (
    crafted_tiff(1, 1, 1, "complex64", "deflate", False, 1024, True, b"\0"),
    {"width": 1, "height": 1, "bands": 1, "dtype": "complex64", "codec": "deflate"},
)


@fuzz_settings(examples=150)
@given(crafted())
@example(ONE_PIXEL_IN_A_HUGE_TILE)
def test_a_crafted_header_is_decoded_or_refused_within_a_memory_ceiling(case: tuple[bytes, dict]):
    data, options = case
    itemsize = _TYPES[options["dtype"]][0] // 8
    allowed = max(FREE_SAMPLES * itemsize, header_checks.MAX_EXPANSION * len(data))
    ceiling = BASE_BYTES + PEAK_PER_DECODED_BYTE * allowed
    with mock.patch.object(header_checks, "EXPANSION_FREE_SAMPLES", FREE_SAMPLES), time_limit():
        tracemalloc.start()
        try:
            try:
                pixels = decode_sar(data)
            except SARDecodeError as error:
                event(f"refused: {next((k for k in _REASONS if k in str(error)), 'other')}")
            else:
                event("decoded")
                assert pixels.dtype == np.float32 and pixels.shape[1:] == (options["height"], options["width"])
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    claimed = options["width"] * options["height"] * options["bands"] * itemsize
    assert peak <= ceiling, f"peak {peak} bytes for a {len(data)}-byte file claiming {claimed} bytes: {options}"


def test_the_crafted_writer_makes_files_tifffile_reads_as_claimed():
    """The generator itself: a crafted file of real pixels decodes to those pixels."""
    pixels = np.arange(40 * 24, dtype=np.uint16).reshape(40, 24)
    data = crafted_tiff(24, 40, 1, "uint16", "zstd", False, 40, False, imagecodecs.zstd_encode(pixels.tobytes()))
    import io

    import tifffile

    assert np.array_equal(tifffile.imread(io.BytesIO(data)), pixels)
