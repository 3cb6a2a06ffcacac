"""Messages name what the user gave: the path they typed (never a hidden work path), an option both ways."""

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sarlang1m.atomic import atomic_path
from sarlang1m.build.release import build_release
from sarlang1m.errors import InputError
from sarlang1m.messages import naming, option_hint
from sarlang1m.publish.hub import push_release
from sarlang1m.synth import write_synthetic_release

#: Names of the hidden paths commands work in; no message may show one.
HIDDEN_MARKS = (".building-", ".synth-incomplete-", ".partial-", ".old-")


@pytest.fixture
def unwritable(tmp_path: Path) -> Path:
    """A folder in which creating anything fails: sysfs refuses even root; else a read-only folder."""
    try:
        os.mkdir("/sys/sarlang1m-probe")
    except OSError:
        return Path("/sys")
    os.rmdir("/sys/sarlang1m-probe")
    if os.geteuid() == 0:
        pytest.skip("no folder here refuses writes to root")
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    return folder


def test_an_option_is_named_as_the_cli_and_python_spell_it():
    assert option_hint("overwrite") == "--overwrite (overwrite=True in Python)"
    assert option_hint("sardet_root", "DIR") == "--sardet-root DIR (sardet_root=DIR in Python)"


def test_an_error_on_a_hidden_path_names_the_users_path_instead(tmp_path):
    work = tmp_path / ".out.building-123"
    with pytest.raises(PermissionError) as error, naming(tmp_path / "out", work / "release", work):
        raise PermissionError(errno.EACCES, "Permission denied", str(work / "release" / "data" / "x.parquet"))
    assert error.value.filename == str(tmp_path / "out" / "data" / "x.parquet")
    with pytest.raises(OSError) as other, naming(tmp_path / "out", work):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "elsewhere"))
    assert other.value.filename == str(tmp_path / "elsewhere")  # not a hidden path: left as it is


def test_an_atomic_write_that_fails_names_the_target_not_its_partial_file(tmp_path):
    target = tmp_path / "no-such-folder" / "export.json"
    with pytest.raises(FileNotFoundError) as error, atomic_path(target) as partial:
        partial.write_text("[]")  # a real OSError, on the hidden partial file
    assert error.value.filename == str(target)


def test_build_and_synth_into_an_unwritable_folder_name_the_output_given(tiny_raw, unwritable):
    for make in (
        lambda out: build_release(tiny_raw, out, progress=False),
        lambda out: write_synthetic_release(out, images=16, progress=False),
    ):
        out = unwritable / "sarlang1m-test-out"
        with pytest.raises((OSError, InputError)) as error:
            make(out)
        message = f"{error.value.filename}: {error.value.strerror}" if error.value.filename else str(error.value)
        assert str(out) in message and not any(mark in message for mark in HIDDEN_MARKS), message


def test_the_cli_names_the_path_given_when_a_parent_is_a_file_or_unwritable(tmp_path, unwritable):
    (tmp_path / "passwd").write_text("root")
    for out, reason in ((tmp_path / "passwd" / "sub", "is a file, not a folder"), (unwritable / "sub", "")):
        done = subprocess.run(
            [sys.executable, "-m", "sarlang1m.cli", "synth", str(out), "--quiet"], capture_output=True, text=True
        )
        assert done.returncode == 2 and done.stderr.startswith(f"sarlang1m synth: error: {out}"), done.stderr
        assert reason in done.stderr and "File exists" not in done.stderr
        assert not any(mark in done.stderr for mark in HIDDEN_MARKS), done.stderr


def test_push_of_a_file_says_it_is_not_a_folder(tmp_path):
    (tmp_path / "release.tar").write_text("not a folder")
    with pytest.raises(InputError, match=r"release\.tar is a file, not a release folder"):
        push_release(tmp_path / "release.tar", "me/name", "1.0.0", dry_run=True, progress=False)
