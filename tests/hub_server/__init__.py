"""A local stand-in for the Hugging Face Hub's HTTP protocol, for tests of the upload path. TEST ONLY.

No server that accepts Hub writes runs offline, so the tests of `push`, tag, verify and pinned loading
talk to this one. It is small but real: every commit is a git commit object whose oid is the SHA-1 git
would compute (over real tree and blob objects, LFS files stored as pointer blobs), refs are real
branches and tags, LFS objects are checked against their sha256 on upload, and file bytes live on disk.
So client code under test can fail for the reasons it would fail against huggingface.co.

Implemented (the legacy, non-Xet protocol: clients must run with ``HF_HUB_DISABLE_XET=1``):
  POST   /api/repos/create, DELETE /api/repos/delete           create (public/private, 409 if present), delete
  GET    /api/{type}s/{repo}[/revision/{rev}]                  repo info: sha, siblings (sizes and LFS with
                                                                ``blobs=true``), cardData from README YAML, expand
  GET    /api/{type}s/{repo}/tree/{rev}[/{path}]               recursive and expand (lastCommit), paginated
  POST   /api/{type}s/{repo}/paths-info/{rev}                  form ``paths=...&expand=...``
  POST   /api/{type}s/{repo}/preupload/{rev}                   lfs or regular like the Hub: .gitattributes
                                                                patterns, >= 10 MiB, or a NUL byte in the sample
  POST   /api/{type}s/{repo}/commit/{rev}                      ndjson: file, lfsFile, deletedFile,
                                                                deletedFolder; parentCommit (412 if stale)
  GET    /api/{type}s/{repo}/commits/{rev}, /refs              history (paginated) and refs
  POST/DELETE /api/{type}s/{repo}/tag/{rev|tag}                tags (409 if the tag exists)
  POST/DELETE /api/{type}s/{repo}/branch/{branch}              branches (409 if present, ``startingPoint``)
  POST   /{prefix}{repo}.git/info/lfs/objects/batch            basic and multipart transfer; objects already
                                                                in the repo get no actions (resumed uploads)
  POST   /{prefix}{repo}.git/info/lfs/objects/verify           verify action
  PUT    /__lfs/{upload}[/{part}], POST /__lfs/{upload}        the "presigned" upload URLs the batch hands out
  HEAD/GET /{prefix}{repo}/resolve/{rev}/{path}                ETag, X-Repo-Commit, Range; LFS files answer
                                                                302 with X-Linked-Etag/X-Linked-Size to a
                                                                "CDN" on another host name (``localhost``)
  HEAD/GET /__cdn/{sha256}?sig=...                             signed content URLs, with Range
  POST   /api/validate-yaml, GET /api/whoami-v2
Errors carry the Hub's ``X-Error-Code`` (RepoNotFound, RevisionNotFound, EntryNotFound) and
``X-Error-Message`` headers, so huggingface_hub raises the same exception types as against the Hub.

Pull requests: a commit with ``create_pr=1`` goes on a new ref ``refs/pr/N`` on top of the branch, which
stays where it was, and answers a ``pullRequestUrl`` ending in ``/discussions/N``; ``refs/pr/N`` resolves
as a revision and ``/refs?include_prs=1`` lists it. Merging, comments and the discussion API are not
implemented.

Deliberately not implemented: Xet storage, CommitOperationCopy between
repos (``lfs-files/duplicate``), .gitignore (``shouldIgnore`` is always false), gated repos, LFS
download batches, settings, discussions, Spaces runtime, the dataset viewer (``datasets-server``) and
the Parquet conversion refs. Requests to anything else are answered 404 and logged with route
``"unknown"``, so a test can assert that the client used only what is implemented here.
Any namespace is writable by any user with a known token (``tokens``); private repos are invisible
without one. Pass a token the server does not know and every request is answered 401, like the Hub.

Test hooks: ``inject_fault`` (HTTP error, with headers such as ``Retry-After``, or dropped connection on
the Nth request to a route), ``tamper_file`` (serve other bytes under the same recorded oid/sha256, like
corrupted storage), ``corrupt_next_upload`` (the next commit of a path stores damaged bytes, recorded
with their own sha256), ``move_tag`` (point a tag at another commit), ``inject_concurrent_commit``
(another writer commits to a branch just before the Nth commit request), ``inject_concurrent_tag`` (another
writer creates a tag just before the Nth tag request),
``requests`` (what the client called), ``head``/``read_file`` (state read without HTTP).

Using it: ``HF_ENDPOINT`` is read when huggingface_hub/datasets are imported, so client code runs in a
subprocess whose environment is set before those imports: ``run_client(code, server.client_env(home))``,
while the server runs in a thread of the test process (``hub_server`` fixture).

Layout: ``git`` (oids, LFS pointers, .gitattributes), ``state`` (repos, commits, faults),
``protocol`` (requests, answers, Hub errors), ``core`` (shared plumbing), ``handlers/`` (one module per
endpoint family: ``repos``, ``browse``, ``download``, ``commit``, ``refs``, ``lfs``, ``misc``),
``transport`` (the HTTP request handler), ``server`` (``HubServer``: routes, lifecycle, test hooks),
``client`` (``run_client``, ``fast_backoff``) and ``fixtures`` (``hub_server``, ``hub_env``).
"""

from __future__ import annotations

from .client import RETRIES_DROPPED_CONNECTIONS, ClientError, fast_backoff, run_client
from .fixtures import hub_env, hub_server, hub_server_fixture
from .git import (
    DEFAULT_GITATTRIBUTES,
    git_blob_oid,
    git_commit_message,
    git_commit_oid,
    git_tree_oids,
    is_lfs_by_gitattributes,
    lfs_pointer,
)
from .server import ROUTES, HubServer
from .state import TEST_TOKEN, TEST_USER, Fault, RequestRecord
from .transport import _Handler as _Handler  # benchmarks patch its methods

__all__ = [
    "DEFAULT_GITATTRIBUTES",
    "RETRIES_DROPPED_CONNECTIONS",
    "ROUTES",
    "TEST_TOKEN",
    "TEST_USER",
    "ClientError",
    "Fault",
    "HubServer",
    "RequestRecord",
    "fast_backoff",
    "git_blob_oid",
    "git_commit_message",
    "git_commit_oid",
    "git_tree_oids",
    "hub_env",
    "hub_server",
    "hub_server_fixture",
    "is_lfs_by_gitattributes",
    "lfs_pointer",
    "run_client",
]
