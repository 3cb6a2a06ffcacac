"""Fuzzing the SAR decoder with mutated GeoTIFF bytes and odd arrays (all synthetic).

The contract under test: `decode_sar`, `read_sar_metadata` and `preprocess_for_vlm` either succeed
with outputs that keep their invariants (float32 (bands, H, W) in [0, 1] without NaN, a mask of the
same shape that is False where a pixel is 0 by invalidity; uint8 (H, W)), or raise `SARDecodeError`;
nothing else escapes, nothing hangs, and a header that claims a huge image is refused before any
pixel memory is allocated.

The seeds are valid GeoTIFFs of every pixel type, codec and layout the release may hold; the
mutations flip, set, insert and delete bytes (most of them in the header and the IFD, where a
decoder is most fragile), cut files short, and rewrite the type, count or value of single tags.
"""

from __future__ import annotations

import functools
import io
import json
import re
import struct
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
import tifffile
from fuzz_corpus import corpus_files, fuzz_settings, time_limit
from hypothesis import event, example, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.extra import numpy as hnp

from sarlang1m import decode_sar
from sarlang1m.sar import SARDecodeError, preprocess_for_vlm, read_sar_metadata
from sarlang1m.sar import geotiff as geotiff_module
from sarlang1m.schema import RADIOMETRIES

#: Samples a fuzzed header may claim in these tests (a mutated size within the default limit decodes
#: for real, which is slow, not wrong); the default limit is checked in the tests of huge claims.
LIMIT = 1 << 18
HEIGHT, WIDTH = 20, 24

# numpy warns when fuzzed values overflow (a mutated float read as 1e300 dB); the outputs are checked instead.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# ---------------------------------------------------------------------------------------- seeds

_PIXEL_TYPES = ("uint8", "uint16", "int16", "float32", "complex64")
_CODECS = (None, "zlib", "lzw", "zstd", "packbits", "jpeg")


def _pixels(dtype: str, bands: int, rng: np.random.Generator) -> np.ndarray:
    """Synthetic SAR-like values of a type, (bands, H, W): speckle, dB for floats, raw for integers."""
    shape = (bands, HEIGHT, WIDTH)
    if dtype == "complex64":
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(np.complex64)
    if dtype == "float32":
        return (10 * np.log10(rng.gamma(1.0, 1.0, shape) + 1e-6)).astype(np.float32)
    info = np.iinfo(dtype)
    low, high = (-40, 30) if info.min < 0 else (0, min(info.max, 3000))  # signed: dB-like values
    return rng.integers(low, high, shape, endpoint=True).astype(dtype)


@functools.cache
def seeds() -> tuple[tuple[str, bytes], ...]:
    """(description, GeoTIFF bytes) for every type x codec x tiled/striped x 1 band / 2 planar / 2 interleaved,
    plus big-endian and BigTIFF variants. JPEG only holds uint8 here."""
    rng = np.random.default_rng(20250101)
    found = []
    for dtype in _PIXEL_TYPES:
        for codec in _CODECS:
            if codec == "jpeg" and dtype != "uint8":
                continue
            for tiled in (False, True):
                for bands, planar in ((1, False), (2, True), (2, False)):
                    pixels = _pixels(dtype, bands, rng)
                    options = {"photometric": "minisblack", "compression": codec}
                    options.update({"tile": (16, 16)} if tiled else {"rowsperstrip": 7})
                    if bands > 1:
                        options["planarconfig"] = "separate" if planar else "contig"
                        if not planar:
                            pixels = np.moveaxis(pixels, 0, -1)
                    else:
                        pixels = pixels[0]
                    if codec == "jpeg" and bands > 1 and not planar:
                        continue  # 2-sample interleaved JPEG is not a thing
                    buffer = io.BytesIO()
                    tifffile.imwrite(buffer, pixels, **options)
                    layout = f"{'tiled' if tiled else 'striped'} {bands}b{' planar' if planar else ''}"
                    found.append((f"{dtype} {codec or 'none'} {layout}", buffer.getvalue()))
    for dtype in ("uint16", "float32"):
        for extra in ({"byteorder": ">"}, {"bigtiff": True}):
            buffer = io.BytesIO()
            tifffile.imwrite(buffer, _pixels(dtype, 1, rng)[0], compression="zlib", **extra)
            found.append((f"{dtype} zlib {extra}", buffer.getvalue()))
    return tuple(found)


