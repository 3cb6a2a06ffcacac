"""Reading releases others published, from a flaky Hub: faults injected, each one clear line, nothing trusted.

Against `tests/hub_server/`, an offline stand-in that speaks the Hub's HTTP protocol (not the Hub), with the
tiny SYNTHETIC release. Each test injects one fault or hostile content the way a release someone else
published, or a bad network, would present it; docs/robustness.md lists them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hub_server import HubServer, run_client
from tiny_raw import make_tiny_raw

from sarlang1m import schema
from sarlang1m.build.release import build_release
from sarlang1m.publish.manifest import file_entries, originals_summary, read_manifest, write_manifest

REPO = schema.DEFAULT_REPO_ID  # what the tiny release is built for; its pinned revision is v1.0.0


def publish(env: dict[str, str], release: Path, version: str = "1.0.0") -> dict:
    """`push_release` in a client process: the commit, or the error it ended in."""
    return run_client(
        f"""
        import sarlang1m.publish.hub as hub
        try:
            emit({{"commit": hub.push_release({str(release)!r}, {REPO!r}, {version!r}, progress=False).commit}})
        except Exception as error:
            emit({{"error": type(error).__name__, "message": str(error)}})
        """,
        env,
    )


def upload_as_is(env: dict[str, str], release: Path, tag: str = "v1.0.0") -> str:
    """Upload a folder and tag it without any check (what anyone can publish); its commit."""
    return run_client(
        f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset", exist_ok=True)
        commit = api.upload_folder(folder_path={str(release)!r}, repo_id={REPO!r}, repo_type="dataset")
        api.create_tag({REPO!r}, tag={tag!r}, revision=commit.oid, repo_type="dataset")
        emit(commit.oid)
        """,
        env,
    )


def cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sarlang1m.cli", *args], env=env, capture_output=True, text=True, cwd=cwd, check=False
    )


