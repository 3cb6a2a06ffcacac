"""Tests of the local Hub stand-in: raw protocol in-process, huggingface_hub and datasets in subprocesses.

All repositories, files and Parquet tables here are synthetic, made up by the tests.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import hub_server as hub
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

hub_multipart = hub.hub_server_fixture(multipart_chunk_size=1000)

REPO = "sar-org/synthetic-release"


# --------------------------------------------------------------------------------------------------
# Helpers

#: Client code: a local copy checked against the tree at a revision with `HfApi.verify_repo_checksums`
#: (huggingface_hub >= 1.1) or, before it, with the same comparison made here (an LFS file by its sha256,
#: any other by its git blob id; the download metadata under .cache/huggingface/ is no repo file).
CHECKSUM_MISMATCHES = '''
def checksum_mismatches(api, repo_id, local_dir, revision=None):
    """The paths of local_dir whose content differs from repo_id at revision, and how many were compared."""
    if hasattr(api, "verify_repo_checksums"):
        check = api.verify_repo_checksums(repo_id, repo_type="dataset", revision=revision, local_dir=local_dir)
        return [m["path"] for m in check.mismatches], check.checked_count
    import hashlib
    from pathlib import Path
    from huggingface_hub.hf_api import RepoFile
    from huggingface_hub.utils.sha import git_hash
    root = Path(local_dir)
    local = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
    local = {path: file for path, file in local.items() if not path.startswith((".cache/huggingface/", ".git/"))}
    tree = api.list_repo_tree(repo_id, repo_type="dataset", revision=revision, recursive=True)
    remote = {entry.path: entry for entry in tree if isinstance(entry, RepoFile)}
    both = sorted(set(local) & set(remote))

    def same(path):
        data, entry = local[path].read_bytes(), remote[path]
        return hashlib.sha256(data).hexdigest() == entry.lfs["sha256"] if entry.lfs else git_hash(data) == entry.blob_id

    return [path for path in both if not same(path)], len(both)
'''


def with_checksums(code: str) -> str:
    """Client `code` with `checksum_mismatches` defined before it."""
    return CHECKSUM_MISMATCHES + textwrap.dedent(code)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_parquet(path: Path, values: list[int]) -> Path:
    """A small synthetic Parquet shard: one row per value."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"image_id": [f"synthetic_{v:04d}" for v in values], "answer": [str(v % 7) for v in values]})
    pq.write_table(table, path)
    return path


README = """\
---
license: other
tags:
- sar
- synthetic
configs:
- config_name: vqa
  data_files:
  - split: train
    path: data/vqa/train-*.parquet
  - split: test
    path: data/vqa/test-*.parquet
- config_name: captions
  default: true
  data_files:
  - split: train
    path: data/captions/train-*.parquet
---
# Synthetic release for the Hub stand-in tests
"""


def write_release(folder: Path, train_values: list[int]) -> dict[str, bytes]:
    """A synthetic release folder (card, manifest, Parquet shards, a binary and a text file); returns its files."""
    write_parquet(folder / "data/vqa/train-00000-of-00001.parquet", train_values)
    write_parquet(folder / "data/vqa/test-00000-of-00001.parquet", [1000, 1001])
    write_parquet(folder / "data/captions/train-00000-of-00001.parquet", [7, 8, 9])
    (folder / "README.md").write_text(README)
    (folder / "extras").mkdir(exist_ok=True)
    (folder / "extras/raw.dat").write_bytes(b"SAR\0" + bytes(range(256)) * 4)  # binary: LFS by its sample
    (folder / "extras/notes.txt").write_text("synthetic notes\n")
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    manifest = {path: {"sha256": sha256(data), "bytes": len(data)} for path, data in sorted(files.items())}
    (folder / "MANIFEST.json").write_text(json.dumps(manifest, indent=1))
    files["MANIFEST.json"] = (folder / "MANIFEST.json").read_bytes()
    return files


def raw_request(
    server: hub.HubServer,
    method: str,
    path: str,
    *,
    body: bytes | dict | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = hub.TEST_TOKEN,
    host: str = "127.0.0.1",
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request without any client library (no redirects followed)."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection(host, server.port, timeout=10)
    try:
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def raw_push(server: hub.HubServer, repo_id: str, files: dict[str, bytes], lfs: set[str]) -> str:
    """Create a dataset repo and commit ``files`` through the bare protocol (the ``lfs`` paths via LFS)."""
    namespace, name = repo_id.split("/")
    status, _, _ = raw_request(
        server, "POST", "/api/repos/create", body={"name": name, "organization": namespace, "type": "dataset"}
    )
    assert status == 200
    objects = [{"oid": sha256(files[p]), "size": len(files[p])} for p in sorted(lfs)]
    status, _, answer = raw_request(
        server,
        "POST",
        f"/datasets/{repo_id}.git/info/lfs/objects/batch",
        body={"operation": "upload", "transfers": ["basic"], "objects": objects, "hash_algo": "sha256"},
    )
    assert status == 200
    for item in json.loads(answer)["objects"]:
        href = item["actions"]["upload"]["href"].removeprefix(server.endpoint)
        content = next(files[p] for p in lfs if sha256(files[p]) == item["oid"])
        assert raw_request(server, "PUT", href, body=content, token=None)[0] == 200
    lines = [{"key": "header", "value": {"summary": "raw push", "description": ""}}]
    for path, data in sorted(files.items()):
        if path in lfs:
            lines.append({"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": sha256(data)}})
        else:
            content = base64.b64encode(data).decode()
            lines.append({"key": "file", "value": {"path": path, "encoding": "base64", "content": content}})
    ndjson = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    status, _, answer = raw_request(server, "POST", f"/api/datasets/{repo_id}/commit/main", body=ndjson)
    assert status == 200, answer
    return json.loads(answer)["commitOid"]


