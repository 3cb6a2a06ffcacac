"""One rule for the folders build, synth and demo write: a new or empty folder, or an earlier output its
marker proves (with the caller's consent); never an input, a file, a link or someone's folder of files."""

import json
import os
from pathlib import Path

import pytest

from sarlang1m import schema
from sarlang1m.build.release import build_release
from sarlang1m.demo import run_demo
from sarlang1m.errors import InputError, OutputExistsError
from sarlang1m.output_folders import RELEASE_FOLDER, check_output_folder, is_release_folder, remove_stale
from sarlang1m.synth import write_synthetic_release


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def hidden_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_release_folder_is_one_whose_manifest_says_so(tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    assert not is_release_folder(folder)
    (folder / schema.MANIFEST_FILE).write_text(json.dumps({"dataset": "something else", "files": {}}))
    assert not is_release_folder(folder)
    (folder / schema.MANIFEST_FILE).write_text("{not json")
    assert not is_release_folder(folder)
    (folder / schema.MANIFEST_FILE).write_text(json.dumps({"dataset": schema.PRETTY_NAME, "files": {}}))
    assert is_release_folder(folder)


def test_a_new_path_and_an_empty_folder_are_written_without_asking(tmp_path):
    assert check_output_folder(tmp_path / "new" / "deeper", replaceable=RELEASE_FOLDER) is False
    (tmp_path / "empty").mkdir()
    assert check_output_folder(tmp_path / "empty", replaceable=RELEASE_FOLDER) is False


def test_a_release_is_replaced_only_when_asked_and_the_hint_names_both_spellings(tmp_path):
    release = tmp_path / "release"
    release.mkdir()
    (release / schema.MANIFEST_FILE).write_text(json.dumps({"dataset": schema.PRETTY_NAME, "files": {}}))
    with pytest.raises(OutputExistsError, match=r"pass --overwrite \(overwrite=True in Python\) to replace it"):
        check_output_folder(release, replaceable=RELEASE_FOLDER)
    assert check_output_folder(release, replaceable=RELEASE_FOLDER, overwrite=True) is True


def test_someones_files_a_file_and_a_link_are_never_replaced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(OutputExistsError, match="is not empty and is not a release folder"):
        check_output_folder(mine, replaceable=RELEASE_FOLDER, overwrite=True)
    (tmp_path / "file").write_text("keep")
    with pytest.raises(OutputExistsError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "file", replaceable=RELEASE_FOLDER, overwrite=True)
    (tmp_path / "link").symlink_to(mine, target_is_directory=True)
    with pytest.raises(OutputExistsError, match="is a symbolic link"):
        check_output_folder(tmp_path / "link", replaceable=RELEASE_FOLDER, overwrite=True)


def test_an_input_a_folder_holding_one_and_a_folder_inside_one_are_refused(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for out, relation in ((raw, "is"), (tmp_path, "holds"), (raw / "sub", "is inside"), (raw / ".." / "raw", "is")):
        with pytest.raises(InputError, match=f"{relation} the input"):
            check_output_folder(out, inputs=[raw], replaceable=RELEASE_FOLDER, overwrite=True)


def test_a_path_under_a_file_names_the_file(tmp_path):
    (tmp_path / "passwd").write_text("root")
    with pytest.raises(InputError, match=r"passwd/sub: cannot be created: .*passwd is a file, not a folder"):
        check_output_folder(tmp_path / "passwd" / "sub")


def test_stale_work_folders_and_set_aside_outputs_of_dead_runs_are_removed(tmp_path):
    out = tmp_path / "out"
    dead, alive = 999_999_999, os.getpid()
    for name in (f".out.building-{dead}", f".out.old-{dead}", f".out.building-{alive}", f".other.building-{dead}"):
        (tmp_path / name).mkdir()
    remove_stale(out, "building")
    assert hidden_leftovers(tmp_path) == [f".other.building-{dead}", f".out.building-{alive}"]


# ------------------------------------------------------------------ the rule, as build, synth and demo apply it


def test_build_overwrite_replaces_a_release_but_never_the_input_or_a_folder_holding_it(tiny_raw, tmp_path):
    raw_before = tree(tiny_raw)
    for out in (tiny_raw, tmp_path, tiny_raw / "sub"):
        with pytest.raises(InputError, match="the input"):
            build_release(tiny_raw, out, overwrite=True, progress=False)
    assert tree(tiny_raw) == raw_before and not (tiny_raw / "sub").exists()
    release = tmp_path / "release"
    build_release(tiny_raw, release, progress=False)
    with pytest.raises(OutputExistsError, match=r"--overwrite \(overwrite=True in Python\)"):
        build_release(tiny_raw, release, progress=False)
    (release / "stale.txt").write_text("from the old release")
    build_release(tiny_raw, release, progress=False, overwrite=True)
    assert not (release / "stale.txt").exists() and is_release_folder(release)
    assert hidden_leftovers(tmp_path) == []


def test_build_overwrite_keeps_someones_folder_and_a_file_and_leaves_nothing_hidden(tiny_raw, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    (tmp_path / "file.txt").write_text("keep")
    with pytest.raises(OutputExistsError, match="is not empty and is not a release folder"):
        build_release(tiny_raw, mine, overwrite=True, progress=False)
    with pytest.raises(OutputExistsError, match="is a file, not a folder"):
        build_release(tiny_raw, tmp_path / "file.txt", overwrite=True, progress=False)
    assert (mine / "thesis.tex").read_text() == "years of work"
    assert (tmp_path / "file.txt").read_text() == "keep"
    assert hidden_leftovers(tmp_path) == []


def test_synth_and_demo_refuse_the_same_outputs(tmp_path):
    (tmp_path / "file").write_text("keep")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(OutputExistsError, match="is a file, not a folder"):
        write_synthetic_release(tmp_path / "file", images=16, progress=False)
    with pytest.raises(InputError, match="file is a file, not a folder"):
        write_synthetic_release(tmp_path / "file" / "sub", images=16, progress=False)
    with pytest.raises(OutputExistsError, match="is not empty"):
        write_synthetic_release(mine, images=16, progress=False)
    with pytest.raises(OutputExistsError, match="is a file, not a folder"):
        run_demo(tmp_path / "file", images=16, progress=False)
    with pytest.raises(OutputExistsError, match="is not empty and is not a folder the demo wrote"):
        run_demo(mine, images=16, progress=False)
    assert (tmp_path / "file").read_text() == "keep" and tree(mine) == {"notes.txt": b"keep"}
    assert hidden_leftovers(tmp_path) == []