@functools.cache
def seed_layout(index: int) -> tuple[int, int, list[tuple[int, int, int]], str]:
    """Where the first IFD of a seed starts and ends, its tags (entry offset, value offset, value size), byte order."""
    with tifffile.TiffFile(io.BytesIO(seeds()[index][1])) as tif:
        page = tif.pages.first
        entries = len(page.tags)
        start = page.offset
        end = start + tif.tiff.tagnosize + entries * tif.tiff.tagsize + tif.tiff.offsetsize
        tags = [(tag.offset, tag.valueoffset, _value_size(tag)) for tag in page.tags.values()]
        return start, end, tags, tif.tiff.byteorder


def _value_size(tag: tifffile.TiffTag) -> int:
    """Bytes of one value of a tag (2 for SHORT, 4 for LONG, ...)."""
    return struct.calcsize("<" + tag.dataformat[-1])


INTERESTING = [0, 1, 2, 3, 7, 8, 16, 32, 64, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 40]


@st.composite
def mutated_tiffs(draw: st.DrawFn) -> tuple[str, bytes]:
    """A seed with 1-4 mutations: bytes changed in the header, IFD or anywhere, bytes inserted or deleted,
    the file cut, or the type, count or value of a tag rewritten with an interesting number."""
    index = draw(st.integers(0, len(seeds()) - 1))
    name, content = seeds()[index]
    start, end, tags, byteorder = seed_layout(index)
    data = bytearray(content)
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["byte"] * 3 + ["tag"] * 4 + ["insert", "delete", "cut"]))
        if not data:
            break
        if operation == "tag":
            entry, value_at, size = draw(st.sampled_from(tags))
            field = draw(st.sampled_from(["type", "count", "value"]))
            at, size = {"type": (entry + 2, 2), "count": (entry + 4, 4), "value": (value_at, size)}[field]
            number = draw(st.sampled_from(INTERESTING) | st.integers(0, 1 << 16)) % (1 << (8 * size))
            packed = number.to_bytes(size, "little" if byteorder == "<" else "big")
            data[at : at + size] = packed[: max(0, len(data) - at)]
            continue
        region = draw(st.sampled_from(["header", "ifd", "ifd", "ifd", "anywhere", "anywhere"]))
        low, high = {"header": (0, 16), "ifd": (start, end), "anywhere": (0, len(data))}[region]
        at = draw(st.integers(min(low, len(data) - 1), max(min(high, len(data)) - 1, min(low, len(data) - 1))))
        if operation == "byte":
            data[at] = draw(st.sampled_from(INTERESTING[:12]) | st.integers(0, 255)) & 0xFF
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return name, bytes(data)


# ------------------------------------------------------------------------------------- checks


def outcome(call: str, error: SARDecodeError | None = None) -> None:
    """Count what happened (shown by --hypothesis-show-statistics): success, or the kind of refusal."""
    if not currently_in_test_context():
        return
    if error is None:
        event(f"{call}: ok")
    else:
        reason = re.sub(r"\d+(?:\.\d+)?(?:x\d+)*", "N", str(error).split(": ", 1)[-1].split(" (")[0])
        event(f"{call}: {reason[:60]}")


def check_metadata(data: bytes | np.ndarray):
    """read_sar_metadata: a header within the limits, or SARDecodeError (None)."""
    with time_limit():
        try:
            header = read_sar_metadata(data, inspect_pixels=False, max_pixels=LIMIT)
        except SARDecodeError as error:
            outcome("metadata", error)
            return None
    outcome("metadata")
    assert min(header.bands, header.height, header.width) >= 1 and header.pixels <= LIMIT
    assert header.dtype.kind in "biufc"
    assert header.radiometry is None or header.radiometry in RADIOMETRIES
    return header


def check_decode(data: bytes | np.ndarray, **options) -> np.ndarray | None:
    """decode_sar with a mask: the invariants when it succeeds, else SARDecodeError (None)."""
    with time_limit():
        try:
            pixels, valid = decode_sar(data, max_pixels=LIMIT, with_mask=True, **options)
        except SARDecodeError as error:
            outcome("decode", error)
            return None
    outcome("decode")
    header = read_sar_metadata(data, inspect_pixels=False, max_pixels=LIMIT)
    bands = header.bands
    if options.get("radiometry") == "complex" and header.dtype.kind != "c":
        bands //= 2  # I/Q band pairs
    assert pixels.dtype == np.float32 and pixels.shape == (bands, header.height, header.width)
    assert valid.dtype == np.bool_ and valid.shape == pixels.shape
    assert np.isfinite(pixels).all(), "no NaN or infinity"
    assert pixels.min() >= 0.0 and pixels.max() <= 1.0, (pixels.min(), pixels.max())
    assert not pixels[~valid].any(), "invalid pixels are 0"
    return pixels