# --------------------------------------------------------------------------------------------------
# Git object ids, checked against git itself


@pytest.mark.skipif(shutil.which("git") is None, reason="git is the oracle for object ids")
def test_blob_tree_and_commit_ids_equal_those_git_computes(tmp_path: Path) -> None:
    def git(*args: str, stdin: bytes | str = b"", env: dict[str, str] | None = None) -> str:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        completed = subprocess.run(
            ["git", "-C", str(tmp_path), *args], input=data, capture_output=True, check=True, env=env
        )
        return completed.stdout.decode().strip()

    git("init", "-q")
    files = {"README.md": b"# card\n", "data/a/x.parquet": b"PAR1\0\1", "data/b.txt": b"b\n", "data-c": b"c"}
    files["data/a/y.parquet"] = hub.lfs_pointer(sha256(b"large"), 5)  # LFS files are pointer blobs in git
    blob_oids = {path: hub.git_blob_oid(data) for path, data in files.items()}
    for path, data in files.items():
        assert git("hash-object", "-w", "--stdin", stdin=data) == blob_oids[path], path
    tree_oids = hub.git_tree_oids(blob_oids)

    def mktree(folder: str) -> str:  # build the same tree with git, bottom up
        prefix = f"{folder}/" if folder else ""
        lines = []
        for name in {p[len(prefix) :].split("/")[0] for p in files if p.startswith(prefix)}:
            path = prefix + name
            if path in files:
                lines.append(f"100644 blob {blob_oids[path]}\t{name}")
            else:
                lines.append(f"040000 tree {mktree(path)}\t{name}")
        return git("mktree", stdin="\n".join(lines) + "\n")

    assert tree_oids[""] == mktree("")
    assert tree_oids["data/a"] == mktree("data/a")

    timestamp, message = 1_700_000_000, hub.git_commit_message("Upload release", "built from synthetic data")
    ident = {"NAME": "tester", "EMAIL": "tester@users.noreply.huggingface.co", "DATE": f"@{timestamp} +0000"}
    env = {f"GIT_{role}_{key}": value for role in ("AUTHOR", "COMMITTER") for key, value in ident.items()}
    first = git("commit-tree", tree_oids[""], stdin=message, env={**env, "PATH": "/usr/bin:/bin"})
    second = git("commit-tree", tree_oids[""], "-p", first, stdin=message, env={**env, "PATH": "/usr/bin:/bin"})
    assert hub.git_commit_oid(tree_oids[""], (), "tester", timestamp, message) == first
    assert hub.git_commit_oid(tree_oids[""], (first,), "tester", timestamp, message) == second


def test_gitattributes_decide_lfs_with_the_last_matching_line() -> None:
    attributes = hub.DEFAULT_GITATTRIBUTES + "data/keep/*.parquet -filter\n"
    assert hub.is_lfs_by_gitattributes("data/vqa/train-00000-of-00001.parquet", attributes)
    assert hub.is_lfs_by_gitattributes("img.png", attributes)
    assert not hub.is_lfs_by_gitattributes("data/keep/a.parquet", attributes)
    assert not hub.is_lfs_by_gitattributes("README.md", attributes)
    assert not hub.is_lfs_by_gitattributes("MANIFEST.json", attributes)


def test_fault_arguments_are_checked(hub_server: hub.HubServer) -> None:
    with pytest.raises(ValueError, match="Unknown route 'lfs-put'"):
        hub_server.inject_fault("lfs-put")
    with pytest.raises(ValueError, match="nth=0"):
        hub_server.inject_fault("commit", nth=0)


# --------------------------------------------------------------------------------------------------
# The bare protocol, in-process


