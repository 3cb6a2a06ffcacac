"""SARDecode's worker threads: each original fetched and decoded once per batch off the calling thread,
outputs identical to decoding row by row and in row order, errors naming the row whichever thread raised.

Rows come from the checked-in tiny release (synthetic, tests/data/tiny_release).
"""

from __future__ import annotations

import random
import shutil
import threading
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sarlang1m import schema
from sarlang1m.decode import SARDecode
from sarlang1m.decode.rows import shared_decodes
from sarlang1m.errors import NotFoundError
from sarlang1m.originals import OriginalsReader
from sarlang1m.sar import SARDecodeError


def _rows(release: Path) -> list[dict]:
    """Every image row of every config (with and without an original), as `datasets` hands them over."""
    rows = []
    for shard in sorted(release.glob(f"{schema.DATA_DIR}/**/*.parquet")):
        table = pq.read_table(shard)
        columns = ("image_id", "source", "image", "sar_path", "sar_sha256", "sar_bytes", "sar_radiometry")
        keep = [c for c in (*columns, "polarizations") if c in table.column_names]
        rows += table.select(keep).to_pylist()
    return rows


def _batch(rows: list[dict]) -> dict[str, list]:
    return {key: [row[key] for row in rows] for key in rows[0]}


@pytest.fixture(scope="module")
def mixed_batch(tiny_release: Path) -> dict[str, list]:
    """Rows naming each original several times, rows without an original (SARVQA1), shuffled."""
    rows = _rows(tiny_release)
    with_original = [r for r in rows if r["sar_path"]]
    without = [r for r in rows if not r["sar_path"]][:2]
    assert len({r["sar_path"] for r in with_original}) >= 3 and without
    batch = with_original * 3 + without
    random.Random(0).shuffle(batch)
    return _batch(batch)


def _assert_same_outputs(one: dict[str, list], other: dict[str, list]) -> None:
    assert one["image_id"] == other["image_id"] and one["pixels_source"] == other["pixels_source"]
    for field in ("pixels", "pixels_valid"):
        for left, right in zip(one[field], other[field], strict=True):
            np.testing.assert_array_equal(left, right)


def test_threaded_batches_equal_row_by_row_decoding(tiny_release: Path, mixed_batch: dict[str, list]):
    threaded = SARDecode(root=tiny_release, fetch_workers=4, decode_threads=2)(mixed_batch)
    sequential = SARDecode(root=tiny_release, fetch_workers=1)(mixed_batch)
    one_by_one = SARDecode(root=tiny_release)
    rows = [dict(zip(mixed_batch, values, strict=True)) for values in zip(*mixed_batch.values(), strict=True)]
    by_row = _batch([one_by_one(row) for row in rows])
    _assert_same_outputs(threaded, sequential)
    _assert_same_outputs(threaded, by_row)
    assert "sar" in threaded["pixels_source"] and "image" in threaded["pixels_source"]
    pixels = threaded["pixels"]
    assert len({id(p) for p in pixels}) == len(pixels)  # repeated images are copies, never shared arrays


def test_each_original_is_read_and_decoded_once_per_batch_off_the_calling_thread(
    tiny_release: Path, mixed_batch: dict[str, list], monkeypatch
):
    reads: list[str] = []
    decoders: list[int] = []
    read, decode_row = OriginalsReader.read, SARDecode.decode_row
    monkeypatch.setattr(OriginalsReader, "read", lambda self, path, *a: reads.append(path) or read(self, path, *a))

    def recording(self, row, *args):
        decoders.append(threading.get_ident())
        return decode_row(self, row, *args)

    monkeypatch.setattr(SARDecode, "decode_row", recording)
    SARDecode(root=tiny_release, fetch_workers=4)(mixed_batch)
    paths = [p for p in mixed_batch["sar_path"] if p]
    assert sorted(reads) == sorted(set(paths))
    # one decode per distinct original, one per run of rows without one, none on the calling thread
    assert len(set(paths)) < len(decoders) < len(mixed_batch["image_id"])
    assert threading.get_ident() not in decoders


def test_decodes_at_once_are_bounded_by_decode_threads(tiny_release: Path, mixed_batch: dict[str, list], monkeypatch):
    running, most = 0, 0
    lock = threading.Lock()
    decode_row = SARDecode.decode_row

    def counting(self, row, *args):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            threading.Event().wait(0.02)  # long enough for the other fetch threads to pile up
            return decode_row(self, row, *args)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(SARDecode, "decode_row", counting)
    SARDecode(root=tiny_release, fetch_workers=8, decode_threads=1)(mixed_batch)
    assert most == 1
    most = 0
    SARDecode(root=tiny_release, fetch_workers=8, decode_threads=2)(mixed_batch)
    assert most == 2


def test_a_corrupt_original_raises_from_its_worker_naming_the_row(tiny_release: Path, tmp_path: Path):
    release = tmp_path / "release"
    shutil.copytree(tiny_release, release)
    rows = [r for r in _rows(release) if r["sar_path"]]
    victim = rows[0]
    (release / victim["sar_path"]).write_bytes(b"x" * victim["sar_bytes"])  # the right size, not a TIFF
    batch = _batch(sorted(rows, key=lambda r: r["sar_path"] == victim["sar_path"]))  # the victim last
    with pytest.raises(SARDecodeError, match=f"image_id {victim['image_id']!r}: .*not a readable TIFF") as caught:
        SARDecode(root=release, fetch_workers=4, check_sha256=False)(batch)
    worker = next(t for t in threading.enumerate() if t.name.startswith("sarlang1m-originals"))
    assert worker is not threading.current_thread()
    assert any(entry.name == "_fetch_and_decode" for entry in caught.traceback)  # raised in a worker, kept


def test_a_missing_original_names_the_rows_that_use_it(tiny_release: Path, tmp_path: Path):
    release = tmp_path / "release"
    shutil.copytree(tiny_release, release)
    rows = [r for r in _rows(release) if r["sar_path"]]
    victim = rows[0]["sar_path"]
    (release / victim).unlink()
    users = sorted({r["image_id"] for r in rows if r["sar_path"] == victim})
    with pytest.raises(NotFoundError, match=rf"original not found.*\(image_id {users[0]}"):
        SARDecode(root=release, fetch_workers=4)(_batch(rows * 2))


def test_rows_without_an_original_share_only_the_previous_decode_of_the_same_image():
    image = {"bytes": b"png", "path": None}
    rows = [
        {"image_id": "a", "sar_path": "originals/x/1.tif", "image": image},
        {"image_id": "b", "sar_path": None, "image": image},
        {"image_id": "a", "sar_path": "originals/x/1.tif", "image": image},  # the original again
        {"image_id": "b", "sar_path": None, "image": image},  # the image of row 1 again
        {"image_id": "b", "sar_path": None, "image": {"bytes": b"other", "path": None}},  # other bytes
    ]
    assert shared_decodes(rows, "image") == [0, 1, 0, 1, 4]