def check_preprocess(data: bytes | np.ndarray) -> np.ndarray | None:
    """preprocess_for_vlm (no pixel limit of its own: called only on headers within LIMIT)."""
    with time_limit():
        try:
            image = preprocess_for_vlm(data)
        except SARDecodeError as error:
            outcome("preprocess", error)
            return None
    outcome("preprocess")
    header = read_sar_metadata(data, inspect_pixels=False)
    assert image.dtype == np.uint8 and image.shape == (header.height, header.width)
    return image


def check_everything(data: bytes, **options) -> np.ndarray | None:
    """All three entry points on one input; the decoded pixels, or None if refused."""
    header = check_metadata(data)
    pixels = check_decode(data, **options)
    if pixels is not None:
        assert header is not None, "decoded a file whose header read_sar_metadata refuses"
    if header is not None:
        check_preprocess(data)
    return pixels


# ------------------------------------------------------------------------------------ properties


@pytest.mark.parametrize("index", range(len(seeds())), ids=[name for name, _ in seeds()])
def test_every_seed_decodes(index):
    """The seeds themselves are valid: every entry point succeeds on them (else the fuzz proves nothing)."""
    _, content = seeds()[index]
    assert check_metadata(content) is not None
    assert check_decode(content) is not None
    assert check_preprocess(content) is not None


OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "radiometry": st.sampled_from(RADIOMETRIES),
        "normalize": st.just("range"),
        "db_range": st.sampled_from([(-25.0, 5.0), (0.0, 60.0)]),
    },
).filter(lambda o: ("normalize" in o) <= ("db_range" in o))


@fuzz_settings(1000)
@given(case=mutated_tiffs(), options=OPTIONS)
def test_mutated_tiffs_raise_only_sar_decode_error(case, options):
    _, data = case
    check_everything(data, **options)


@fuzz_settings(150)
@given(
    data=st.binary(max_size=200) | st.builds(lambda tail: b"II*\x00\x08\x00\x00\x00" + tail, st.binary(max_size=200))
)
def test_random_bytes_are_not_a_tiff(data):
    check_everything(data)


_ARRAY_TYPES = st.sampled_from(["uint8", "uint16", "int16", "int32", "uint32", "float32", "float64", "complex64"])


@fuzz_settings(150)
@given(
    array=_ARRAY_TYPES.flatmap(
        lambda dtype: hnp.arrays(
            dtype,
            st.sampled_from([(1, 6, 7), (2, 5, 4), (3, 3), (1, 1, 1), (4, 9, 2)]),
            elements=None if dtype != "float32" else st.floats(width=32, allow_nan=True, allow_infinity=True),
        )
    ),
    options=OPTIONS,
)
@example(array=np.array([[[np.finfo(np.float64).max, 1e-300]]]), options={})  # dB range beyond float32
# Found by the long run: zeros and one subnormal, read as dB (band 2 is negative): the 2-98 % range was
# 5e-324 dB wide, its slope infinite, and 0 x inf made NaN pixels.
@example(array=np.array([[[5e-324] + [0.0] * 19], [[-1.0] + [0.0] * 19]]).reshape(2, 5, 4), options={})
@example(array=np.full((1, 2, 2), np.nan, dtype=np.float32), options={})
@example(array=np.zeros((1, 3, 3), dtype=np.float32), options={"normalize": "range", "db_range": (0.0, 1e-300)})
def test_arrays_of_every_kind_normalise_within_the_invariants(array, options):
    """In-memory arrays with NaN, infinities, extremes and constants: [0, 1] without NaN, or SARDecodeError."""
    check_decode(array, **options)