def test_resolve_serves_ranges_and_redirects_lfs_to_a_signed_other_host(hub_server: hub.HubServer) -> None:
    files = {"README.md": b"---\ntags: [sar]\n---\n# x\n", "data/x.parquet": bytes(range(256)) * 8}
    commit = raw_push(hub_server, REPO, files, lfs={"data/x.parquet"})

    status, headers, body = raw_request(hub_server, "HEAD", f"/datasets/{REPO}/resolve/main/README.md")
    assert (status, body) == (200, b"")
    assert headers["etag"] == f'"{hub.git_blob_oid(files["README.md"])}"'
    assert headers["x-repo-commit"] == commit
    assert int(headers["content-length"]) == len(files["README.md"])

    status, headers, body = raw_request(
        hub_server, "GET", f"/datasets/{REPO}/resolve/{commit}/README.md", headers={"Range": "bytes=4-7"}
    )
    assert (status, body, headers["content-range"]) == (
        206,
        files["README.md"][4:8],
        f"bytes 4-7/{len(files['README.md'])}",
    )
    status, _, body = raw_request(
        hub_server, "GET", f"/datasets/{REPO}/resolve/main/README.md", headers={"Range": "bytes=-3"}
    )
    assert (status, body) == (206, files["README.md"][-3:])
    status, headers, _ = raw_request(
        hub_server, "GET", f"/datasets/{REPO}/resolve/main/README.md", headers={"Range": "bytes=999-"}
    )
    assert (status, headers["content-range"]) == (416, f"bytes */{len(files['README.md'])}")

    parquet = files["data/x.parquet"]
    status, headers, _ = raw_request(hub_server, "HEAD", f"/datasets/{REPO}/resolve/main/data/x.parquet")
    assert status == 302
    assert headers["x-linked-etag"] == f'"{sha256(parquet)}"'
    assert headers["x-linked-size"] == str(len(parquet))
    location = headers["location"]
    assert location.startswith(f"http://localhost:{hub_server.port}/__cdn/")  # another origin, like a CDN
    cdn_path = location.split(str(hub_server.port), 1)[1]
    status, _, body = raw_request(
        hub_server, "GET", cdn_path, headers={"Range": "bytes=1000-1999"}, token=None, host="localhost"
    )
    assert (status, body) == (206, parquet[1000:2000])
    unsigned = cdn_path.split("?")[0]
    assert raw_request(hub_server, "GET", unsigned, token=None)[0] == 403


def test_errors_carry_the_hub_error_codes(hub_server: hub.HubServer) -> None:
    commit = raw_push(hub_server, REPO, {"a.txt": b"a\n"}, lfs=set())
    cases = {
        f"/datasets/{REPO}/resolve/main/missing.txt": ("EntryNotFound", commit),
        f"/datasets/{REPO}/resolve/nope/a.txt": ("RevisionNotFound", None),
        "/datasets/sar-org/absent/resolve/main/a.txt": ("RepoNotFound", None),
        f"/api/datasets/{REPO}/revision/v9": ("RevisionNotFound", None),
        f"/api/datasets/{REPO}/tree/main/no-such-folder": ("EntryNotFound", commit),
    }
    for path, (code, repo_commit) in cases.items():
        status, headers, _ = raw_request(hub_server, "GET", path)
        assert (status, headers.get("x-error-code"), headers.get("x-repo-commit")) == (404, code, repo_commit), path

    status, headers, _ = raw_request(hub_server, "GET", f"/api/datasets/{REPO}", token="hf_wrong")
    assert (status, headers["x-error-message"]) == (401, "Invalid credentials in Authorization header")
    status, _, _ = raw_request(hub_server, "POST", f"/api/datasets/{REPO}/tag/main", body={"tag": "v1"}, token=None)
    assert status == 401
    assert raw_request(hub_server, "GET", "/api/spaces-settings/x")[0] == 404
    assert hub_server.count("unknown", status=404) == 1


def test_commit_and_lfs_upload_refuse_inconsistent_content(hub_server: hub.HubServer) -> None:
    commit = raw_push(hub_server, REPO, {"a.txt": b"a\n"}, lfs=set())
    never_uploaded = sha256(b"never uploaded")
    lfs_line = {"path": "data/y.parquet", "algo": "sha256", "oid": never_uploaded}
    lines = [{"key": "header", "value": {"summary": "bad"}}, {"key": "lfsFile", "value": lfs_line}]
    ndjson = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    status, _, body = raw_request(hub_server, "POST", f"/api/datasets/{REPO}/commit/main", body=ndjson)
    assert status == 422
    assert never_uploaded in json.loads(body)["error"] and "data/y.parquet" in json.loads(body)["error"]

    status, _, body = raw_request(hub_server, "POST", f"/api/datasets/{REPO}/commit/main", body=b"{not json\n")
    assert (status, json.loads(body)["error"].startswith("commit line 1")) == (400, True)

    announced = b"the announced bytes"
    status, _, answer = raw_request(
        hub_server,
        "POST",
        f"/datasets/{REPO}.git/info/lfs/objects/batch",
        body={"operation": "upload", "objects": [{"oid": sha256(announced), "size": len(announced)}]},
    )
    href = json.loads(answer)["objects"][0]["actions"]["upload"]["href"].removeprefix(hub_server.endpoint)
    status, _, body = raw_request(hub_server, "PUT", href, body=b"other bytes, same URL", token=None)
    assert status == 400 and sha256(announced) in json.loads(body)["error"]
    assert hub_server.head(REPO) == commit  # nothing committed by the failures
    assert sorted(hub_server.files(REPO)) == [".gitattributes", "a.txt"]


def test_tree_pages_follow_the_link_header(hub_server: hub.HubServer) -> None:
    files = {f"many/{i:03d}.txt": f"{i}\n".encode() for i in range(60)}
    raw_push(hub_server, REPO, files, lfs=set())
    listed, path, pages = [], f"/api/datasets/{REPO}/tree/main/many?expand=true", 0
    while path:
        status, headers, body = raw_request(hub_server, "GET", path)
        assert status == 200
        listed += [entry["path"] for entry in json.loads(body)]
        pages += 1
        link = headers.get("link", "")
        path = link[1 : link.index(">")].removeprefix(hub_server.endpoint) if 'rel="next"' in link else ""
    assert (pages, listed) == (2, sorted(files))  # 50 per page when expanded, like the Hub


