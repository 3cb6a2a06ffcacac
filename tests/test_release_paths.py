"""A hostile local release: symlinks, special files, files longer than their row, control characters in paths.

Each test copies the tiny SYNTHETIC release and breaks one thing the way a release someone else published
could be broken; `sarlang1m.load(decode="sar")`, `OriginalsReader` and `verify` must refuse it in one clear
error naming the file (and the row), never reading outside the release, never blocking, never escaping
into the terminal.
"""

from __future__ import annotations

import os
import shutil
import stat
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fuzz_corpus import time_limit

from sarlang1m import schema
from sarlang1m.cli import main
from sarlang1m.decode import SARDecode
from sarlang1m.errors import NotFoundError, ReleaseError, VerificationError
from sarlang1m.load import load
from sarlang1m.originals import OriginalsReader
from sarlang1m.publish.manifest import file_entries, read_manifest, verify_local, write_manifest
from sarlang1m.release_paths import check_original_path, path_problem, read_release_file


def _copy(release: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "release"
    shutil.copytree(release, copy)
    return copy


def _original_row(release: Path, source: str = "dfc2023") -> dict:
    for shard in sorted(release.glob(f"{schema.DATA_DIR}/vqa/**/*.parquet")):
        for row in pq.read_table(shard).to_pylist():
            if row["source"] == source and row["sar_path"]:
                return row
    raise AssertionError(f"no {source} row with an original")


def _decode(release: Path, row: dict) -> dict:
    return SARDecode(root=release)({k: v for k, v in row.items() if k != "qa"})


def test_a_symlinked_original_is_refused_and_nothing_outside_is_read(built_tiny_release: Path, tmp_path: Path):
    release = _copy(built_tiny_release, tmp_path)
    row = _original_row(release)
    outside = tmp_path / "outside.tif"
    shutil.copy(release / row["sar_path"], outside)  # a valid GeoTIFF with the row's very bytes
    (release / row["sar_path"]).unlink()
    (release / row["sar_path"]).symlink_to(outside)
    with pytest.raises(ReleaseError, match=f"{row['sar_path']}: is a symlink") as raised:
        _decode(release, row)
    assert f"image_id {row['image_id']}" in str(raised.value)
    rows = load("sarvqa2", split="train", source=release, decode="sar", streaming=True)
    with pytest.raises(ReleaseError, match="is a symlink"):
        list(rows)


def test_a_symlinked_originals_folder_is_refused(built_tiny_release: Path, tmp_path: Path):
    release = _copy(built_tiny_release, tmp_path)
    row = _original_row(release)
    folder = release / "originals" / "dfc2023"
    shutil.move(folder, tmp_path / "elsewhere")
    folder.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ReleaseError, match=r"originals/dfc2023 is a symlink"):
        _decode(release, row)


def test_a_fifo_is_refused_at_once_instead_of_blocking(built_tiny_release: Path, tmp_path: Path):
    release = _copy(built_tiny_release, tmp_path)
    row = _original_row(release)
    (release / row["sar_path"]).unlink()
    os.mkfifo(release / row["sar_path"])
    with time_limit(10), pytest.raises(ReleaseError, match="is a FIFO"):
        _decode(release, row)


