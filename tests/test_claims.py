"""The MANIFEST's counts are recounted from the files: a raised claim fails `verify` and `push --dry-run`.

Each test edits one claim of the tiny SYNTHETIC release's MANIFEST, leaving every file (and so every
sha256) as it is: only recounting can notice. On the Hub the same claims are recounted from footers and
columns read by range (`tests/hub_server/`, an offline stand-in for the Hub).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hub_server import HubServer, run_client

from sarlang1m import schema
from sarlang1m.cli import main
from sarlang1m.publish.manifest import verify_local

REPO = schema.DEFAULT_REPO_ID  # the tiny release is built for it
SHARD = "data/vqa/sarvqa2/vhr/train-00000-of-00001.parquet"


def _raise_rows(manifest: dict) -> str:
    manifest["files"][SHARD]["rows"] += 5
    return f"{SHARD}: the MANIFEST says {manifest['files'][SHARD]['rows']} rows, its Parquet footer"


def _raise_split(key: str, by: int) -> Callable[[dict], str]:
    def edit(manifest: dict) -> str:
        manifest["configs"]["vqa"]["splits"]["train"][key] += by
        return f"configs['vqa'] train claims {manifest['configs']['vqa']['splits']['train'][key]} "

    return edit


def _raise_originals(manifest: dict) -> str:
    manifest["originals"]["sources"]["dfc2023"]["files"] += 1
    manifest["originals"]["files"] += 1
    return "originals claims"


CLAIMS = {
    "shard rows": _raise_rows,
    "config images": _raise_split("images", 1000),
    "config texts": _raise_split("texts", 1),
    "config shards": _raise_split("files", 1),
    "config bytes": _raise_split("download_bytes", 1),
    "originals per source": _raise_originals,
}


def _edited(release: Path, tmp_path: Path, edit: Callable[[dict], str]) -> tuple[Path, str]:
    copy = tmp_path / "release"
    shutil.copytree(release, copy)
    manifest = json.loads((copy / schema.MANIFEST_FILE).read_text())
    expected = edit(manifest)
    (copy / schema.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    return copy, expected


@pytest.mark.parametrize("claim", sorted(CLAIMS))
def test_a_raised_claim_fails_verify_and_push_dry_run(built_tiny_release: Path, tmp_path: Path, claim: str, capsys):
    release, expected = _edited(built_tiny_release, tmp_path, CLAIMS[claim])
    problems = verify_local(release).problems
    assert any(expected in problem for problem in problems), problems
    with pytest.raises(SystemExit) as verified:
        main(["verify", str(release)])
    assert verified.value.code == 1 and expected in capsys.readouterr().out
    with pytest.raises(SystemExit) as pushed:  # refused before the Hub is asked anything (this test is offline)
        main(["push", str(release), "--repo", REPO, "--version", "1.0.0", "--dry-run"])
    assert pushed.value.code == 2
    error = capsys.readouterr().err
    assert "does not match its MANIFEST" in error and expected in error


def test_the_unedited_release_recounts_to_its_claims(built_tiny_release: Path):
    assert verify_local(built_tiny_release).problems == []


def test_a_hub_revision_is_recounted_from_footers_and_columns_read_by_range(
    built_tiny_release: Path, hub_server: HubServer, hub_env: dict[str, str], tmp_path: Path
):
    """The release is uploaded as is (not through `push`, which would refuse it) and tagged; `verify` without
    --download recounts its claims without downloading a shard whole, an image or an original."""
    release = tmp_path / "edited"
    shutil.copytree(built_tiny_release, release)
    manifest = json.loads((release / schema.MANIFEST_FILE).read_text())
    expected = [_raise_rows(manifest), _raise_split("images", 1000)(manifest), _raise_split("texts", 1)(manifest)]
    (release / schema.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    run_client(
        f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset")
        commit = api.upload_folder(folder_path={str(release)!r}, repo_id={REPO!r}, repo_type="dataset")
        api.create_tag({REPO!r}, tag="v1.0.0", revision=commit.oid, repo_type="dataset")
        """,
        hub_env,
    )
    before = len(hub_server.requests)
    result = run_client(
        f"""
        from sarlang1m.publish.verify import verify_hub
        emit(verify_hub({REPO + "@v1.0.0"!r}).problems)
        """,
        hub_env,
    )
    for claim in expected:
        assert any(claim in problem for problem in result), (claim, result)
    gets = [r for r in hub_server.requests[before:] if r.method == "GET" and r.route in ("resolve", "cdn")]
    assert not any("/originals/" in r.path for r in gets)  # no original was fetched
