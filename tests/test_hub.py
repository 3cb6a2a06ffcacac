"""Publishing on the Hub, tested against a local stand-in that speaks the Hub's HTTP protocol.

No server that accepts Hub writes runs offline, so these tests use `tests/hub_server.py` (a test
stand-in, not the Hub). Client code runs in a subprocess whose environment points huggingface_hub and
datasets at it before they are imported. `test_real_hub_round_trip` runs against huggingface.co when
SARLANG1M_TEST_REAL_HUB=1 and HF_TOKEN are set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hub_server import HubServer, run_client
from tiny_raw import make_tiny_raw

from sarlang1m import schema
from sarlang1m.release import build_release

REPO = "sarlang/SARLANG-1M-test"


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """v1.0.0 and v1.1.0 (one answer changed) of the tiny synthetic release, with small shards."""
    root = tmp_path_factory.mktemp("releases")
    raw = make_tiny_raw(root / "raw")
    build_release(raw, root / "v1.0.0", version="1.0.0", max_shard_size=1, progress=False)
    csv = raw / "Text" / "VQA" / "test" / "SARVQA2_test.csv"
    csv.write_text(csv.read_text().replace("Urban.", "Residential."))
    build_release(raw, root / "v1.1.0", version="1.1.0", max_shard_size=1, progress=False)
    return {"1.0.0": root / "v1.0.0", "1.1.0": root / "v1.1.0"}


def push(env: dict[str, str], release: Path, version: str, **options) -> dict:
    """push_release in a client process; returns its plan and verification, or the refusal."""
    return run_client(
        f"""
        import sarlang1m.hub as hub
        for key, value in {options.get("settings", {})!r}.items():
            setattr(hub, key, value)
        try:
            result = hub.push_release({str(release)!r}, {REPO!r}, {version!r}, progress=False,
                                      **{ {k: v for k, v in options.items() if k != "settings"}!r})
        except Exception as error:
            emit({{"error": type(error).__name__, "message": str(error)}})
        else:
            emit({{"additions": result.plan.additions, "deletions": result.plan.deletions,
                  "commits": len(result.plan.commits), "commit": result.commit, "load": result.load_line,
                  "pull_request": result.pull_request,
                  "verified": None if result.verification is None else result.verification.problems}})
        """,
        env,
    )


def test_push_tag_verify_and_load_two_versions(hub_server: HubServer, hub_env, releases):
    first = push(hub_env, releases["1.0.0"], "1.0.0")
    assert first["verified"] == [], first
    assert first["load"] == f'load_dataset("{REPO}", "vqa", revision="v1.0.0")'
    assert hub_server.head(REPO, "v1.0.0") == first["commit"]
    manifest = json.loads((releases["1.0.0"] / schema.MANIFEST_FILE).read_text())
    assert set(hub_server.files(REPO, "v1.0.0")) == set(manifest["files"]) | {schema.MANIFEST_FILE, ".gitattributes"}

    second = push(hub_env, releases["1.1.0"], "1.1.0")
    assert second["verified"] == []
    changed = [p for p in second["additions"] if p.startswith("data/")]
    assert changed == ["data/vqa/sarvqa2/vhr/test-00000-of-00001.parquet"]  # only what differs is sent
    answers = run_client(
        f"""
        from datasets import load_dataset
        out = {{}}
        for tag in ("v1.0.0", "v1.1.0"):
            regular = load_dataset({REPO!r}, "sarvqa2", split="test", revision=tag)
            streamed = load_dataset({REPO!r}, "sarvqa2", split="test", revision=tag, streaming=True)
            out[tag] = [[q["answer"] for q in r["qa"]] for r in regular]
            out[tag + "-stream"] = [[q["answer"] for q in r["qa"]] for r in streamed]
        import sarlang1m  # pins schema.RELEASE_REVISION (v1.0.0) unless told otherwise
        pinned = sarlang1m.load("sarvqa2", split="test", source={REPO!r}, streaming=True)
        out["pinned"] = [[q["answer"] for q in r["qa"]] for r in pinned]
        latest = sarlang1m.load("sarvqa2", split="test", source={REPO!r} + "@v1.1.0", decode="sar")
        out["latest"] = [[q["answer"] for q in r["qa"]] for r in latest]
        out["pixels"] = [r["pixels_source"] for r in latest]
        emit(out)
        """,
        hub_env,
    )
    assert answers["v1.0.0"] == answers["v1.0.0-stream"] == [["Urban."]]
    assert answers["v1.1.0"] == answers["v1.1.0-stream"] == [["Residential."]]
    assert answers["pinned"] == [["Urban."]] and answers["latest"] == [["Residential."]]
    assert answers["pixels"] == ["sar"]


def test_create_pr_opens_a_verified_pull_request_and_leaves_main_and_tags_alone(
    hub_server: HubServer, hub_env, releases
):
    push(hub_env, releases["1.0.0"], "1.0.0")
    head = hub_server.head(REPO)
    proposed = push(hub_env, releases["1.1.0"], "1.1.0", create_pr=True)
    assert proposed["verified"] == [], proposed  # the files at refs/pr/1 match the v1.1.0 MANIFEST
    assert proposed["pull_request"].endswith(f"datasets/{REPO}/discussions/1")
    assert hub_server.head(REPO) == head and hub_server.head(REPO, "refs/pr/1") == proposed["commit"]
    changed = hub_server.read_file(REPO, "data/vqa/sarvqa2/vhr/test-00000-of-00001.parquet", "refs/pr/1")
    assert changed == (releases["1.1.0"] / "data/vqa/sarvqa2/vhr/test-00000-of-00001.parquet").read_bytes()
    tags = run_client(
        f"""
        from huggingface_hub import HfApi
        refs = HfApi().list_repo_refs({REPO!r}, repo_type="dataset", include_pull_requests=True)
        emit({{"tags": sorted(t.name for t in refs.tags), "prs": [p.ref for p in refs.pull_requests]}})
        """,
        hub_env,
    )
    assert tags == {"tags": ["v1.0.0"], "prs": ["refs/pr/1"]}  # tagging waits for the merge


def test_an_existing_tag_is_never_moved(hub_server: HubServer, hub_env, releases):
    push(hub_env, releases["1.0.0"], "1.0.0")
    head = hub_server.head(REPO)
    again = push(hub_env, releases["1.0.0"], "1.0.0")
    assert again["error"] == "PushRefused" and "already has the tag v1.0.0" in again["message"]
    assert hub_server.head(REPO) == head


def test_older_versions_need_an_explicit_flag(hub_server: HubServer, hub_env, releases):
    push(hub_env, releases["1.1.0"], "1.1.0")
    refused = push(hub_env, releases["1.0.0"], "1.0.0")
    assert refused["error"] == "PushRefused" and "v1.1.0" in refused["message"]
    assert push(hub_env, releases["1.0.0"], "1.0.0", allow_older=True)["verified"] == []


def test_version_must_match_the_build_and_be_semver(hub_server: HubServer, hub_env, releases):
    mismatch = push(hub_env, releases["1.0.0"], "1.2.0")
    assert mismatch["error"] == "PushRefused" and "built as version 1.0.0" in mismatch["message"]
    assert push(hub_env, releases["1.0.0"], "v1")["error"] == "PushRefused"
    assert hub_server.count("commit", status="any") == 0


def test_dry_run_touches_nothing(hub_server: HubServer, hub_env, releases):
    plan = push(hub_env, releases["1.0.0"], "1.0.0", dry_run=True)
    assert plan["commit"] is None and plan["verified"] is None
    assert schema.MANIFEST_FILE in plan["additions"] and len(plan["additions"]) == len(
        [p for p in releases["1.0.0"].rglob("*") if p.is_file()]
    )
    writes = [r for r in hub_server.requests if r.method in ("POST", "PUT", "DELETE") and r.route != "validate_yaml"]
    assert writes == []


def test_a_damaged_local_release_is_refused(hub_server: HubServer, hub_env, releases, tmp_path):
    damaged = tmp_path / "damaged"
    subprocess.run(["cp", "-r", str(releases["1.0.0"]), str(damaged)], check=True)
    shard = next(damaged.rglob("*.parquet"))
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    refused = push(hub_env, damaged, "1.0.0")
    assert refused["error"] == "PushRefused" and "sha256" in refused["message"]
    assert hub_server.count("commit", status="any") == 0


def test_an_interrupted_push_resumes_and_ends_complete(hub_server: HubServer, hub_env, releases):
    settings = {"settings": {"COMMIT_MAX_FILES": 2}}
    hub_server.inject_fault("commit", nth=3, status=500)
    failed = push(hub_env, releases["1.0.0"], "1.0.0", **settings)
    assert failed["error"] == "HfHubHTTPError"
    assert hub_server.count("commit") == 2  # two commits landed, the third failed: no tag, no MANIFEST
    assert "v1.0.0" not in run_client(
        f"from huggingface_hub import HfApi; emit([t.name for t in HfApi().list_repo_refs({REPO!r}, "
        "repo_type='dataset').tags])",
        hub_env,
    )
    assert schema.MANIFEST_FILE not in hub_server.files(REPO)
    resumed = push(hub_env, releases["1.0.0"], "1.0.0", **settings)
    assert resumed["verified"] == []
    stored_as_lfs = sum(1 for f in hub_server.files(REPO, "v1.0.0").values() if f.lfs_sha256)
    assert stored_as_lfs >= 8 and hub_server.count("lfs_put") == stored_as_lfs  # no file was sent twice
    assert resumed["commits"] < 4  # the resumed push only committed what had not landed


def test_verify_catches_tampered_and_replaced_files(hub_server: HubServer, hub_env, releases):
    push(hub_env, releases["1.0.0"], "1.0.0")
    shard = "data/vqa/sarvqa1/mixed/train-00000-of-00001.parquet"
    cli = [sys.executable, "-m", "sarlang1m.cli", "verify", f"{REPO}@v1.0.0"]
    ok = subprocess.run(cli, env=hub_env, capture_output=True, text=True)
    assert ok.returncode == 0 and "OK" in ok.stdout, ok.stderr
    # Storage serving other bytes under the recorded hash: only a download catches it.
    data = hub_server.read_file(REPO, shard, "v1.0.0")
    hub_server.tamper_file(REPO, shard, data[:-1] + bytes([data[-1] ^ 1]), "v1.0.0")
    thorough = subprocess.run([*cli, "--download"], env=hub_env, capture_output=True, text=True)
    assert thorough.returncode == 1 and f"{shard}: sha256" in thorough.stdout
    # A file replaced on main without a new MANIFEST: the recorded hashes catch it.
    run_client(
        f"""
        from huggingface_hub import HfApi
        HfApi().upload_file(path_or_fileobj=b"PAR1 synthetic, not a shard PAR1", path_in_repo={shard!r},
                            repo_id={REPO!r}, repo_type="dataset")
        """,
        hub_env,
    )
    replaced = subprocess.run([*cli[:-1], f"{REPO}@main"], env=hub_env, capture_output=True, text=True)
    assert replaced.returncode == 1 and f"{shard}: bytes" in replaced.stdout


def test_cli_push_prints_the_pinned_load_line(hub_server: HubServer, hub_env, releases):
    cli = [sys.executable, "-m", "sarlang1m.cli", "push", str(releases["1.0.0"]), "--repo", REPO, "--version", "1.0.0"]
    dry = subprocess.run([*cli, "--dry-run"], env=hub_env, capture_output=True, text=True)
    assert dry.returncode == 0 and "dry run: nothing was uploaded" in dry.stdout
    done = subprocess.run(cli, env=hub_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f'load_dataset("{REPO}", "vqa", revision="v1.0.0")' in done.stdout
    refused = subprocess.run(cli, env=hub_env, capture_output=True, text=True)
    assert refused.returncode == 2 and "already has the tag v1.0.0" in refused.stderr


@pytest.mark.hub
@pytest.mark.skipif(
    not (os.environ.get("SARLANG1M_TEST_REAL_HUB") == "1" and os.environ.get("HF_TOKEN")),
    reason="opt-in: set SARLANG1M_TEST_REAL_HUB=1 and HF_TOKEN (pushes a private synthetic repo, then deletes it)",
)
def test_real_hub_round_trip(releases, tmp_path):
    namespace = os.environ.get("SARLANG1M_TEST_NAMESPACE")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_HOME", "HF_DATASETS_CACHE")}
    env["HF_HOME"] = str(tmp_path / "hf")
    repo = f"{namespace or '{user}'}/sarlang1m-ci-{uuid.uuid4().hex[:8]}"
    result = run_client(
        f"""
        from huggingface_hub import HfApi
        import sarlang1m.hub as hub
        api = HfApi()
        repo = {repo!r}.replace("{{user}}", api.whoami()["name"])
        try:
            result = hub.push_release({str(releases["1.0.0"])!r}, repo, "1.0.0", private=True, progress=False)
            from datasets import load_dataset
            rows = load_dataset(repo, "vqa", split="test", revision="v1.0.0", token=True).num_rows
            emit({{"problems": result.verification.problems, "rows": rows}})
        finally:
            api.delete_repo(repo, repo_type="dataset", missing_ok=True)
        """,
        env,
        timeout=900,
    )
    assert result == {"problems": [], "rows": 2}
