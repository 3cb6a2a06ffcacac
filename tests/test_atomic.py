"""Atomic writes: the target holds the old file or the whole new one, and a failed write leaves nothing."""

from pathlib import Path

import pytest

from sarlang1m.atomic import atomic_path, check_output_file


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


def test_a_failed_write_names_the_target_not_the_hidden_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.mkdir()  # the partial file is written, then cannot replace a folder
    with pytest.raises(IsADirectoryError) as raised, atomic_path(target) as partial:
        partial.write_text("records")
    assert raised.value.filename == str(target) and "partial" not in str(raised.value)
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    missing = tmp_path / "no-such-folder" / "x.json"
    with pytest.raises(FileNotFoundError) as raised, atomic_path(missing) as partial:
        partial.write_text("records")
    assert raised.value.filename == str(missing)


def test_an_output_file_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("a file")
    with pytest.raises(ValueError, match=rf"^{tmp_path}: is a folder; give the path of the file to write"):
        check_output_file(tmp_path)
    with pytest.raises(ValueError, match=rf"^{afile}/a/b\.json: cannot be created: {afile} is a file, not a folder$"):
        check_output_file(afile / "a" / "b.json")
    check_output_file(tmp_path / "new" / "out.json")  # a folder to create is fine
    check_output_file(afile)  # an existing file is replaced (atomically)