def test_chunked_lfs_put_is_accepted_and_verified(hub_server: hub.HubServer) -> None:
    raw_push(hub_server, REPO, {"a.txt": b"a\n"}, lfs=set())
    data = b"\0chunked synthetic object" * 50
    status, _, answer = raw_request(
        hub_server,
        "POST",
        f"/datasets/{REPO}.git/info/lfs/objects/batch",
        body={"operation": "upload", "objects": [{"oid": sha256(data), "size": len(data)}]},
    )
    assert status == 200
    actions = json.loads(answer)["objects"][0]["actions"]
    connection = http.client.HTTPConnection("127.0.0.1", hub_server.port, timeout=10)
    try:
        href = actions["upload"]["href"].removeprefix(hub_server.endpoint)
        connection.request("PUT", href, body=iter([data[:100], data[100:]]), encode_chunked=True)
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    verify = actions["verify"]["href"].removeprefix(hub_server.endpoint)
    assert raw_request(hub_server, "POST", verify, body={"oid": sha256(data), "size": len(data)})[0] == 200
    assert raw_request(hub_server, "POST", verify, body={"oid": sha256(b"x"), "size": 1})[0] == 404
    status, _, answer = raw_request(
        hub_server,
        "POST",
        f"/datasets/{REPO}.git/info/lfs/objects/batch",
        body={"operation": "upload", "objects": [{"oid": sha256(data), "size": len(data)}]},
    )
    assert status == 200 and "actions" not in json.loads(answer)["objects"][0]  # stored: nothing to send


def test_validate_yaml_rejects_broken_card_metadata(hub_server: hub.HubServer) -> None:
    def validate(content: str) -> tuple[int, list[str]]:
        status, _, body = raw_request(hub_server, "POST", "/api/validate-yaml", body={"content": content})
        return status, [e["message"] for e in json.loads(body)["errors"]]

    assert validate(README) == (200, [])
    assert validate("no metadata at all\n") == (200, [])
    status, errors = validate("---\nconfigs: [\n---\n")
    assert status == 400 and errors[0].startswith("Invalid YAML")
    status, errors = validate("---\nconfigs:\n- config_name: a\n- config_name: a\n---\n")
    assert (status, errors) == (400, ["configs[1]: duplicate config_name 'a'"])


# --------------------------------------------------------------------------------------------------
# huggingface_hub against the server (subprocess: HF_ENDPOINT is read at import)


def test_create_repo_visibility_and_conflicts(hub_server: hub.HubServer, hub_env: dict[str, str]) -> None:
    result = hub.run_client(
        f"""
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
        api = HfApi()
        out = {{"url": str(api.create_repo({REPO!r}, repo_type="dataset"))}}
        try:
            api.create_repo({REPO!r}, repo_type="dataset")
        except HfHubHTTPError as error:
            out["again"] = error.response.status_code
        out["exist_ok"] = api.create_repo({REPO!r}, repo_type="dataset", exist_ok=True).repo_id
        api.create_repo("sar-org/private-one", repo_type="dataset", private=True)
        info = api.dataset_info("sar-org/private-one")
        out["private"] = [info.private, info.sha, [s.rfilename for s in info.siblings]]
        try:
            HfApi(token=False).dataset_info("sar-org/private-one")
        except RepositoryNotFoundError:
            out["anonymous"] = "RepositoryNotFoundError"
        out["public_anonymous"] = HfApi(token=False).dataset_info({REPO!r}).private
        out["exists"] = [api.repo_exists(r, repo_type="dataset") for r in [{REPO!r}, "sar-org/x"]]
        emit(out)
        """,
        hub_env,
    )
    assert result["url"] == f"{hub_server.endpoint}/datasets/{REPO}"
    assert result["again"] == 409
    assert result["exist_ok"] == REPO
    assert result["private"] == [True, hub_server.head("sar-org/private-one"), [".gitattributes"]]
    assert result["anonymous"] == "RepositoryNotFoundError"
    assert result["public_anonymous"] is False
    assert result["exists"] == [True, False]


