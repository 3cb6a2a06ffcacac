"""What `push --dry-run` says: the files it counts as `verify` counts them, and a plan even where the Hub
cannot be reached (saying so) or the repo does not exist yet (saying push creates it)."""

import re
import subprocess
import sys

from hub_server import HubServer, run_client

from sarlang1m import schema
from sarlang1m.build.release import build_release
from sarlang1m.publish.hub import push_release
from sarlang1m.publish.manifest import read_manifest, verify_local

REPO = "me/sarlang-counts"


def cli(env: dict[str, str] | None, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sarlang1m.cli", *args], env=env, capture_output=True, text=True)


def test_push_and_verify_count_the_files_the_manifest_lists_alike(built_tiny_release):
    listed = len(read_manifest(built_tiny_release)["files"])
    plan = push_release(built_tiny_release, schema.DEFAULT_REPO_ID, schema.RELEASE_VERSION, dry_run=True).plan
    assert (
        f"of the {listed} files the MANIFEST lists, {listed} to upload and 0 unchanged; MANIFEST.json to upload"
        in plan.summary()
    )
    assert f"OK, the {listed} files the MANIFEST lists match it" in verify_local(built_tiny_release).summary()


def test_a_dry_run_without_the_hub_plans_against_an_empty_repo_and_says_so(built_tiny_release):
    """The tests run with HF_HUB_OFFLINE=1: the Hub cannot be reached."""
    plan = push_release(built_tiny_release, schema.DEFAULT_REPO_ID, schema.RELEASE_VERSION, dry_run=True).plan
    assert plan.unchecked is not None and "HF_HUB_OFFLINE" in plan.unchecked
    assert len(plan.additions) == len(read_manifest(built_tiny_release)["files"]) + 1 and plan.deletions == []
    assert "not checked against the Hub" in plan.summary() and "run the dry run again online" in plan.summary()
    done = cli(
        None, "push", str(built_tiny_release), "--repo", schema.DEFAULT_REPO_ID, "--version", "1.0.0", "--dry-run"
    )
    assert done.returncode == 0 and "not checked against the Hub" in done.stdout, done.stderr


def test_counts_agree_after_a_push_and_a_dry_run_names_a_new_repo(hub_server: HubServer, hub_env, tiny_raw, tmp_path):
    release = tmp_path / "release"
    build_release(tiny_raw, release, repo_id=REPO, progress=False)
    listed = len(read_manifest(release)["files"])
    dry = cli(hub_env, "push", str(release), "--repo", REPO, "--version", "1.0.0", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"{REPO} does not exist on the Hub: the push creates it" in dry.stdout
    assert (
        f"of the {listed} files the MANIFEST lists, {listed} to upload and 0 unchanged; MANIFEST.json to upload"
        in dry.stdout
    )
    assert cli(hub_env, "push", str(release), "--repo", REPO, "--version", "1.0.0").returncode == 0
    for extra in ((), ("--download",)):
        done = cli(hub_env, "verify", f"{REPO}@v1.0.0", *extra)
        assert done.returncode == 0 and f"OK, the {listed} files the MANIFEST lists match it" in done.stdout
    again = cli(hub_env, "push", str(release), "--repo", REPO, "--version", "1.0.0", "--dry-run")
    assert again.returncode == 2 and "already has the tag v1.0.0" in again.stderr  # the dry run read the tags
    files = run_client(
        f"from huggingface_hub import HfApi; emit(HfApi().list_repo_files({REPO!r}, repo_type='dataset'))", hub_env
    )
    assert len([f for f in files if not f.startswith(".")]) == listed + 1
    assert not re.search(r"\bMiB\b", dry.stdout)
