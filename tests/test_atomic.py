"""Atomic writes: the target holds the old file or the whole new one, and a failed write leaves nothing."""

from pathlib import Path

import pytest

from sarlang1m.atomic import atomic_path


def test_a_complete_write_replaces_the_target_and_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "MANIFEST.json"
    target.write_text("old")
    with atomic_path(target) as partial:
        partial.write_text("new")
        assert target.read_text() == "old"  # nothing visible before the block ends
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["MANIFEST.json"]


def test_a_failed_write_keeps_the_old_target_and_removes_its_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "x.tif"
    target.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"), atomic_path(target) as partial:
        partial.write_bytes(b"ne")
        raise OSError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.tif"]
