"""Publishing on the Hub, tested against a local stand-in that speaks the Hub's HTTP protocol.

No server that accepts Hub writes runs offline, so these tests use `tests/hub_server/` (a test
stand-in, not the Hub). Client code runs in a subprocess whose environment points huggingface_hub and
datasets at it before they are imported. The stand-in injects the faults a published release must
survive (status codes with Retry-After, dropped connections, damaged stored objects, moved tags, a
concurrent writer); docs/robustness.md lists each probe with the test here that holds it.
`test_real_hub_round_trip` runs against huggingface.co when SARLANG1M_TEST_REAL_HUB=1 and HF_TOKEN are set.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hub_server import RETRIES_DROPPED_CONNECTIONS, HubServer, fast_backoff, run_client
from tiny_raw import make_tiny_raw

from sarlang1m import schema
from sarlang1m.build.release import build_release
from sarlang1m.publish.remote import MAX_ATTEMPTS

REPO = "sarlang/SARLANG-1M-test"


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """v1.0.0 and v1.1.0 (one answer changed) of the tiny synthetic release, with small shards."""
    root = tmp_path_factory.mktemp("releases")
    raw = make_tiny_raw(root / "raw")
    build_release(raw, root / "v1.0.0", version="1.0.0", repo_id=REPO, max_shard_size=1, progress=False)
    csv = raw / "Text" / "VQA" / "test" / "SARVQA2_test.csv"
    csv.write_text(csv.read_text().replace("Urban.", "Residential."))
    build_release(raw, root / "v1.1.0", version="1.1.0", repo_id=REPO, max_shard_size=1, progress=False)
    return {"1.0.0": root / "v1.0.0", "1.1.0": root / "v1.1.0"}


def push(env: dict[str, str], release: Path, version: str, **options) -> dict:
    """push_release in a client process; returns its plan and verification, or the refusal."""
    return run_client(
        f"""
        import sarlang1m.publish.hub as hub
        import sarlang1m.publish.push_plan as push_plan
        import sarlang1m.publish.remote as remote
        for key, value in {options.get("settings", {})!r}.items():
            setattr(remote if key in ("BASE_WAIT_S", "MAX_ATTEMPTS") else push_plan, key, value)
        try:
            result = hub.push_release({str(release)!r}, {options.get("repo", REPO)!r}, {version!r}, progress=False,
                                      **{ {k: v for k, v in options.items() if k not in ("settings", "repo")}!r})
        except Exception as error:
            emit({{"error": type(error).__name__, "message": str(error)}})
        else:
            emit({{"additions": result.plan.additions, "deletions": result.plan.deletions, "branch": result.plan.branch,
                  "releases_file": str(result.releases_file),
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
            out[tag] = [r["qa"]["answer"] for r in regular]
            out[tag + "-stream"] = [r["qa"]["answer"] for r in streamed]
        import sarlang1m  # pins schema.RELEASE_REVISION (v1.0.0) unless told otherwise
        pinned = sarlang1m.load("sarvqa2", split="test", source={REPO!r}, streaming=True)
        out["pinned"] = [r["qa"]["answer"] for r in pinned]
        latest = sarlang1m.load("sarvqa2", split="test", source={REPO!r} + "@v1.1.0", decode="sar")
        out["latest"] = [r["qa"]["answer"] for r in latest]
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
    refused = push(hub_env, releases["1.0.0"], "v1")
    assert refused["error"] == "InputError" and "version must be X.Y.Z" in refused["message"]
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
    assert failed["error"] == "HubUnavailableError", failed
    assert "4 of" in failed["message"] and "no tag made: run the same command again to resume" in failed["message"]
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
    files = len(json.loads((releases["1.0.0"] / schema.MANIFEST_FILE).read_text())["files"]) + 1
    assert resumed["commits"] < -(-files // 2)  # the resumed push only committed what had not landed


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


def add_originals(release: Path, count: int) -> None:
    """`count` more SYNTHETIC originals, each named by a row of an extra shard (copies of a SpaceNet6 row with
    their own image id and original), and the MANIFEST re-listed: a release with that many originals."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from tiny_raw import encode_tiff

    from sarlang1m.publish.manifest import file_entries, originals_summary, read_manifest, write_manifest

    folder = release / "data" / "vqa" / "sarvqa2" / "vhr"
    template = next(r for r in pq.read_table(folder / "train-00000-of-00001.parquet").to_pylist() if r["sar_path"])
    rows = []
    for index in range(count):
        data = encode_tiff(np.full((4, 4), index, np.uint16))
        path = f"originals/spacenet6/synthetic_{index:05d}.tif"
        (release / path).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        rows.append(
            {
                **template,
                "image_id": f"SN6_synthetic_{index}",
                "sar_path": path,
                "sar_sha256": digest,
                "sar_bytes": len(data),
            }
        )
    schema_arrow = pq.read_schema(folder / "train-00000-of-00001.parquet")
    bulk = folder / "train-bulk.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema_arrow), bulk, row_group_size=100)
    manifest = {k: v for k, v in read_manifest(release).items() if k not in ("manifest_format", "files")}
    files = file_entries(release)
    manifest["originals"] = originals_summary(files)
    for config in manifest["configs"].values():  # the counts of every config the new shard is part of
        claims = config["splits"].get("train")
        if claims and fnmatch.fnmatch(bulk.relative_to(release).as_posix(), claims["data_files"]):
            claims["images"] += count
            claims["texts"] += count * len(template["qa"]["id"])
            claims["files"] += 1
            claims["download_bytes"] += bulk.stat().st_size
    write_manifest(release, manifest, files)


def test_a_release_of_2000_originals_pushes_in_small_commits_resumes_and_verifies(
    hub_server: HubServer, hub_env, tmp_path
):
    """Originals as plain files (`originals/<source>/<name>.tif`, listed in the MANIFEST like any file): the
    push respects the Hub's files-per-commit limit, resumes after an interruption, and verifies."""
    from sarlang1m.publish.hub import COMMIT_MAX_FILES
    from sarlang1m.publish.manifest import read_manifest

    release = tmp_path / "release"
    build_release(make_tiny_raw(tmp_path / "raw"), release, version="1.0.0", repo_id=REPO, progress=False)
    add_originals(release, 2000)
    assert len(read_manifest(release)["files"]) >= 2000
    hub_server.inject_fault("commit", nth=8, status=500)
    failed = push(hub_env, release, "1.0.0")
    assert (
        failed["error"] == "HubUnavailableError"
        and "no tag made: run the same command again to resume" in (failed["message"])
    )
    landed = hub_server.count("commit")
    assert landed == 7 and tags(hub_env) == []
    resumed = push(hub_env, release, "1.0.0")
    assert resumed["verified"] == [], resumed
    assert len(resumed["additions"]) == len(read_manifest(release)["files"]) + 1 - 7 * COMMIT_MAX_FILES
    sizes = [r for r in hub_server.requests if r.route == "commit" and r.status == 200]
    assert len(sizes) == landed + resumed["commits"] and COMMIT_MAX_FILES < 100
    thorough = cli(hub_env, "verify", f"{REPO}@v1.0.0", "--download")
    assert thorough.returncode == 0 and "OK" in thorough.stdout, thorough.stderr


def test_the_hub_limits_are_checked_before_pushing(hub_server: HubServer, hub_env, releases, tmp_path):
    release = copy_release(releases["1.0.0"], tmp_path / "crowded")
    manifest = json.loads((release / schema.MANIFEST_FILE).read_text())
    entry = {"sha256": "0" * 64, "bytes": 1}
    manifest["files"] |= {f"originals/crowded/{i:05d}.tif": entry for i in range(10_000)}
    (release / schema.MANIFEST_FILE).write_text(json.dumps(manifest))
    refused = push(hub_env, release, "1.0.0")
    assert refused["error"] == "PushRefused" and "folder originals/crowded has 10000 entries" in refused["message"]
    assert hub_server.requests == []


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sarlang1m.cli", *args], env=env, capture_output=True, text=True)


def tags(env: dict[str, str], repo: str = REPO) -> list[str]:
    return run_client(
        f"from huggingface_hub import HfApi; emit(sorted(t.name for t in HfApi().list_repo_refs({repo!r}, "
        "repo_type='dataset').tags))",
        env,
    )


def copy_release(release: Path, to: Path) -> Path:
    subprocess.run(["cp", "-r", str(release), str(to)], check=True)
    return to


def test_a_corrupted_upload_is_never_tagged_and_a_rerun_repairs_it(hub_server: HubServer, hub_env, releases):
    shard = "data/vqa/sarvqa1/mixed/train-00000-of-00001.parquet"
    hub_server.corrupt_next_upload(REPO, shard)
    failed = push(hub_env, releases["1.0.0"], "1.0.0")
    assert failed["error"] == "PushVerificationError", failed
    assert f"{shard}: sha256 is" in failed["message"] and "no tag made" in failed["message"]
    assert tags(hub_env) == []
    repaired = push(hub_env, releases["1.0.0"], "1.0.0")
    assert repaired["verified"] == [] and repaired["additions"] == [shard], repaired
    assert tags(hub_env) == ["v1.0.0"] and hub_server.head(REPO, "v1.0.0") == repaired["commit"]


def test_a_concurrent_writer_makes_the_push_fail_without_a_tag(hub_server: HubServer, hub_env, releases):
    hub_server.inject_concurrent_commit(REPO, "notes.txt", b"written by someone else", nth=2)
    failed = push(hub_env, releases["1.0.0"], "1.0.0", settings={"COMMIT_MAX_FILES": 3})
    assert failed["error"] == "HubConflictError", failed
    assert "another commit landed" in failed["message"] and "no tag made" in failed["message"]
    assert tags(hub_env) == []
    assert "notes.txt" in hub_server.files(REPO)  # the other writer's commit stays; ours was refused on top of it


def test_transient_429_and_503_are_retried_honouring_retry_after(hub_server: HubServer, hub_env, releases):
    hub_server.inject_fault("refs", status=503)
    hub_server.inject_fault("commit", status=503, headers={"Retry-After": "2"})
    hub_server.inject_fault("create_tag", status=429, headers={"Retry-After": "1"})
    hub_server.inject_fault("tree", status=503)
    done = push(hub_env, releases["1.0.0"], "1.0.0", settings={"BASE_WAIT_S": 0.1})
    assert done["verified"] == [], done
    commits = [r for r in hub_server.requests if r.route == "commit"]
    assert [r.status for r in commits[:2]] == [503, 200] and commits[1].time - commits[0].time >= 2
    assert [r.status for r in hub_server.requests if r.route == "create_tag"] == [429, 200]


def test_failures_end_in_one_line_with_the_state_of_the_repo(hub_server: HubServer, hub_env, releases, tmp_path):
    release = str(releases["1.0.0"])
    hub_env = fast_backoff(hub_env)  # huggingface_hub's retries, each made, without its ~23 s of waits per call
    hub_server.inject_fault("lfs_put", times=None, status=None)  # every upload's connection dropped
    dropped = cli(hub_env, "push", release, "--repo", REPO, "--version", "1.0.0")
    line = dropped.stderr.strip().splitlines()[-1]
    assert dropped.returncode == 3 and "Traceback" not in dropped.stderr, dropped.stderr
    dropped_puts = Counter(r.path for r in hub_server.requests if r.route == "lfs_put" and r.status is None)
    # each upload: huggingface_hub's first try and its 5 retries (one try before huggingface_hub 1.21)
    assert min(dropped_puts.values()) == (6 if RETRIES_DROPPED_CONNECTIONS else 1)
    assert "(uploading '" in line and "cannot reach the Hub" in line and "no tag made" in line
    hub_server.clear_faults()
    hub_server.inject_fault("commit", times=None, status=503, headers={"Retry-After": "0"})
    failed = cli(hub_env, "push", release, "--repo", REPO, "--version", "1.0.0")
    assert failed.returncode == 3 and failed.stdout == "", failed
    line = failed.stderr.strip().splitlines()[-1]  # after the progress bars
    assert line.startswith("sarlang1m push: error: ") and "Traceback" not in failed.stderr, failed.stderr
    assert "the Hub answered 503 after 5 attempts" in line
    files = len(json.loads((releases["1.0.0"] / schema.MANIFEST_FILE).read_text())["files"]) + 1  # + MANIFEST
    assert f"0 of {files} files committed" in line and "no tag made: run the same command again to resume" in line
    hub_server.clear_faults()
    hub_server.inject_fault("commit", times=None, status=403)
    forbidden = cli(hub_env, "push", release, "--repo", REPO, "--version", "1.0.0")
    assert forbidden.returncode == 3 and f"use a token with write access to {REPO}" in forbidden.stderr
    hub_server.clear_faults()
    hub_server.inject_fault("tree", nth=2, times=None, status=503, headers={"Retry-After": "0"})
    unverified = cli(hub_env, "push", release, "--repo", REPO, "--version", "1.0.0")
    assert (
        unverified.returncode == 3 and "no tag made: run the same command again to verify and tag" in unverified.stderr
    )
    # each listing retried before giving up: MAX_ATTEMPTS tries of the push's own (newer huggingface_hub adds its own)
    assert hub_server.count("tree", status=503) >= MAX_ATTEMPTS
    hub_server.clear_faults()
    assert cli(hub_env, "push", release, "--repo", REPO, "--version", "1.0.0").returncode == 0
    bad_token = cli({**hub_env, "HF_TOKEN": "hf_not_a_token"}, "push", release, "--repo", REPO, "--version", "1.0.0")
    assert bad_token.returncode == 3 and "hf auth login" in bad_token.stderr and bad_token.stderr.count("\n") == 1
    unreachable = {**hub_env, "HF_ENDPOINT": "http://127.0.0.1:9"}
    dry = cli(unreachable, "push", release, "--repo", REPO, "--version", "1.0.0", "--dry-run")  # plans offline
    assert dry.returncode == 0 and "not checked against the Hub (cannot reach the Hub" in dry.stdout, dry.stderr
    gone = cli(unreachable, "verify", f"{REPO}@v1.0.0")
    assert gone.returncode == 3 and "cannot reach the Hub" in gone.stderr and gone.stderr.count("\n") == 1


def test_symlinks_anywhere_in_a_release_are_refused(hub_server: HubServer, hub_env, releases, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("not part of the release")
    for link in ("data/notes.txt", "README.md", schema.MANIFEST_FILE):
        release = copy_release(releases["1.0.0"], tmp_path / link.replace("/", "_"))
        if (release / link).exists():
            (release / link).unlink()
        (release / link).symlink_to(outside)
        checked = cli(hub_env, "verify", str(release))
        assert checked.returncode == 2 and f"{link}: is a symlink" in checked.stderr, checked.stderr
        pushed = cli(hub_env, "push", str(release), "--repo", REPO, "--version", "1.0.0")
        assert pushed.returncode == 2 and f"{link}: is a symlink" in pushed.stderr
    assert hub_server.count("commit", status="any") == 0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m | {"files": "data"}, 'field "files" must be an object'),
        (lambda m: m | {"files": {"data/a.parquet": "abc"}}, "files['data/a.parquet']: must be an object"),
        (lambda m: "{not json", "not valid JSON"),
        (lambda m: m | {"version": "1.0.1"}, "MANIFEST says 1.0.1"),
        (lambda m: m | {"synthetic": False}, "synthetic is True, MANIFEST says False"),
    ],
)
def test_the_manifest_is_checked_before_it_is_trusted(
    hub_server: HubServer, hub_env, releases, tmp_path, edit, message
):
    release = copy_release(releases["1.0.0"], tmp_path / "edited")
    manifest = json.loads((release / schema.MANIFEST_FILE).read_text())
    edited = edit(manifest)
    (release / schema.MANIFEST_FILE).write_text(edited if isinstance(edited, str) else json.dumps(edited))
    version = edited.get("version", "1.0.0") if isinstance(edited, dict) else "1.0.0"
    for args in (["verify", str(release)], ["push", str(release), "--repo", REPO, "--version", version]):
        result = cli(hub_env, *args)
        assert result.returncode in (1, 2) and message in (result.stderr + result.stdout), (args, result)
        assert "Traceback" not in result.stderr
    assert hub_server.count("commit", status="any") == 0


def test_push_records_the_commit_and_readers_refuse_a_moved_tag(hub_server: HubServer, hub_env, releases, tmp_path):
    first = push(hub_env, releases["1.0.0"], "1.0.0")
    recorded = json.loads(Path(first["releases_file"]).read_text())
    assert recorded["format"] == 2  # keyed by endpoint, then repo
    assert (
        recorded["releases"][hub_server.endpoint][REPO]["v1.0.0"] == first["commit"] == hub_server.head(REPO, "v1.0.0")
    )
    push(hub_env, releases["1.1.0"], "1.1.0")
    hub_server.move_tag(REPO, "v1.0.0", "v1.1.0")  # self-consistent content, but not what was published
    moved = cli(hub_env, "verify", f"{REPO}@v1.0.0")
    assert moved.returncode == 1 and "it was published at" in moved.stderr and moved.stderr.count("\n") == 1
    loaded = run_client(
        f"""
        import sarlang1m
        from sarlang1m.errors import VerificationError
        out = {{}}
        try:
            sarlang1m.load("sarvqa2", split="test", source={REPO!r} + "@v1.0.0")
        except VerificationError as error:
            out["moved"] = str(error)
        pinned = sarlang1m.load("sarvqa2", split="test", source={REPO!r}, revision={first["commit"]!r})
        out["pinned"] = [r["qa"]["answer"] for r in pinned]
        emit(out)
        """,
        hub_env,
    )
    assert "published at" in loaded["moved"] and loaded["pinned"] == [["Urban."]]
    exported = cli(hub_env, "export", "messages", f"{REPO}@v1.0.0", "--out", str(tmp_path / "x.jsonl"))
    assert exported.returncode == 1 and "published at" in exported.stderr
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(json.dumps({"id": "x", "prediction": "Urban."}) + "\n")
    evaluated = cli(hub_env, "evaluate", "vqa", str(predictions), "--release", f"{REPO}@v1.0.0")
    assert evaluated.returncode == 1 and "published at" in evaluated.stderr, evaluated.stderr


def test_a_load_checks_downloaded_files_against_the_manifest(hub_server: HubServer, hub_env, releases, tmp_path):
    first = push(hub_env, releases["1.0.0"], "1.0.0")
    checked = run_client(
        f"""
        import sarlang1m
        from sarlang1m.release_files import check_downloaded_files
        rows = sarlang1m.load("sarvqa2", split="test", source={REPO!r} + "@v1.0.0")
        emit({{"rows": rows.num_rows, "hashed_again": check_downloaded_files({REPO!r}, {first["commit"]!r})}})
        """,
        hub_env,
    )
    assert checked == {"rows": 1, "hashed_again": 0}  # the load hashed its files and marked them: once per cache
    shard = "data/vqa/sarvqa2/vhr/test-00000-of-00001.parquet"
    data = hub_server.read_file(REPO, shard, "v1.0.0")
    hub_server.tamper_file(REPO, shard, data.replace(b"Urban.", b"Rural."), "v1.0.0")
    fresh_cache = hub_server.client_env(tmp_path / "other") | {
        "SARLANG1M_RELEASES_FILE": hub_env["SARLANG1M_RELEASES_FILE"]
    }
    result = run_client(
        f"""
        import sarlang1m
        from sarlang1m.errors import VerificationError
        try:
            rows = sarlang1m.load("sarvqa2", split="test", source={REPO!r} + "@v1.0.0")
            emit({{"rows": [r["qa"]["answer"] for r in rows]}})
        except VerificationError as error:
            emit({{"refused": str(error)}})
        """,
        fresh_cache,
    )
    refused = result.get("refused", "")
    assert f"the cached copy of {shard}" in refused and "the Hub serves other bytes than were published" in refused


def test_allow_older_publishes_on_its_own_branch_and_leaves_main(hub_server: HubServer, hub_env, releases):
    push(hub_env, releases["1.1.0"], "1.1.0")
    main = hub_server.head(REPO)
    older = cli(hub_env, "push", str(releases["1.0.0"]), "--repo", REPO, "--version", "1.0.0", "--allow-older")
    assert older.returncode == 0, older.stderr
    assert "committed to branch release/v1.0.0, main was not moved" in older.stdout
    assert hub_server.head(REPO) == main
    assert hub_server.head(REPO, "v1.0.0") == hub_server.head(REPO, "release/v1.0.0") != main
    assert (
        hub_server.read_file(REPO, schema.MANIFEST_FILE, "v1.0.0")
        == (releases["1.0.0"] / schema.MANIFEST_FILE).read_bytes()
    )


def test_the_card_and_croissant_name_the_repo_and_version_published(hub_server: HubServer, hub_env, releases, tmp_path):
    card = (releases["1.1.0"] / schema.CARD_FILE).read_text()
    assert f'load_dataset("{REPO}", "vqa", revision="v1.1.0")' in card
    croissant = json.loads((releases["1.1.0"] / schema.CROISSANT_FILE).read_text())
    assert croissant["version"] == "1.1.0" and croissant["url"].endswith(f"/datasets/{REPO}")
    other = push(hub_env, releases["1.1.0"], "1.1.0", repo="someone/else")
    assert (
        other["error"] == "PushRefused" and "rebuild with `sarlang1m build ... --repo someone/else`" in other["message"]
    )
    push(hub_env, releases["1.1.0"], "1.1.0")
    wrong = card.replace(f'"{REPO}"', '"sarlang1m/SARLANG-1M"').encode()
    run_client(
        f"""
        from huggingface_hub import HfApi
        HfApi().upload_file(path_or_fileobj={wrong!r}, path_in_repo="README.md", repo_id={REPO!r}, repo_type="dataset")
        """,
        hub_env,
    )
    checked = cli(hub_env, "verify", f"{REPO}@main")
    assert checked.returncode == 1 and "README.md: its load lines name ['sarlang1m/SARLANG-1M']" in checked.stdout


@pytest.mark.parametrize("target", ["no-such-folder", "./no-such", "../no/such/folder", "/no/such"])
def test_verify_of_a_missing_path_says_no_such_release_folder(hub_env, target):
    result = cli(hub_env, "verify", target)
    assert result.returncode == 2 and f"{target}: no such release folder" in result.stderr, result.stderr


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
def test_real_hub_round_trip(tmp_path):
    namespace = os.environ.get("SARLANG1M_TEST_NAMESPACE")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_HOME", "HF_DATASETS_CACHE")}
    env["HF_HOME"] = str(tmp_path / "hf")
    env["SARLANG1M_RELEASES_FILE"] = str(tmp_path / "releases.json")
    raw = make_tiny_raw(tmp_path / "raw")
    repo = f"{namespace or '{user}'}/sarlang1m-ci-{uuid.uuid4().hex[:8]}"
    result = run_client(
        f"""
        from pathlib import Path
        from huggingface_hub import HfApi
        import sarlang1m, sarlang1m.publish.hub as hub
        from sarlang1m.publish.manifest import read_manifest, write_manifest
        from sarlang1m.build.release import build_release
        api = HfApi()
        repo = {repo!r}.replace("{{user}}", api.whoami()["name"])
        release = Path({str(tmp_path / "release")!r})
        build_release({str(raw)!r}, release, version="1.0.0", repo_id=repo, progress=False)
        originals = release / "originals" / "spacenet6"  # plain files beside the Parquet, as originals are
        originals.mkdir(parents=True)
        for index in range(150):
            (originals / f"synthetic_{{index:03d}}.tif").write_bytes(b"II*\\x00 synthetic original %d" % index)
        manifest = read_manifest(release)
        write_manifest(release, {{k: v for k, v in manifest.items() if k not in ("manifest_format", "files")}})
        try:
            result = hub.push_release(release, repo, "1.0.0", private=True, progress=False)
            checked = hub.verify_hub(f"{{repo}}@v1.0.0", download=True)
            rows = sarlang1m.load("vqa", split="test", source=f"{{repo}}@v1.0.0").num_rows
            emit({{"problems": result.verification.problems + checked.problems, "rows": rows,
                   "commits": len(result.plan.commits)}})
        finally:
            api.delete_repo(repo, repo_type="dataset", missing_ok=True)
        """,
        env,
        timeout=900,
    )
    assert result == {"problems": [], "rows": 2, "commits": 2}