def test_upload_folder_then_read_back_everything(
    hub_server: hub.HubServer, hub_env: dict[str, str], tmp_path: Path
) -> None:
    files = write_release(tmp_path / "release", list(range(20)))
    result = hub.run_client(
        with_checksums(
            f"""
        import hashlib
        from pathlib import Path
        from huggingface_hub import HfApi, hf_hub_download, snapshot_download
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset")
        info = api.upload_folder(folder_path={str(tmp_path / "release")!r}, repo_id={REPO!r}, repo_type="dataset",
                                 commit_message="Release v1")
        tree = {{f.path: [f.size, f.blob_id, f.lfs["sha256"] if f.lfs else None]
                for f in api.list_repo_tree({REPO!r}, repo_type="dataset", recursive=True) if hasattr(f, "size")}}
        folders = sorted(f.path for f in api.list_repo_tree({REPO!r}, repo_type="dataset", recursive=True)
                         if not hasattr(f, "size"))
        top = sorted(f.path for f in api.list_repo_tree({REPO!r}, repo_type="dataset"))
        last = {{f.path: f.last_commit["oid"] for f in api.list_repo_tree({REPO!r}, repo_type="dataset",
                                                                       expand=True)}}
        paths = api.get_paths_info({REPO!r}, ["README.md", "data/vqa", "absent.txt"], repo_type="dataset",
                                   expand=True)
        ds_info = api.dataset_info({REPO!r}, files_metadata=True)
        siblings = {{s.rfilename: [s.size, s.lfs.sha256 if s.lfs else None] for s in ds_info.siblings}}
        downloaded = {{p: hashlib.sha256(Path(hf_hub_download({REPO!r}, p, repo_type="dataset",
                                                               revision=info.oid)).read_bytes()).hexdigest()
                      for p in tree}}
        local = snapshot_download({REPO!r}, repo_type="dataset", local_dir="snapshot")
        mismatches, checked = checksum_mismatches(api, {REPO!r}, local)
        emit({{"oid": info.oid, "url": info.commit_url, "tree": tree, "folders": folders, "top": top, "last": last,
              "paths": [[p.path, type(p).__name__, p.last_commit["oid"]] for p in paths],
              "sha": ds_info.sha, "siblings": siblings, "tags": ds_info.tags,
              "configs": [c["config_name"] for c in ds_info.card_data.configs],
              "downloaded": downloaded, "mismatches": mismatches, "checked": checked}})
        """
        ),
        hub_env,
    )
    head = hub_server.head(REPO)
    assert result["oid"] == result["sha"] == head
    assert result["url"] == f"{hub_server.endpoint}/datasets/{REPO}/commit/{head}"
    lfs_paths = {p for p in files if p.endswith((".parquet", ".dat"))}
    for path, data in files.items():
        size, blob_id, lfs_sha = result["tree"][path]
        assert size == len(data), path
        if path in lfs_paths:
            assert (lfs_sha, blob_id) == (sha256(data), hub.git_blob_oid(hub.lfs_pointer(sha256(data), len(data))))
        else:
            assert (lfs_sha, blob_id) == (None, hub.git_blob_oid(data)), path
        assert result["siblings"][path] == [len(data), sha256(data) if path in lfs_paths else None]
        assert result["downloaded"][path] == sha256(data), path
        assert hub_server.read_file(REPO, path) == data
    assert set(result["tree"]) == set(files) | {".gitattributes"}
    assert result["folders"] == ["data", "data/captions", "data/vqa", "extras"]
    assert result["top"] == [".gitattributes", "MANIFEST.json", "README.md", "data", "extras"]
    initial = hub_server.repos[("dataset", REPO)].commits[head].parents[0]
    assert result["last"] == {".gitattributes": initial} | {p: head for p in result["top"] if p != ".gitattributes"}
    assert result["paths"] == [["README.md", "RepoFile", head], ["data/vqa", "RepoFolder", head]]
    assert result["tags"] == ["sar", "synthetic"]
    assert result["configs"] == ["vqa", "captions"]
    assert (result["mismatches"], result["checked"]) == ([], len(files) + 1)
    assert hub_server.count("unknown", status="any") == 0


def test_create_commit_deletions_parent_checks_and_history(
    hub_server: hub.HubServer, hub_env: dict[str, str], tmp_path: Path
) -> None:
    files = write_release(tmp_path / "release", list(range(5)))
    result = hub.run_client(
        f"""
        from huggingface_hub import HfApi, CommitOperationAdd, CommitOperationDelete
        from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset")
        first = api.upload_folder(folder_path={str(tmp_path / "release")!r}, repo_id={REPO!r},
                                  repo_type="dataset", commit_message="Release", commit_description="shards 1/2")
        second = api.create_commit({REPO!r}, repo_type="dataset", commit_message="Drop extras, add shard",
            parent_commit=first.oid,
            operations=[CommitOperationDelete("extras/"), CommitOperationDelete("MANIFEST.json"),
                        CommitOperationAdd("data/vqa/train-00001-of-00001.parquet", b"PAR1 synthetic")])
        out = {{"first": first.oid, "second": second.oid}}
        try:
            api.create_commit({REPO!r}, repo_type="dataset", commit_message="stale", parent_commit=first.oid,
                              operations=[CommitOperationAdd("late.txt", b"late")])
        except HfHubHTTPError as error:
            out["stale"] = [error.response.status_code, str(error).count("A commit has happened since")]
        try:
            api.create_commit({REPO!r}, repo_type="dataset", commit_message="x",
                              operations=[CommitOperationDelete("not-there.txt")])
        except EntryNotFoundError as error:
            out["missing_delete"] = type(error).__name__
        try:
            api.upload_file(path_or_fileobj=b"---\\nconfigs: [\\n---\\n", path_in_repo="README.md",
                            repo_id={REPO!r}, repo_type="dataset")
        except ValueError as error:
            out["bad_card"] = str(error).splitlines()[0]
        unchanged = api.upload_folder(folder_path={str(tmp_path / "release" / "data")!r}, path_in_repo="data",
                                      repo_id={REPO!r}, repo_type="dataset")
        out["unchanged"] = unchanged.oid
        history = api.list_repo_commits({REPO!r}, repo_type="dataset")
        out["history"] = [[c.commit_id, c.title, c.message] for c in history]
        emit(out)
        """,
        hub_env,
    )
    assert result["stale"] == [412, 1]
    assert result["missing_delete"] == "RemoteEntryNotFoundError"
    assert result["bad_card"] == "Invalid metadata in README.md."
    assert result["unchanged"] == result["second"] == hub_server.head(REPO)  # re-upload of same bytes: no commit
    titles = [[title, message] for _, title, message in result["history"]]
    assert titles == [["Drop extras, add shard", ""], ["Release", "shards 1/2"], ["initial commit", ""]]
    assert [oid for oid, _, _ in result["history"]][:2] == [result["second"], result["first"]]
    after = hub_server.files(REPO)
    assert not any(p.startswith("extras/") or p == "MANIFEST.json" for p in after)
    assert after["data/vqa/train-00001-of-00001.parquet"].lfs_sha256 == sha256(b"PAR1 synthetic")
    assert set(hub_server.files(REPO, result["first"])) == set(files) | {".gitattributes"}