BAD_ARGUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "radiometry": st.sampled_from(["", "dB", "power", "complex ", "display"]),
        "normalize": st.sampled_from(["", "percentile", "range", "standardize", "none", "minmax"]),
        "percentiles": st.tuples(st.floats(-10, 110), st.floats(-10, 110)) | st.just((1.0,)),
        "db_range": st.tuples(st.floats(-50, 50) | st.just(-np.inf), st.floats(-50, 50) | st.just(np.inf)),
        "bands": st.lists(st.integers(-3, 5), max_size=3),
        "statistics": st.just({"mean_db": [0.0]}) | st.just({"mean_db": [0.0], "std_db": [1.0, 1.0]}),
        "out": st.sampled_from(["numpy", "torch", "jax"]),
        "max_pixels": st.integers(-1, 2000),
    },
)


@fuzz_settings(200)
@given(index=st.integers(0, len(seeds()) - 1), arguments=BAD_ARGUMENTS)
@example(index=0, arguments={"db_range": (-np.inf, 0.0)})  # accepted, and made NaN pixels
def test_bad_arguments_raise_value_errors(index, arguments):
    """Wrong values of well-typed arguments: a ValueError (SARDecodeError is one) and nothing else; what
    is accepted keeps the output invariants."""
    with time_limit():
        try:
            pixels = decode_sar(seeds()[index][1], **arguments)
        except ValueError as error:
            message = re.sub(r"-?\d+(?:\.\d+)?", "N", str(error))
            event(f"{type(error).__name__}: {message[:50]}")
            return
    if arguments.get("normalize", "percentile") in ("percentile", "range"):
        pixels = np.asarray(pixels)
        assert np.isfinite(pixels).all() and pixels.min() >= 0 and pixels.max() <= 1


@pytest.mark.parametrize("path", corpus_files(".tif"), ids=lambda path: path.stem)
@pytest.mark.parametrize("entry", ["decode_sar", "read_sar_metadata", "preprocess_for_vlm", "decode_sar(path)"])
def test_found_inputs_stay_fixed(path, entry):
    """Every GeoTIFF of the regression corpus is refused with SARDecodeError, within the time limit."""
    calls = {
        "decode_sar": lambda: decode_sar(path.read_bytes()),
        "read_sar_metadata": lambda: read_sar_metadata(path.read_bytes()),
        "preprocess_for_vlm": lambda: preprocess_for_vlm(path.read_bytes()),
        "decode_sar(path)": lambda: decode_sar(path),
    }
    with time_limit(5), pytest.raises(SARDecodeError):
        calls[entry]()


# ---------------------------------------------------------------------------- targeted regressions


def _tiff(pixels: np.ndarray, **options) -> bytearray:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, photometric="minisblack", **options)
    return bytearray(buffer.getvalue())


def _set_tag(data: bytearray, name: str, value: int, index: int = 0) -> bytearray:
    """Overwrite one value of a tag in place (the file is little-endian classic TIFF)."""
    tag = tifffile.TiffFile(io.BytesIO(bytes(data))).pages.first.tags[name]
    size = _value_size(tag)
    data[tag.valueoffset + index * size : tag.valueoffset + (index + 1) * size] = value.to_bytes(size, "little")
    return data


def _next_page_offset_at(data: bytes) -> int:
    """Byte position of the first IFD's next-IFD offset (classic TIFF)."""
    first = struct.unpack_from("<I", data, 4)[0]
    entries = struct.unpack_from("<H", data, first)[0]
    return first + 2 + 12 * entries


@pytest.mark.parametrize("loop", ["self", "two-pages"])
def test_a_looping_chain_of_pages_is_refused_quickly(loop):
    """Found by the fuzz: next-IFD offsets 8 -> 12 -> 8 made tifffile list pages without end."""
    data = _tiff(np.arange(48, dtype=np.uint16).reshape(6, 8))
    first = struct.unpack_from("<I", data, 4)[0]
    at = _next_page_offset_at(data)
    if loop == "self":
        struct.pack_into("<I", data, at, first)
    else:  # a second IFD (a copy of the first) pointing back to the first
        copy_at = len(data) + (len(data) % 2)
        data += b"\0" * (copy_at - len(data)) + data[first:at] + struct.pack("<I", first)
        struct.pack_into("<I", data, at, copy_at)
    with time_limit(5), pytest.raises(SARDecodeError, match="loops back"):
        decode_sar(bytes(data))


