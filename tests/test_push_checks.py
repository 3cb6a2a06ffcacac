"""The version and repo a release is built for are checked once, by build (first of all) and push alike."""

import json
import subprocess
import sys

import pytest

from sarlang1m import schema
from sarlang1m.build.release import build_release
from sarlang1m.errors import InputError
from sarlang1m.publish.hub import push_release
from sarlang1m.publish.push_checks import hub_repo_id, release_version


@pytest.mark.parametrize(("given", "version"), [("1.2.0", "1.2.0"), ("v1.2.0", "1.2.0"), (" 10.0.3 ", "10.0.3")])
def test_a_version_is_x_y_z_and_the_tag_spelling_is_accepted(given, version):
    assert release_version(given) == version


@pytest.mark.parametrize("given", ["abc", "1.2", "vv1.2.0", "1.2.0-rc1", "", "v"])
def test_a_bad_version_is_refused_with_the_form_it_needs(given):
    with pytest.raises(InputError, match=r"version must be X\.Y\.Z \(e\.g\. 1\.0\.0\), got"):
        release_version(given)


@pytest.mark.parametrize("given", ["foo", "Org Name/x y", "a/b/c", "org/na--me", "org/name.git", "/name", "org/"])
def test_a_repo_must_be_a_valid_hub_id_of_the_form_org_name(given):
    with pytest.raises(InputError, match=r"repo must be a Hub repo id ORG/NAME .*got"):
        hub_repo_id(given)
    assert hub_repo_id("my-org/SARLANG-1M_v2.test") == "my-org/SARLANG-1M_v2.test"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"version": "abc"}, "version must be X.Y.Z"),
        ({"repo_id": "foo"}, "repo must be a Hub repo id ORG/NAME"),
        ({"repo_id": "a/b/c"}, "repo must be a Hub repo id ORG/NAME"),
        ({"shard_multiple": 0}, "shard_multiple must be a whole number of at least 1"),
        ({"max_shard_size": "lots"}, "max_shard_size must be a size such as 500MB"),
    ],
)
def test_build_refuses_a_bad_option_before_reading_anything(tmp_path, options, message):
    """The raw folder does not even exist: the option is what is refused, and nothing is written."""
    with pytest.raises(InputError, match=message):
        build_release(tmp_path / "no-such-raw", tmp_path / "out", progress=False, **options)
    assert list(tmp_path.iterdir()) == []


def test_build_and_push_agree_on_a_version_given_as_a_tag(tiny_raw, tmp_path):
    out = tmp_path / "out"
    build_release(tiny_raw, out, version="v1.2.0", repo_id="me/sarlang-try", progress=False)
    manifest = json.loads((out / schema.MANIFEST_FILE).read_text())
    card = (out / schema.CARD_FILE).read_text()
    assert manifest["version"] == "1.2.0" and 'revision="v1.2.0"' in card and "vv1.2.0" not in card
    plan = push_release(out, "me/sarlang-try", "v1.2.0", dry_run=True, progress=False).plan
    assert plan.tag == "v1.2.0" and plan.repo_id == "me/sarlang-try"
    with pytest.raises(InputError, match="repo must be a Hub repo id"):
        push_release(out, "me/sarlang try", "1.2.0", dry_run=True, progress=False)


def test_the_cli_refuses_a_bad_version_or_repo_in_one_line(tmp_path):
    for option, value in (("--version", "abc"), ("--repo", "Org Name/x y")):
        done = subprocess.run(
            [sys.executable, "-m", "sarlang1m.cli", "build", str(tmp_path / "raw"), "--out", str(tmp_path / "out"),
             option, value],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.startswith("sarlang1m build: error: ") and len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