def test_tags_branches_and_client_exception_types(
    hub_server: hub.HubServer, hub_env: dict[str, str], tmp_path: Path
) -> None:
    result = hub.run_client(
        f"""
        from huggingface_hub import HfApi, hf_hub_download, CommitOperationAdd
        from huggingface_hub.errors import (HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError,
                                            EntryNotFoundError)
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset")
        v1 = api.create_commit({REPO!r}, repo_type="dataset", commit_message="v1",
                               operations=[CommitOperationAdd("data.bin", b"version 1")]).oid
        api.create_tag({REPO!r}, tag="v1.0.0", tag_message="first release", repo_type="dataset")
        out = {{"v1": v1}}
        try:
            api.create_tag({REPO!r}, tag="v1.0.0", repo_type="dataset", revision=v1)
        except HfHubHTTPError as error:
            out["retag"] = error.response.status_code
        api.create_tag({REPO!r}, tag="v1.0.0", repo_type="dataset", exist_ok=True)
        api.create_branch({REPO!r}, branch="dev", revision="v1.0.0", repo_type="dataset")
        v2 = api.create_commit({REPO!r}, repo_type="dataset", commit_message="v2", revision="dev",
                               operations=[CommitOperationAdd("data.bin", b"version 2")]).oid
        api.create_tag({REPO!r}, tag="rc", repo_type="dataset", revision=v2[:7])
        refs = api.list_repo_refs({REPO!r}, repo_type="dataset")
        out["refs"] = {{"branches": {{b.name: b.target_commit for b in refs.branches}},
                       "tags": {{t.name: t.target_commit for t in refs.tags}}}}
        out["sha_at"] = {{rev: api.dataset_info({REPO!r}, revision=rev).sha
                         for rev in ["main", "v1.0.0", "dev", v1, v2[:10], "refs/heads/dev"]}}
        out["bytes_at"] = {{rev: open(hf_hub_download({REPO!r}, "data.bin", repo_type="dataset", revision=rev),
                                      "rb").read().decode() for rev in ["v1.0.0", "dev", "rc"]}}
        out["v2"] = v2
        api.delete_tag({REPO!r}, tag="rc", repo_type="dataset")
        out["revision_exists"] = [api.revision_exists({REPO!r}, r, repo_type="dataset") for r in ["rc", "dev"]]
        api.delete_branch({REPO!r}, branch="dev", repo_type="dataset")
        out["file_exists"] = [api.file_exists({REPO!r}, f, repo_type="dataset") for f in ["data.bin", "x.bin"]]
        errors = {{}}
        calls = {{
            "repo": lambda: hf_hub_download("sar-org/absent", "data.bin", repo_type="dataset"),
            "revision": lambda: hf_hub_download({REPO!r}, "data.bin", repo_type="dataset", revision="v9"),
            "entry": lambda: hf_hub_download({REPO!r}, "x.bin", repo_type="dataset"),
            "tree": lambda: list(api.list_repo_tree({REPO!r}, "nope", repo_type="dataset")),
            "deleted_branch": lambda: api.dataset_info({REPO!r}, revision="dev"),
        }}
        for name, call in calls.items():
            try:
                call()
            except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError) as error:
                errors[name] = [c.__name__ for c in type(error).__mro__ if c.__name__ in
                                ("RepositoryNotFoundError", "RevisionNotFoundError", "EntryNotFoundError")][0]
        out["errors"] = errors
        emit(out)
        """,
        hub_env,
    )
    v1, v2 = result["v1"], result["v2"]
    assert result["retag"] == 409
    assert result["refs"] == {"branches": {"main": v1, "dev": v2}, "tags": {"v1.0.0": v1, "rc": v2}}
    assert result["sha_at"] == {"main": v1, "v1.0.0": v1, "dev": v2, v1: v1, v2[:10]: v2, "refs/heads/dev": v2}
    assert result["bytes_at"] == {"v1.0.0": "version 1", "dev": "version 2", "rc": "version 2"}
    assert result["revision_exists"] == [False, True]
    assert result["file_exists"] == [True, False]
    assert result["errors"] == {
        "repo": "RepositoryNotFoundError",
        "revision": "RevisionNotFoundError",
        "entry": "EntryNotFoundError",
        "tree": "EntryNotFoundError",
        "deleted_branch": "RevisionNotFoundError",
    }
    assert hub_server.repos[("dataset", REPO)].tags["v1.0.0"].message == "first release"


# --------------------------------------------------------------------------------------------------
# datasets: load a pinned revision, regular and streaming