def test_too_many_pages_are_refused(monkeypatch):
    monkeypatch.setattr(geotiff_module, "MAX_PAGES", 3)
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as writer:
        for _ in range(4):
            writer.write(np.zeros((4, 4), np.uint8), photometric="minisblack")
    with pytest.raises(SARDecodeError, match="more than 3 pages"):
        read_sar_metadata(buffer.getvalue())


@pytest.mark.parametrize(("index", "bits"), [(0, 65472), (0, 4)])
def test_unknown_bits_per_sample_is_refused(index, bits):
    """Found by the fuzz: tifffile then returns no dtype (read as float64) and an empty array (ValueError)."""
    pixels = (np.arange(2 * 6 * 8).reshape(6, 8, 2) + 1j).astype(np.complex64)
    data = _set_tag(_tiff(pixels, planarconfig="contig"), "BitsPerSample", bits, index)
    for call in (decode_sar, read_sar_metadata, preprocess_for_vlm):
        with pytest.raises(SARDecodeError):
            call(bytes(data))


# ------------------------------------------------------------------------------ huge claims, memory


def _claiming(side: int, compression: str | None, dtype: str = "float32") -> bytes:
    """A small valid file whose ImageWidth and ImageLength are rewritten to ``side`` (a mutated header)."""
    data = _tiff(np.ones((8, 8), dtype=dtype), compression=compression)
    return bytes(_set_tag(_set_tag(data, "ImageWidth", side), "ImageLength", side))


HUGE_CLAIMS = [
    ("beyond max_pixels, zstd", _claiming(1 << 16, "zstd")),  # 2^32 samples
    ("beyond max_pixels, lzw", _claiming(1 << 15, "lzw")),
    ("within max_pixels, uncompressed", _claiming(12_000, None)),  # 144M samples from 256 bytes
    ("within max_pixels, packbits", _claiming(12_000, "packbits")),
    ("within max_pixels, deflate", _claiming(12_000, "zlib")),
]


@pytest.mark.parametrize(("name", "data"), HUGE_CLAIMS, ids=[name for name, _ in HUGE_CLAIMS])
def test_a_header_claiming_a_huge_image_is_refused_before_allocation(name, data):
    """Python allocations stay under 2 MB where decoding would take hundreds of MB (tracemalloc sees
    numpy's buffers)."""
    for call in (decode_sar, read_sar_metadata, preprocess_for_vlm):
        tracemalloc.start()
        try:
            with pytest.raises(SARDecodeError, match=r"exceeds the limit|cannot hold"):
                call(data)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 2_000_000, f"{call.__name__}: peak {peak} bytes"


def test_huge_claims_are_refused_under_an_address_space_limit(tmp_path):
    """The same inputs in a child process whose address space may grow by 256 MB only: any attempt to
    allocate the claimed image would end in MemoryError, which must not be what stops it."""
    paths = []
    for number, (_, data) in enumerate(HUGE_CLAIMS):
        path = tmp_path / f"claim{number}.tif"
        path.write_bytes(data)
        paths.append(str(path))
    script = textwrap.dedent(
        """
        import json, resource, sys
        from sarlang1m import decode_sar
        from sarlang1m.sar import SARDecodeError
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (used + (256 << 20), resource.RLIM_INFINITY))
        outcomes = []
        for path in json.loads(sys.argv[1]):
            try:
                decode_sar(open(path, "rb").read())
                outcomes.append("decoded")
            except SARDecodeError as error:
                outcomes.append("memory" if "MemoryError" in str(error) else "refused")
            except MemoryError:
                outcomes.append("memory")
        print(json.dumps(outcomes))
        """
    )
    if not sys.platform.startswith("linux"):
        pytest.skip("RLIMIT_AS and /proc/self/statm are Linux's")
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(paths)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["refused"] * len(paths)


def test_within_the_limit_a_compressed_claim_is_decoded_not_refused():
    """The documented boundary: zstd and LZW bound no ratio, so a small file may legitimately hold a big
    constant image (here 1024 x 1024 of zstd zeros): it decodes, up to max_pixels."""
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.zeros((1024, 1024), np.uint16), compression="zstd", photometric="minisblack")
    assert len(buffer.getvalue()) < 4096
    assert decode_sar(buffer.getvalue()).shape == (1, 1024, 1024)
    with pytest.raises(SARDecodeError, match="exceeds the limit"):
        decode_sar(buffer.getvalue(), max_pixels=1024 * 1023)