def test_a_device_is_refused_unread(built_tiny_release: Path, tmp_path: Path):
    release = _copy(built_tiny_release, tmp_path)
    row = _original_row(release)
    (release / row["sar_path"]).unlink()
    try:
        os.mknod(release / row["sar_path"], stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's numbers
    except (PermissionError, OSError):
        pytest.skip("creating a device node needs privileges")
    with time_limit(10), pytest.raises(ReleaseError, match="is a device"):
        _decode(release, row)


def test_a_folder_in_place_of_an_original_is_one_clear_error(built_tiny_release: Path, tmp_path: Path):
    release = _copy(built_tiny_release, tmp_path)
    row = _original_row(release)
    (release / row["sar_path"]).unlink()
    (release / row["sar_path"]).mkdir()
    with pytest.raises(ReleaseError, match="is a folder") as raised:
        _decode(release, row)
    assert not isinstance(raised.value, IsADirectoryError)


def test_a_file_longer_than_its_row_is_refused_without_reading_it(built_tiny_release: Path, tmp_path: Path):
    release = _copy(built_tiny_release, tmp_path)
    row = _original_row(release)
    with open(release / row["sar_path"], "r+b") as handle:
        handle.truncate(256 * 2**20)  # sparse: 256 MB of zeros after the GeoTIFF
    tracemalloc.start()
    try:
        with pytest.raises(VerificationError, match=f"{256 * 2**20} bytes, the row says {row['sar_bytes']}"):
            OriginalsReader(release).read(row["sar_path"], row["sar_sha256"], row["sar_bytes"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_reads_are_bounded_and_report_what_a_cache_needs(tmp_path: Path):
    (tmp_path / "originals" / "s").mkdir(parents=True)
    (tmp_path / "originals" / "s" / "a.tif").write_bytes(b"x" * 100)
    read = read_release_file(tmp_path, "originals/s/a.tif", limit=100)
    status = (tmp_path / "originals" / "s" / "a.tif").stat()
    assert (read.data, read.size, read.mtime_ns, read.inode) == (b"x" * 100, 100, status.st_mtime_ns, status.st_ino)
    with pytest.raises(VerificationError, match="100 bytes, the row says 99"):
        read_release_file(tmp_path, "originals/s/a.tif", limit=99)
    with pytest.raises(NotFoundError, match="original not found"):
        read_release_file(tmp_path, "originals/s/b.tif")


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("originals/dfc2023/a\x00b.tif", "control characters"),
        ("originals/dfc2023/\x1b[2J\x1b[31mred.tif", "control characters"),
        ("originals/dfc2023/\u202egnp.tif", "control characters"),
    ],
)
def test_paths_that_could_drive_a_terminal_are_refused_and_never_printed_raw(path: str, problem: str):
    assert problem in (path_problem(path) or "")
    with pytest.raises(ReleaseError, match="not a relative path under originals/") as raised:
        check_original_path(path)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in str(raised.value))


def test_a_nul_in_sar_path_names_the_row_and_the_path(built_tiny_release: Path):
    row = _original_row(built_tiny_release) | {"sar_path": "originals/dfc2023/a\x00b.tif"}
    with pytest.raises(ReleaseError) as raised:
        _decode(built_tiny_release, row)
    message = str(raised.value)
    assert "'originals/dfc2023/a\\x00b.tif'" in message and f"image_id {row['image_id']}" in message
    assert "\x00" not in message


def _with_sar_path(release: Path, old: str, new: str, *, rename: bool) -> None:
    """Rewrite the rows naming one original (and, with `rename`, the file's name) and re-list the MANIFEST, as
    a hostile publisher would."""
    if rename:
        (release / old).rename(release / new)
    for shard in sorted(release.glob(f"{schema.DATA_DIR}/**/*.parquet")):
        table = pq.read_table(shard)
        paths = [new if p == old else p for p in table.column("sar_path").to_pylist()]
        index = table.schema.get_field_index("sar_path")
        pq.write_table(table.set_column(index, "sar_path", pa.array(paths, pa.string())), shard)
    manifest = read_manifest(release)
    manifest.pop("files")
    manifest.pop("manifest_format")
    write_manifest(release, manifest, file_entries(release))


@pytest.mark.parametrize("rename", [False, True], ids=["in-rows", "in-rows-and-manifest"])
def test_verify_prints_a_path_with_escape_codes_escaped(built_tiny_release: Path, tmp_path: Path, capsys, rename):
    release = _copy(built_tiny_release, tmp_path)
    row = _original_row(release)
    hostile = row["sar_path"].replace(".tif", "\x1b[2J\x1b[31m.tif")
    _with_sar_path(release, row["sar_path"], hostile, rename=rename)
    if not rename:
        problems = verify_local(release).problems
        assert any("is not a relative path under originals/ (it holds control characters)" in p for p in problems)
    with pytest.raises(SystemExit) as exited:
        main(["verify", str(release)])
    assert exited.value.code in (1, 2)
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err and "\\x1b[2J" in captured.out + captured.err