def test_load_dataset_at_a_tag_regular_and_streaming(
    hub_server: hub.HubServer, hub_env: dict[str, str], tmp_path: Path
) -> None:
    write_release(tmp_path / "v1", list(range(5)))
    write_release(tmp_path / "v2", list(range(100, 112)))
    result = hub.run_client(
        f"""
        from huggingface_hub import HfApi
        from datasets import get_dataset_config_names, load_dataset
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset")
        api.upload_folder(folder_path={str(tmp_path / "v1")!r}, repo_id={REPO!r}, repo_type="dataset",
                          commit_message="v1")
        api.create_tag({REPO!r}, tag="v1.0.0", repo_type="dataset")
        api.upload_folder(folder_path={str(tmp_path / "v2")!r}, repo_id={REPO!r}, repo_type="dataset",
                          commit_message="v2")
        out = {{"configs": sorted(get_dataset_config_names({REPO!r}, revision="v1.0.0"))}}
        regular = load_dataset({REPO!r}, "vqa", revision="v1.0.0")
        out["regular"] = {{split: list(regular[split]["image_id"]) for split in regular}}
        streamed = load_dataset({REPO!r}, "vqa", revision="v1.0.0", split="train", streaming=True)
        out["streamed"] = [row["image_id"] for row in streamed]
        out["main"] = load_dataset({REPO!r}, "vqa", revision="main", split="train", streaming=True).n_shards
        out["main_rows"] = len(load_dataset({REPO!r}, "vqa", revision="main", split="train"))
        from huggingface_hub import HfFileSystem
        fs = HfFileSystem()
        out["glob"] = fs.glob("datasets/{REPO}@v1.0.0/data/**/*.parquet")
        with fs.open("datasets/{REPO}@v1.0.0/data/vqa/train-00000-of-00001.parquet", "rb", block_size=16) as f:
            f.seek(-8, 2)
            out["tail"] = f.read(8).hex()
        out["info"] = fs.info("datasets/{REPO}@v1.0.0/README.md")["size"]
        out["default"] = list(load_dataset({REPO!r}, revision="v1.0.0", split="train")["image_id"])
        emit(out)
        """,
        hub_env,
    )
    v1_train = [f"synthetic_{v:04d}" for v in range(5)]
    assert result["configs"] == ["captions", "vqa"]
    assert result["regular"] == {"train": v1_train, "test": ["synthetic_1000", "synthetic_1001"]}
    assert result["streamed"] == v1_train
    assert (result["main"], result["main_rows"]) == (1, 12)
    assert result["default"] == ["synthetic_0007", "synthetic_0008", "synthetic_0009"]
    shards = sorted(p for p in (tmp_path / "v1").rglob("*.parquet"))
    assert result["glob"] == [f"datasets/{REPO}@v1.0.0/{p.relative_to(tmp_path / 'v1').as_posix()}" for p in shards]
    v1_shard = (tmp_path / "v1/data/vqa/train-00000-of-00001.parquet").read_bytes()
    assert bytes.fromhex(result["tail"]) == v1_shard[-8:]
    assert result["info"] == len(README)
    assert hub_server.count("unknown", status="any") == 0
    assert hub_server.count("cdn", status=206) > 0  # streaming read the Parquet files by ranges


# --------------------------------------------------------------------------------------------------
# Fault injection: interrupted uploads, resumed


def test_interrupted_lfs_upload_leaves_no_commit_and_rerun_sends_only_the_missing_objects(
    hub_server: hub.HubServer, hub_env: dict[str, str], tmp_path: Path
) -> None:
    files = write_release(tmp_path / "release", list(range(30)))
    lfs_count = sum(p.endswith((".parquet", ".dat")) for p in files)
    push = f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset", exist_ok=True)
        try:
            oid = api.upload_folder(folder_path={str(tmp_path / "release")!r}, repo_id={REPO!r},
                                    repo_type="dataset", commit_message="Release v1").oid
            api.create_tag({REPO!r}, tag="v1.0.0", repo_type="dataset", revision=oid)
            emit({{"oid": oid}})
        except Exception as error:
            emit({{"error": type(error).__name__, "cause": type(error.__cause__).__name__}})
        """
    hub_server.inject_fault("lfs_put", nth=3, times=None, status=403)  # like expired upload URLs
    first = hub.run_client(push, hub_env)
    assert first == {"error": "RuntimeError", "cause": "HfHubHTTPError"}
    initial = hub_server.head(REPO)
    assert set(hub_server.files(REPO)) == {".gitattributes"}  # no commit
    assert hub_server.count("commit", status="any") == 0
    assert hub_server.count("lfs_put") == 2
    assert len(hub_server.repos[("dataset", REPO)].lfs_objects) == 2

    hub_server.clear_faults()
    second = hub.run_client(push, hub_env)
    assert hub_server.count("lfs_put") == lfs_count  # each object sent once over both runs
    assert second["oid"] == hub_server.head(REPO, "v1.0.0") != initial
    for path, data in files.items():
        assert hub_server.read_file(REPO, path, "v1.0.0") == data, path


def test_failed_commit_leaves_no_commit_and_rerun_reuses_uploaded_objects(
    hub_server: hub.HubServer, hub_env: dict[str, str], tmp_path: Path
) -> None:
    files = write_release(tmp_path / "release", list(range(8)))
    lfs_count = sum(p.endswith((".parquet", ".dat")) for p in files)
    push = f"""
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset", exist_ok=True)
        try:
            emit({{"oid": api.upload_folder(folder_path={str(tmp_path / "release")!r}, repo_id={REPO!r},
                                           repo_type="dataset", commit_message="Release").oid}})
        except HfHubHTTPError as error:
            emit({{"status": error.response.status_code}})
        """
    hub_server.inject_fault("commit", status=500)
    assert hub.run_client(push, hub_env) == {"status": 500}
    assert set(hub_server.files(REPO)) == {".gitattributes"}
    assert hub_server.count("lfs_put") == lfs_count

    second = hub.run_client(push, hub_env)
    assert second["oid"] == hub_server.head(REPO)
    assert hub_server.count("lfs_put") == lfs_count  # nothing uploaded twice
    assert {p: hub_server.read_file(REPO, p) for p in files} == files


def test_dropped_connection_on_an_lfs_put_is_retried_by_the_client(
    hub_server: hub.HubServer, hub_env: dict[str, str]
) -> None:
    data = b"\0synthetic shard" * 100
    hub_server.inject_fault("lfs_put", status=None)
    code = f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset")
        emit(api.upload_file(path_or_fileobj={data!r}, path_in_repo="shard.bin", repo_id={REPO!r},
                             repo_type="dataset").oid)
        """
    if not hub.RETRIES_DROPPED_CONNECTIONS:  # the upload fails, and nothing is committed
        with pytest.raises(hub.ClientError, match="Server disconnected without sending a response"):
            hub.run_client(code, hub_env)
        assert [r.status for r in hub_server.requests if r.route == "lfs_put"] == [None]
        assert "shard.bin" not in hub_server.files(REPO)
        return
    result = hub.run_client(code, hub_env)
    assert result == hub_server.head(REPO)
    assert [r.status for r in hub_server.requests if r.route == "lfs_put"] == [None, 200]
    assert hub_server.read_file(REPO, "shard.bin") == data