def one_line_error(done: subprocess.CompletedProcess, command: str) -> str:
    """The error line of a failed command, checked to be its own line (no traceback, not after a bar)."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1 and lines[0].startswith(f"sarlang1m {command}: error: "), done.stderr
    return lines[0]


def _rewrite_rows(release: Path, paths: dict[str, str]) -> None:
    """Rename what rows call their originals (`paths`: old -> new) and re-list the MANIFEST consistently."""
    for shard in sorted(release.glob(f"{schema.DATA_DIR}/**/*.parquet")):
        table = pq.read_table(shard)
        renamed = [paths.get(p, p) for p in table.column("sar_path").to_pylist()]
        index = table.schema.get_field_index("sar_path")
        pq.write_table(table.set_column(index, "sar_path", pa.array(renamed, pa.string())), shard)
    manifest = {k: v for k, v in read_manifest(release).items() if k not in ("manifest_format", "files")}
    files = file_entries(release)
    manifest["originals"] = originals_summary(files)
    write_manifest(release, manifest, files)


def _original_paths(release: Path) -> list[str]:
    return sorted(p.relative_to(release).as_posix() for p in (release / schema.ORIGINALS_DIR).rglob("*.tif"))


# ---------------------------------------------------------------------- 5: verify cross-checks rows


def test_verify_of_a_revision_cross_checks_rows_and_originals_without_downloading(
    built_tiny_release: Path, hub_server: HubServer, hub_env: dict[str, str], tmp_path: Path
):
    release = tmp_path / "hostile"
    shutil.copytree(built_tiny_release, release)
    escaping, missing = _original_paths(release)[:2]
    _rewrite_rows(release, {escaping: "originals/../MANIFEST.json", missing: "originals/dfc2023/absent.tif"})
    upload_as_is(hub_env, release)
    done = cli(hub_env, "verify", f"{REPO}@v1.0.0")
    assert done.returncode == 1, done
    assert "originals/dfc2023/absent.tif: named by data/" in done.stdout
    assert "sar_path 'originals/../MANIFEST.json' is not a relative path under originals/" in done.stdout


# ---------------------------------------------------------------------- 6: prefetch


def test_prefetch_makes_a_config_usable_offline_shards_included(
    built_tiny_release: Path, hub_env: dict[str, str], tmp_path: Path
):
    assert "commit" in publish(hub_env, built_tiny_release)
    env = {**hub_env, "HF_HOME": str(tmp_path / "fresh")}  # nothing cached yet
    fetched = cli(env, "prefetch", "sarvqa2", "--release", f"{REPO}@v1.0.0")
    assert fetched.returncode == 0, fetched.stderr
    assert "Parquet shards of sarvqa2 are in the datasets cache" in fetched.stdout
    offline = {**env, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    rows = run_client(
        f"""
        import sarlang1m
        rows = sarlang1m.load("sarvqa2", split="train", source={REPO!r}, revision="v1.0.0", decode="sar")
        emit(sorted({{row["pixels_source"] for row in rows}}))
        """,
        offline,
    )
    assert rows == ["sar"]


def test_prefetch_checks_every_file_it_writes_and_keeps_no_bad_one(
    built_tiny_release: Path, hub_server: HubServer, hub_env: dict[str, str], tmp_path: Path
):
    assert "commit" in publish(hub_env, built_tiny_release)
    bad = "originals/dfc2023/SV_Darwin_-12.4278_130.8688.tif"
    data = bytearray(hub_server.read_file(REPO, bad, "v1.0.0"))
    data[-1] ^= 0xFF  # same size, other bytes: storage that serves a damaged copy
    hub_server.tamper_file(REPO, bad, bytes(data), "v1.0.0")
    mirror = tmp_path / "mirror"
    done = cli(hub_env, "prefetch", "sarvqa2", "--release", f"{REPO}@v1.0.0", "--local-dir", str(mirror))
    assert done.returncode == 1, done
    line = one_line_error(done, "prefetch")
    assert f"1 of 3 originals of {REPO}@" in line and f"{bad} (sha256 differs from the row's sar_sha256)" in line
    assert not (mirror / bad).exists()
    kept = sorted(p.relative_to(mirror).as_posix() for p in mirror.rglob("*.tif"))
    assert kept == sorted(set(_original_paths(built_tiny_release)) - {bad})


def test_prefetch_refuses_an_unknown_config_and_options_that_do_nothing(
    built_tiny_release: Path, hub_env: dict[str, str], tmp_path: Path
):
    local = cli(hub_env, "prefetch", "nope", "--release", str(built_tiny_release))
    assert local.returncode == 2 and "unknown config 'nope'" in one_line_error(local, "prefetch")
    ignored = cli(hub_env, "prefetch", "vqa", "--release", str(built_tiny_release), "--local-dir", str(tmp_path / "x"))
    assert ignored.returncode == 2 and "is a local release" in one_line_error(ignored, "prefetch")
    assert not (tmp_path / "x").exists()
    unknown = cli(hub_env, "prefetch", "vqa", "--release", str(built_tiny_release), "--source", "unknown")
    assert unknown.returncode == 2 and "invalid choice: 'unknown'" in unknown.stderr
    assert "commit" in publish(hub_env, built_tiny_release)
    remote = cli(hub_env, "prefetch", "nope", "--release", f"{REPO}@v1.0.0")
    assert remote.returncode == 2 and "unknown config 'nope'" in one_line_error(remote, "prefetch")


# ---------------------------------------------------------------------- 7: one line, not a traceback


def test_offline_with_an_empty_cache_and_a_commit_that_does_not_exist_are_one_line(
    built_tiny_release: Path, hub_env: dict[str, str], tmp_path: Path
):
    assert "commit" in publish(hub_env, built_tiny_release)
    offline = {**hub_env, "HF_HOME": str(tmp_path / "empty"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    done = cli(offline, "export", "messages", f"{REPO}@v1.0.0", "--out", str(tmp_path / "x.jsonl"))
    assert done.returncode == 3 and "HF_HUB_OFFLINE is set" in one_line_error(done, "export")
    absent = "0123456789" * 4
    done = cli(hub_env, "export", "messages", f"{REPO}@{absent}", "--out", str(tmp_path / "x.jsonl"))
    assert done.returncode == 2 and f"{REPO} has no such revision" in one_line_error(done, "export")
    raised = run_client(
        f"""
        import sarlang1m
        from sarlang1m.errors import NotFoundError
        try:
            sarlang1m.load("vqa", source={REPO!r}, revision={absent!r})
        except NotFoundError as error:
            emit(str(error))
        """,
        hub_env,
    )
    assert raised and "no such revision" in raised


# ---------------------------------------------------------------------- 8: retries that are made


def test_a_503_while_resolving_a_tag_is_retried_and_the_message_counts_what_was_tried(
    built_tiny_release: Path, hub_server: HubServer, hub_env: dict[str, str], tmp_path: Path
):
    assert "commit" in publish(hub_env, built_tiny_release)
    script = f"""
        import sarlang1m
        import sarlang1m.publish.remote as remote
        from sarlang1m.errors import RemoteError
        remote.BASE_WAIT_S = 0.01
        try:
            rows = sarlang1m.load("sarvqa2", split="test", source={REPO!r}, revision="v1.0.0", columns=["image_id"])
            emit({{"rows": rows.num_rows}})
        except RemoteError as error:
            emit({{"error": str(error)}})
        """
    hub_server.inject_fault("repo_info", times=2, status=503)
    seen = len(hub_server.requests)
    assert run_client(script, hub_env) == {"rows": 1}  # two 503s, then an answer: retried
    assert [r.status for r in hub_server.requests[seen:] if r.route == "repo_info"][:3] == [503, 503, 200]
    before = hub_server.count("repo_info", status=503)
    hub_server.inject_fault("repo_info", times=None, status=503)
    failed = run_client(script, {**hub_env, "HF_HOME": str(tmp_path / "empty")})  # no cached record of the tag
    tried = hub_server.count("repo_info", status=503) - before
    assert tried == 5 and f"the Hub answered 503 after {tried} attempts" in failed["error"], failed


# ---------------------------------------------------------------------- 9: the record of each Hub


def test_the_releases_record_is_kept_per_hub_endpoint(
    built_tiny_release: Path, hub_server: HubServer, hub_env: dict[str, str], tmp_path: Path
):
    """A version published to one Hub neither blocks publishing the same repo name on another (a staging
    Hub, a mirror) nor makes its tag read as moved there."""
    first = publish(hub_env, built_tiny_release)
    raw = make_tiny_raw(tmp_path / "raw")
    csv = raw / "Text" / "VQA" / "test" / "SARVQA2_test.csv"
    csv.write_text(csv.read_text().replace("Urban.", "Residential."))
    other = build_release(raw, tmp_path / "other", version="1.0.0", progress=False).out
    with HubServer(tmp_path / "staging") as staging:
        staging_env = staging.client_env(tmp_path / "staging-client")
        staging_env["SARLANG1M_RELEASES_FILE"] = hub_env["SARLANG1M_RELEASES_FILE"]  # one user, one record
        second = publish(staging_env, other)
        assert "commit" in second, second
        answers = run_client(
            f"""
            import sarlang1m
            rows = sarlang1m.load("sarvqa2", split="test", source={REPO + "@v1.0.0"!r})
            emit([row["qa"]["answer"] for row in rows])
            """,
            staging_env,
        )
        assert answers == [["Residential."]]
        record = json.loads(Path(hub_env["SARLANG1M_RELEASES_FILE"]).read_text())["releases"]
        assert record[hub_server.endpoint][REPO]["v1.0.0"] == first["commit"]
        assert record[staging.endpoint][REPO]["v1.0.0"] == second["commit"] != first["commit"]


def test_a_record_of_the_first_format_is_read_as_huggingface_co_and_migrated(tmp_path: Path, monkeypatch):
    from sarlang1m.publish import releases

    path = tmp_path / "releases.json"
    monkeypatch.setenv(releases.ENVIRONMENT_VARIABLE, str(path))
    old = "a" * 40
    path.write_text(json.dumps({"format": 1, "releases": {"org/name": {"v1.0.0": old}}}))
    assert releases.recorded_commit("org/name", "v1.0.0", endpoint="https://huggingface.co/") == old
    assert releases.recorded_commit("org/name", "v1.0.0", endpoint="http://127.0.0.1:8080") is None
    releases.record("org/name", "v1.0.0", "b" * 40, endpoint="http://127.0.0.1:8080")
    assert json.loads(path.read_text()) == {
        "format": 2,
        "releases": {
            "https://huggingface.co": {"org/name": {"v1.0.0": old}},
            "http://127.0.0.1:8080": {"org/name": {"v1.0.0": "b" * 40}},
        },
    }
    packaged = json.loads(releases.PACKAGE_FILE.read_text())
    assert packaged["format"] == 2


# ---------------------------------------------------------------------- 10: messages that say what happened


def test_a_tag_made_by_someone_else_during_a_push_is_named_as_such(
    built_tiny_release: Path, hub_server: HubServer, hub_env: dict[str, str]
):
    hub_server.inject_concurrent_tag(REPO, "v1.0.0")
    failed = publish(hub_env, built_tiny_release)
    assert failed["error"] == "HubConflictError", failed
    assert "someone else created the tag v1.0.0 meanwhile" in failed["message"]
    assert "another commit landed" not in failed["message"]


def test_a_missing_tag_is_said_in_words(built_tiny_release: Path, hub_env: dict[str, str]):
    assert "commit" in publish(hub_env, built_tiny_release)
    done = cli(hub_env, "verify", f"{REPO}@v9.9.9")
    line = one_line_error(done, "verify")
    assert done.returncode == 2 and f"{REPO} has no such revision" in line and "v9.9.9" in line
    assert not line.rstrip().endswith("404 Client Error.")


def test_a_truncated_shard_on_the_hub_is_named(built_tiny_release: Path, hub_env: dict[str, str], tmp_path: Path):
    """Published cut short (its MANIFEST entry made to match): loading it names the shard, as for a local one."""
    release = tmp_path / "cut"
    shutil.copytree(built_tiny_release, release)
    shard = "data/vqa/sarvqa2/vhr/train-00000-of-00001.parquet"
    cut = (release / shard).read_bytes()[:-300]
    (release / shard).write_bytes(cut)
    manifest = json.loads((release / schema.MANIFEST_FILE).read_text())
    manifest["files"][shard] = {"sha256": hashlib.sha256(cut).hexdigest(), "bytes": len(cut)}
    (release / schema.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    upload_as_is(hub_env, release)
    result = run_client(
        f"""
        import sarlang1m
        from sarlang1m.errors import SarlangError
        try:
            sarlang1m.load("sarvqa2", split="train", source={REPO!r}, revision="v1.0.0")
        except SarlangError as error:
            emit(str(error))
        """,
        hub_env,
    )
    assert result and result.startswith(f"{shard} (the copy in huggingface_hub's cache, "), result
    assert "damaged Parquet shard cannot be read" in result and f"sarlang1m verify {REPO}@" in result


def test_a_cached_copy_damaged_on_disk_is_not_blamed_on_the_hub(
    built_tiny_release: Path, hub_env: dict[str, str], tmp_path: Path
):
    assert "commit" in publish(hub_env, built_tiny_release)
    load = f"""
        import sarlang1m
        from sarlang1m.errors import VerificationError
        try:
            rows = sarlang1m.load("sarvqa2", split="test", source={REPO!r}, revision="v1.0.0")
            emit({{"rows": rows.num_rows}})
        except VerificationError as error:
            emit({{"error": str(error)}})
        """
    assert run_client(load, hub_env) == {"rows": 1}  # downloaded, hashed, marked as checked
    shard = "data/vqa/sarvqa2/vhr/test-00000-of-00001.parquet"
    cached = next(Path(hub_env["HF_HOME"]).rglob(f"snapshots/*/{shard}"))
    blob = Path(os.path.realpath(cached))
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a bit flipped on this disk
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    shutil.rmtree(blob.parent.parent / "sarlang1m-verified")  # the marker of a file checked before
    refused = run_client(load, hub_env)["error"]
    assert f"the cached copy of {shard}" in refused and "damaged on this disk after it was downloaded" in refused
    assert "the Hub serves other bytes" not in refused


# ---------------------------------------------------------------------- verify reads the pinned release


def test_verify_without_a_revision_checks_the_pinned_release_and_names_its_commit(
    built_tiny_release: Path, hub_env: dict[str, str]
):
    commit = publish(hub_env, built_tiny_release)["commit"]
    run_client(  # main moves on after the release: the pinned version is what every reader reads
        f"""
        from huggingface_hub import HfApi
        HfApi().upload_file(path_or_fileobj=b"notes", path_in_repo="notes.txt", repo_id={REPO!r}, repo_type="dataset")
        """,
        hub_env,
    )
    done = cli(hub_env, "verify", REPO)
    assert done.returncode == 0, done
    assert done.stdout.startswith(f"{REPO}@{schema.RELEASE_REVISION} (commit {commit}): OK"), done.stdout