def test_multipart_lfs_upload(hub_multipart: hub.HubServer, tmp_path: Path) -> None:
    data = bytes(range(256)) * 14  # 3,584 bytes: 4 parts of at most 1,000
    result = hub.run_client(
        f"""
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        api.create_repo({REPO!r}, repo_type="dataset")
        api.upload_file(path_or_fileobj={data!r}, path_in_repo="big.bin", repo_id={REPO!r}, repo_type="dataset")
        emit(open(hf_hub_download({REPO!r}, "big.bin", repo_type="dataset"), "rb").read().hex())
        """,
        hub_multipart.client_env(tmp_path / "client"),
    )
    assert bytes.fromhex(result) == data == hub_multipart.read_file(REPO, "big.bin")
    puts = [r.path for r in hub_multipart.requests if r.route == "lfs_put"]
    assert sorted(p.rsplit("/", 1)[1] for p in puts) == ["1", "2", "3", "4"]
    assert hub_multipart.count("lfs_complete") == 1


# --------------------------------------------------------------------------------------------------
# Tampering: served bytes change, recorded checksums do not


def test_tampered_files_are_served_and_checksums_catch_them(
    hub_server: hub.HubServer, hub_env: dict[str, str], tmp_path: Path
) -> None:
    files = write_release(tmp_path / "release", list(range(10)))
    shard, manifest, blob = "data/vqa/train-00000-of-00001.parquet", "MANIFEST.json", "extras/raw.dat"
    commit = raw_push(hub_server, REPO, files, lfs={p for p in files if p.endswith((".parquet", ".dat"))})
    corrupted = bytearray(files[shard])
    corrupted[len(corrupted) // 2] ^= 0xFF  # same size: only a checksum can tell
    hub_server.tamper_file(REPO, shard, bytes(corrupted))
    hub_server.tamper_file(REPO, manifest, files[manifest].replace(b"sha256", b"SHA256"))
    hub_server.tamper_file(REPO, blob, files[blob] + b"trailing garbage")  # LFS size is recorded: noticed
    result = hub.run_client(
        with_checksums(
            f"""
        import hashlib
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        local = {{p: hashlib.sha256(open(hf_hub_download({REPO!r}, p, repo_type="dataset", revision={commit!r},
                                                         local_dir="copy"), "rb").read()).hexdigest()
                 for p in [{shard!r}, {manifest!r}]}}
        remote = {{p.path: p.lfs["sha256"] if p.lfs else p.blob_id
                  for p in api.get_paths_info({REPO!r}, [{shard!r}, {manifest!r}], repo_type="dataset")}}
        mismatches, _ = checksum_mismatches(api, {REPO!r}, "copy", revision={commit!r})
        try:
            hf_hub_download({REPO!r}, {blob!r}, repo_type="dataset", revision={commit!r})
            blob = "downloaded"
        except Exception as error:
            blob = str(error)
        emit({{"local": local, "remote": remote, "mismatches": mismatches,
              "blob": blob}})
        """
        ),
        hub_env,
    )
    tampered_manifest = files[manifest].replace(b"sha256", b"SHA256")
    assert result["local"] == {shard: sha256(bytes(corrupted)), manifest: sha256(tampered_manifest)}
    assert result["remote"] == {shard: sha256(files[shard]), manifest: hub.git_blob_oid(files[manifest])}
    assert result["mismatches"] == [manifest, shard]
    assert "Consistency check failed" in result["blob"]
    assert hub_server.files(REPO)[shard].lfs_sha256 == sha256(files[shard])  # the record is untouched
